"""The one place that picks the SQLite driver.

sqlite-vec is a loadable extension, and many CPython builds (pyenv's among them) ship a
``sqlite3`` module without ``enable_load_extension``. So omni prefers ``sqlean.py`` (a
drop-in ``sqlite3`` with a current SQLite that can load extensions), then the standard
library when it can load extensions, then ``pysqlite3``; the rest of the code imports
``sqlite`` from here and never ``sqlite3`` directly.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any


def _pick() -> tuple[ModuleType, bool]:
    try:
        import sqlean

        return sqlean, True
    except ImportError:
        pass
    import sqlite3

    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3, True
    try:
        import pysqlite3.dbapi2 as pysqlite  # type: ignore[import-not-found]

        return pysqlite, True
    except ImportError:
        return sqlite3, False


sqlite, CAN_LOAD_EXTENSIONS = _pick()
"""The DB-API module in use and whether it can load extensions such as sqlite-vec."""

Connection = Any
"""A connection of :data:`sqlite` (typed loosely: the drivers ship no stubs)."""

Error: type[Exception] = sqlite.Error
IntegrityError: type[Exception] = sqlite.IntegrityError
DatabaseError: type[Exception] = sqlite.DatabaseError


def driver_name() -> str:
    """Which driver is in use and the SQLite version it links, for ``omni doctor``."""
    return f"{sqlite.__name__} (SQLite {sqlite.sqlite_version})"
