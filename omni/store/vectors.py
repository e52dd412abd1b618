"""sqlite-vec: vector tables and nearest-neighbour queries inside the omni database.

Used by the semantic cache. Loading needs a driver that can load extensions (see
:mod:`omni.store.driver`); :func:`load_vec` says clearly when it cannot.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from omni.errors import StoreError
from omni.store.driver import CAN_LOAD_EXTENSIONS, Connection


def load_vec(conn: Connection) -> str:
    """Load sqlite-vec into ``conn`` and return its version."""
    if not CAN_LOAD_EXTENSIONS:
        raise StoreError(
            "this Python's SQLite cannot load extensions, so sqlite-vec is unavailable",
            hint="install the 'sqlean.py' package into omni's environment",
        )
    import sqlite_vec

    conn.enable_load_extension(True)
    try:
        sqlite_vec.load(conn)
    finally:
        conn.enable_load_extension(False)
    version: str = conn.execute("SELECT vec_version()").fetchone()[0]
    return version


def pack(vector: Sequence[float]) -> bytes:
    """A float vector in sqlite-vec's compact float32 form."""
    return struct.pack(f"<{len(vector)}f", *vector)


def create_table(conn: Connection, name: str, dimensions: int) -> None:
    """Create a vec0 virtual table ``name`` with one ``embedding`` column if missing."""
    if not name.isidentifier():
        raise StoreError(f"invalid vector table name {name!r}")
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {name} USING vec0(embedding float[{int(dimensions)}])"
    )


def nearest(
    conn: Connection, table: str, vector: Sequence[float], k: int
) -> list[tuple[int, float]]:
    """The ``k`` rows nearest to ``vector``: ``(rowid, distance)``, closest first."""
    if not table.isidentifier():
        raise StoreError(f"invalid vector table name {table!r}")
    rows = conn.execute(
        f"SELECT rowid, distance FROM {table} WHERE embedding MATCH ? AND k = ? "  # noqa: S608
        "ORDER BY distance",
        (pack(vector), k),
    ).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]
