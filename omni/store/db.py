"""Opening the omni database: one file in the data dir, WAL mode, migrated on open.

:class:`Database` hands out configured connections; each thread or task that needs one
opens its own (SQLite connections are cheap and not shared across threads). The file is
created private to the user.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from omni.errors import StoreError
from omni.paths import ensure_dir
from omni.store import migrations
from omni.store.driver import Connection, Error, sqlite


class Database:
    """The SQLite database at ``path``: connections, migrations, the config version."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def connect(self) -> Connection:
        """A new connection in WAL mode with foreign keys on and a busy timeout."""
        try:
            conn = sqlite.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=10.0
            )
            conn.row_factory = sqlite.Row
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 10000")
        except Error as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}") from None
        return conn

    @contextmanager
    def session(self) -> Iterator[Connection]:
        """A connection for one unit of work, closed afterwards."""
        conn = self.connect()
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside ``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error)."""
        with self.session() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def migrate(self) -> list[str]:
        """Bring the schema up to date; returns the names of the migrations applied."""
        with self.session() as conn:
            return migrations.migrate(conn)

    def config_version(self, conn: Connection) -> int:
        """A number that changes whenever providers, accounts or models change."""
        row = conn.execute("SELECT value FROM meta WHERE key = 'config_version'").fetchone()
        return int(row[0]) if row else 0

    def get_meta(self, conn: Connection, key: str) -> str | None:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, conn: Connection, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def open_database(path: Path) -> Database:
    """Create the data folder and database file if needed (0600) and migrate it.

    Before migrating a database that already holds data, a backup is taken (automatic
    backups are throttled; see :func:`omni.store.backup.auto_backup`).
    """
    ensure_dir(path.parent)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
    db = Database(path)
    try:
        with db.session() as conn:
            upgrade = bool(migrations.applied_ids(conn)) and bool(migrations.pending(conn))
        if upgrade:
            from omni.store.backup import auto_backup

            auto_backup(db, "pre-migration")
        db.migrate()
    except Error as exc:
        raise StoreError(f"cannot prepare the database {path}: {exc}") from None
    return db
