"""Database backups: online snapshots, the backup folder, checking a file, restoring it.

Snapshots use SQLite's online backup API, so they are consistent while the server serves
and writes (WAL readers never block writers). Backups live in ``<data dir>/backups/`` as
``omni-YYYYmmdd-HHMMSS[-reason].sqlite`` (folder 0700, files 0600, single-file journal
mode so a backup is one self-contained file); the newest :data:`KEEP_DEFAULT` are kept.

Restoring copies a checked file *into* the live database file with the same backup API
(source: the file, target: a connection to the live database). That works while other
connections (the gateway's, the usage writer's) stay open: they see the restored content
on their next statement, and the schema cookie changes so none keeps a stale schema.

:func:`check_candidate` decides whether a file may replace the live data: a real SQLite
file, not truncated, passing ``PRAGMA integrity_check``, with omni's own migrations table
holding only migrations this omni knows and the tables those migrations create.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from omni.errors import InvalidInputError, StoreError
from omni.store import migrations
from omni.store.db import Database
from omni.store.driver import Connection, DatabaseError, Error, sqlite

BACKUP_DIR = "backups"
KEEP_DEFAULT = 20
AUTO_INTERVAL_MIN_DEFAULT = 60
AUTOMATIC_REASONS = frozenset({"pre-migration", "auto"})
"""Reasons of backups omni makes on its own; these are throttled (see :func:`auto_backup`)."""

# Settings (in the ``settings`` table) that tune backups; the admin layer validates them.
SETTING_AUTO = "auto_backup"
SETTING_KEEP = "backup_keep"
SETTING_INTERVAL = "auto_backup_interval_min"

_HEADER = b"SQLite format 3\x00"
_REASON = re.compile(r"^[a-z]+(?:-[a-z]+)*$")
_NAME = re.compile(r"^omni-(\d{8})-(\d{6})(?:-([a-z]+(?:-[a-z]+)*))?(?:-(\d+))?\.sqlite$")
_CREATE_TABLE = re.compile(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class BackupInfo:
    """One backup file in the folder."""

    name: str
    path: Path
    size: int
    created: str  # ISO 8601, UTC, from the name
    reason: str | None
    schema_version: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "created": self.created,
            "reason": self.reason,
            "schema_version": self.schema_version,
        }


def backup_dir(db: Database) -> Path:
    """The backup folder of ``db`` (next to the database file)."""
    return db.path.parent / BACKUP_DIR


def is_backup_name(name: str) -> bool:
    """Whether ``name`` is a backup file name omni writes (never a path)."""
    return bool(_NAME.match(name))


def _private_dir(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    return folder


def private_temp(folder: Path, suffix: str = ".sqlite") -> Path:
    """A new empty 0600 file in ``folder`` (hidden from listings: it starts with a dot)."""
    _private_dir(folder)
    path = folder / f".tmp-{os.urandom(6).hex()}{suffix}"
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return path


def remove_db_file(path: Path) -> None:
    """Delete a database file and its journal companions, if present."""
    for extra in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{extra}").unlink()


@contextlib.contextmanager
def temp_copy_path(folder: Path) -> Iterator[Path]:
    """A private temporary database path in ``folder``, removed afterwards."""
    path = private_temp(folder)
    try:
        yield path
    finally:
        remove_db_file(path)


def _connect_file(path: Path) -> Connection:
    return sqlite.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10.0)


def snapshot(db: Database, target: Path) -> None:
    """Write a consistent copy of the live database to ``target`` (0600, one file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f".{target.name}.part")
    remove_db_file(part)
    os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        with db.session() as live:
            copy = _connect_file(part)
            try:
                live.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")
            finally:
                copy.close()
        os.chmod(part, 0o600)
        os.replace(part, target)
    except Error as exc:
        remove_db_file(part)
        raise StoreError(f"cannot write a snapshot of the database: {exc}") from None
    except BaseException:
        remove_db_file(part)
        raise


def _new_path(folder: Path, reason: str | None, now: float) -> Path:
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d-%H%M%S")
    base = f"omni-{stamp}" + (f"-{reason}" if reason else "")
    path, number = folder / f"{base}.sqlite", 2
    while path.exists():
        path, number = folder / f"{base}-{number}.sqlite", number + 1
    return path


def schema_version(path: Path) -> int | None:
    """The newest migration applied in the database file at ``path`` (None if unreadable)."""
    try:
        conn = sqlite.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except Error:
        return None
    try:
        row = conn.execute("SELECT MAX(id) FROM schema_migrations").fetchone()
        return None if row is None or row[0] is None else int(row[0])
    except Error:
        return None
    finally:
        conn.close()


def _info(path: Path) -> BackupInfo | None:
    match = _NAME.match(path.name)
    if match is None or not path.is_file():
        return None
    day, clock, reason, _ = match.groups()
    created = datetime.strptime(day + clock, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    return BackupInfo(
        name=path.name,
        path=path,
        size=path.stat().st_size,
        created=created.isoformat(),
        reason=reason,
        schema_version=schema_version(path),
    )


def list_backups(folder: Path) -> list[BackupInfo]:
    """Backups in ``folder``, newest first."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if _NAME.match(p.name) and p.is_file()]
    found.sort(key=lambda p: (_stamp(p.name), p.stat().st_mtime_ns), reverse=True)
    return [info for p in found if (info := _info(p)) is not None]


def _stamp(name: str) -> str:
    match = _NAME.match(name)
    return "".join(match.groups()[:2]) if match else ""


def prune(folder: Path, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` backups; return the names removed."""
    removed = []
    for info in list_backups(folder)[max(keep, 1) :]:
        with contextlib.suppress(FileNotFoundError):
            info.path.unlink()
        removed.append(info.name)
    return removed


def create_backup(db: Database, reason: str | None, keep: int | None = None) -> BackupInfo:
    """Snapshot ``db`` into its backup folder and keep the newest ``keep`` backups."""
    if reason is not None and not _REASON.match(reason):
        raise InvalidInputError(f"invalid backup reason {reason!r}: use lower-case words and '-'")
    folder = _private_dir(backup_dir(db))
    target = _new_path(folder, reason, time.time())
    snapshot(db, target)
    prune(folder, keep if keep is not None else backup_settings(db)[1])
    info = _info(target)
    assert info is not None
    return info


def backup_settings(db: Database) -> tuple[bool, int, int]:
    """(automatic backups on, how many to keep, minutes between automatic ones)."""
    values: dict[str, Any] = {}
    with contextlib.suppress(Error), db.session() as conn:
        rows = conn.execute(
            "SELECT key, value FROM settings WHERE key IN (?, ?, ?)",
            (SETTING_AUTO, SETTING_KEEP, SETTING_INTERVAL),
        ).fetchall()
        values = {r[0]: json.loads(r[1]) for r in rows}
    return (
        bool(values.get(SETTING_AUTO, True)),
        int(values.get(SETTING_KEEP, KEEP_DEFAULT)),
        int(values.get(SETTING_INTERVAL, AUTO_INTERVAL_MIN_DEFAULT)),
    )


def auto_backup(db: Database, reason: str = "auto", now: float | None = None) -> BackupInfo | None:
    """An automatic backup, unless turned off or one was made within the interval."""
    enabled, keep, interval_min = backup_settings(db)
    if not enabled:
        return None
    now = time.time() if now is None else now
    for info in list_backups(backup_dir(db)):
        if info.reason in AUTOMATIC_REASONS:
            made = datetime.fromisoformat(info.created).timestamp()
            if now - made < interval_min * 60:
                return None
            break
    return create_backup(db, reason, keep)


# -- checking a file before it may replace the live database ------------------------------


def _check_header(path: Path) -> None:
    size = path.stat().st_size
    with path.open("rb") as handle:
        header = handle.read(100)
    if size == 0:
        raise InvalidInputError("the file is empty")
    if not header.startswith(_HEADER):
        raise InvalidInputError("the file is not a SQLite database (wrong file header)")
    if len(header) < 100:
        raise InvalidInputError(f"the file is truncated: only {size} bytes")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid = header[24:28] == header[92:96]  # the in-header size is trustworthy
    if valid and pages and size < page_size * pages:
        raise InvalidInputError(
            f"the file is truncated: {size} bytes of the {page_size * pages} its header announces"
        )


def _required_tables(applied: set[int]) -> set[str]:
    tables: set[str] = set()
    for migration in migrations.MIGRATIONS:
        if migration.id in applied and isinstance(migration.sql, str):
            tables.update(_CREATE_TABLE.findall(migration.sql))
    return tables


def check_candidate(path: Path) -> int:
    """Refuse (InvalidInputError) anything but a sound omni database; return its schema
    version. Opens ``path`` read-write only to read it: pass a private copy."""
    _check_header(path)
    conn = _connect_file(path)
    try:
        try:
            problems = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
            tables = {
                str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        except DatabaseError as exc:
            raise InvalidInputError(
                f"the file cannot be read as a SQLite database: {exc}"
            ) from None
        if problems != ["ok"]:
            raise InvalidInputError(
                "the file fails SQLite's integrity check: " + "; ".join(problems[:3])
            )
        if "schema_migrations" not in tables:
            raise InvalidInputError(
                "the file is not an omni database (it has no schema_migrations table)"
            )
        columns = {str(r[1]) for r in conn.execute("PRAGMA table_info(schema_migrations)")}
        if not {"id", "name"} <= columns:
            raise InvalidInputError(
                "the file is not an omni database (its schema_migrations table is another's)"
            )
        rows = conn.execute("SELECT id, name FROM schema_migrations").fetchall()
        applied = {int(r[0]): str(r[1]) for r in rows}
    finally:
        conn.close()
    if not applied:
        raise InvalidInputError("the file is not an omni database (no migrations applied)")
    newest = max(applied)
    if newest > migrations.LATEST:
        raise InvalidInputError(
            f"the file has schema version {newest}, newer than this omni knows "
            f"({migrations.LATEST})",
            hint="upgrade omni first, then import it",
        )
    known = {m.id: m.name for m in migrations.MIGRATIONS}
    strange = sorted(f"{i} {n!r}" for i, n in applied.items() if known.get(i) != n)
    if strange:
        raise InvalidInputError(
            "the file is not an omni database (unknown migrations: " + ", ".join(strange) + ")"
        )
    if any(m.id <= newest and m.id not in applied for m in migrations.MIGRATIONS):
        raise InvalidInputError("the file is not a complete omni database (migrations missing)")
    missing = sorted(_required_tables(set(applied)) - tables)
    if missing:
        raise InvalidInputError(
            "the file is not a complete omni database (tables missing: " + ", ".join(missing) + ")"
        )
    return newest


def copy_file(source: Path, target: Path, chunk: int = 1 << 20) -> None:
    """Copy the bytes of ``source`` into the (existing, private) file ``target``."""
    with source.open("rb") as reader, target.open("r+b") as writer:
        writer.truncate(0)
        while block := reader.read(chunk):
            writer.write(block)


def migrate_file(path: Path) -> list[str]:
    """Bring the (private, checked) database file at ``path`` to the current schema."""
    conn = _connect_file(path)
    try:
        return migrations.migrate(conn)
    finally:
        conn.close()


def single_file(path: Path) -> None:
    """Switch the database file at ``path`` to a rollback journal: one self-contained file."""
    conn = _connect_file(path)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()


def read_meta(path: Path, key: str) -> str | None:
    """A ``meta`` value of the database file at ``path``."""
    conn = _connect_file(path)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])
    finally:
        conn.close()


def restore_into(db: Database, source: Path) -> None:
    """Replace the live database's content with the database file ``source`` (a private,
    checked copy: its page size may be changed to match). Other connections stay open."""
    try:
        with db.session() as live:
            live_page = int(live.execute("PRAGMA page_size").fetchone()[0])
            src = _connect_file(source)
            try:
                if int(src.execute("PRAGMA page_size").fetchone()[0]) != live_page:
                    # A WAL database only accepts a backup of its own page size.
                    src.execute("PRAGMA journal_mode = DELETE")
                    src.execute(f"PRAGMA page_size = {live_page}")
                    src.execute("VACUUM")
                src.backup(live)
            finally:
                src.close()
            live.execute("PRAGMA journal_mode = WAL")
    except Error as exc:
        raise StoreError(f"cannot restore the database: {exc}") from None


_AUDIT_COLUMNS = "ts, actor, action, target, ip, outcome, detail"


def audit_since(db: Database, copy: Path) -> list[tuple[Any, ...]]:
    """Audit rows of the live database newer than the newest in the file ``copy``: the
    audit trail outlives a restore, so these are written back after it."""
    conn = _connect_file(copy)
    try:
        row = conn.execute("SELECT MAX(ts) FROM audit_log").fetchone()
    except Error:
        row = None
    finally:
        conn.close()
    newest = "" if row is None or row[0] is None else str(row[0])
    with db.session() as live:
        return [
            tuple(r)
            for r in live.execute(
                f"SELECT {_AUDIT_COLUMNS} FROM audit_log WHERE ts > ? ORDER BY id",  # noqa: S608
                (newest,),
            )
        ]


def append_audit(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Write audit rows kept from before a restore (see :func:`audit_since`)."""
    conn.executemany(
        f"INSERT INTO audit_log ({_AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
        rows,
    )


_SECRET_COLUMN = re.compile(r"(secret|token|password|hash|credential|api_?key)", re.IGNORECASE)


_LIVE_TABLES = ("login_sessions",)


def scrub_secrets(path: Path) -> list[str]:
    """Remove every secret from the database copy at ``path`` (never the live one): columns
    named like secrets are nulled (or masked when they may not be null), login sessions and
    secret-looking settings and meta rows deleted, free pages wiped. Returns the columns
    cleared."""
    conn = _connect_file(path)
    cleared: list[str] = []
    try:
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("BEGIN IMMEDIATE")
        tables = [
            str(r[0])
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in tables:
            for column in conn.execute(f'PRAGMA table_info("{table}")').fetchall():
                name, notnull, pk = str(column[1]), bool(column[3]), bool(column[5])
                if pk or name.endswith("_env") or not _SECRET_COLUMN.search(name):
                    continue
                value = "'redacted-' || rowid" if notnull else "NULL"
                conn.execute(f'UPDATE "{table}" SET "{name}" = {value}')  # noqa: S608
                cleared.append(f"{table}.{name}")
        for table in _LIVE_TABLES:
            if table in tables:  # live state, no configuration: nothing to export
                conn.execute(f'DELETE FROM "{table}"')  # noqa: S608
        for table in ("settings", "meta"):
            if table in tables:
                for (key,) in conn.execute(f"SELECT key FROM {table}").fetchall():  # noqa: S608
                    if _SECRET_COLUMN.search(str(key)):
                        conn.execute(f"DELETE FROM {table} WHERE key = ?", (key,))  # noqa: S608
        conn.execute("COMMIT")
        conn.execute("VACUUM")
    finally:
        conn.close()
    return cleared


def table_rows(path: Path, table: str) -> list[dict[str, Any]] | None:
    """Every row of ``table`` in the database file at ``path`` (None if no such table)."""
    conn = _connect_file(path)
    conn.row_factory = sqlite.Row
    try:
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        if exists is None:
            return None
        return [dict(r) for r in conn.execute(f'SELECT * FROM "{table}"')]  # noqa: S608
    finally:
        conn.close()
