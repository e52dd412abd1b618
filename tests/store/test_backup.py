"""Backups at the store level: online snapshots, the folder, checks, restoring in place."""

from __future__ import annotations

import stat
import threading
import time
from pathlib import Path

import pytest

from omni.errors import InvalidInputError
from omni.store import backup, migrations
from omni.store import providers as providers_repo
from omni.store import settings as settings_repo
from omni.store import usage as usage_repo
from omni.store.db import Database, open_database
from omni.store.driver import sqlite
from omni.store.usage import UsageRecord


def _record(n: int) -> UsageRecord:
    return UsageRecord(
        ts=time.time(), request_id=f"r{n}", endpoint="/v1/chat", client_dialect="openai", status=200
    )


def _integrity(path: Path) -> str:
    conn = sqlite.connect(str(path))
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def _usage_count(path: Path) -> int:
    conn = sqlite.connect(str(path))
    try:
        return int(conn.execute("SELECT COUNT(*) FROM usage_log").fetchone()[0])
    finally:
        conn.close()


def test_snapshot_under_concurrent_writes_opens_and_passes_integrity_check(
    tmp_path: Path,
) -> None:
    db = open_database(tmp_path / "data" / "omni.sqlite")
    stop = threading.Event()
    written: list[int] = []
    started = threading.Event()

    def writer() -> None:
        conn = db.connect()
        n = 0
        try:
            while not stop.is_set():
                usage_repo.insert_many(conn, [_record(n + i) for i in range(20)])
                n += 20
                written.append(n)
                started.set()
        finally:
            conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert started.wait(10)
        infos = [backup.create_backup(db, "manual") for _ in range(5)]
    finally:
        stop.set()
        thread.join()
    counts = []
    for info in infos:
        assert _integrity(info.path) == "ok"
        assert backup.check_candidate(_copy(info.path, tmp_path)) == migrations.LATEST
        counts.append(_usage_count(info.path))
        assert counts[-1] % 20 == 0  # whole transactions only
    assert counts == sorted(counts) and counts[-1] <= written[-1]
    assert written[-1] > counts[0]  # the writer really ran alongside


def _copy(path: Path, tmp_path: Path) -> Path:
    target = tmp_path / f"check-{path.name}"
    target.write_bytes(path.read_bytes())
    return target


def test_backup_files_are_private_named_and_pruned(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    made = [backup.create_backup(db, "manual", keep=3) for _ in range(5)]
    folder = backup.backup_dir(db)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    listed = backup.list_backups(folder)
    assert [b.name for b in listed] == [m.name for m in made[-3:]][::-1]
    for info in listed:
        assert stat.S_IMODE(info.path.stat().st_mode) == 0o600
        assert info.reason == "manual" and info.schema_version == migrations.LATEST
        assert info.name.startswith("omni-") and info.name.endswith(".sqlite")
        # One self-contained file: no WAL next to it, and it opens in rollback mode.
        assert not Path(f"{info.path}-wal").exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted(b.name for b in listed)
    with pytest.raises(InvalidInputError, match="invalid backup reason"):
        backup.create_backup(db, "../evil")


def _old_database(path: Path, upto: int) -> Database:
    """A database as an older omni left it: only the first ``upto`` migrations."""
    db = Database(path)
    with db.session() as conn:
        migrations.applied_ids(conn)
        for migration in migrations.MIGRATIONS[:upto]:
            for statement in migrations._statements(str(migration.sql)):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, '')",
                (migration.id, migration.name),
            )
        providers_repo.upsert_provider(
            conn, "old", catalog_id=None, format="openai", base_url="http://x"
        )
    return db


def test_migrating_an_existing_database_backs_it_up_first_throttled(tmp_path: Path) -> None:
    path = tmp_path / "data" / "omni.sqlite"
    path.parent.mkdir()
    _old_database(path, 2)
    db = open_database(path)
    (made,) = backup.list_backups(backup.backup_dir(db))
    assert made.reason == "pre-migration" and made.schema_version == 2
    conn = sqlite.connect(str(made.path))
    assert [r[0] for r in conn.execute("SELECT id FROM providers")] == ["old"]
    conn.close()

    # Another migration within the hour: automatic backups are throttled.
    path2 = tmp_path / "data" / "second.sqlite"
    _old_database(path2, 1)
    open_database(path2)
    assert len(backup.list_backups(backup.backup_dir(db))) == 1
    # A manual backup is never throttled, and after the interval an automatic one is made.
    assert backup.create_backup(db, "manual").reason == "manual"
    later = backup.auto_backup(db, "auto", now=time.time() + 3601)
    assert later is not None and later.reason == "auto"


def test_new_or_current_databases_are_not_backed_up_on_open(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    open_database(db.path)
    assert backup.list_backups(backup.backup_dir(db)) == []


def test_automatic_backups_can_be_turned_off(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    with db.session() as conn:
        settings_repo.set_setting(conn, backup.SETTING_AUTO, False)
    assert backup.auto_backup(db, "pre-migration") is None


def test_check_candidate_refuses_what_is_not_a_sound_omni_database(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    good = tmp_path / "good.sqlite"
    backup.snapshot(db, good)
    assert backup.check_candidate(good) == migrations.LATEST

    def refused(data: bytes, match: str) -> None:
        path = tmp_path / "candidate.sqlite"
        path.write_bytes(data)
        with pytest.raises(InvalidInputError, match=match):
            backup.check_candidate(path)

    raw = good.read_bytes()
    refused(b"", "empty")
    refused(b"hello, this is a text file" * 10, "not a SQLite database")
    refused(raw[: len(raw) // 2], "truncated")
    refused(raw[:60], "truncated")

    foreign = tmp_path / "foreign.sqlite"
    conn = sqlite.connect(str(foreign))
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('not omni')")
    conn.commit()
    conn.close()
    refused(foreign.read_bytes(), "not an omni database")

    conn = sqlite.connect(str(foreign))
    conn.execute("CREATE TABLE schema_migrations (version TEXT PRIMARY KEY)")
    conn.commit()
    conn.close()
    refused(foreign.read_bytes(), "schema_migrations table is another's")

    def altered(sql: str) -> bytes:
        path = tmp_path / "altered.sqlite"
        path.write_bytes(raw)
        conn = sqlite.connect(str(path))
        conn.execute(sql)
        conn.commit()
        conn.close()
        return path.read_bytes()

    refused(
        altered(f"INSERT INTO schema_migrations VALUES ({migrations.LATEST + 1}, 'm_future', '')"),
        f"schema version {migrations.LATEST + 1}, newer",
    )
    refused(altered("UPDATE schema_migrations SET name = 'other' WHERE id = 1"), "unknown")
    refused(altered("DROP TABLE combos"), "tables missing: combos")


def test_restore_into_a_live_database_with_open_connections(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    with db.session() as conn:
        providers_repo.upsert_provider(conn, "a", catalog_id=None, format="openai", base_url=None)
    saved = backup.create_backup(db, "manual")
    watcher = db.connect()  # like the gateway's long-lived connection
    writer = db.connect()  # like the usage writer's
    try:
        with db.session() as conn:
            providers_repo.delete_provider(conn, "a")
            providers_repo.upsert_provider(
                conn, "b", catalog_id=None, format="openai", base_url=None
            )
        assert [p.id for p in providers_repo.list_providers(watcher)] == ["b"]
        copy = _copy(saved.path, tmp_path)
        backup.restore_into(db, copy)
        assert [p.id for p in providers_repo.list_providers(watcher)] == ["a"]
        usage_repo.insert_many(writer, [_record(1)])  # the writer keeps working
        assert usage_repo.count(watcher) == 1
        assert watcher.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert watcher.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        watcher.close()
        writer.close()


def test_restore_adapts_a_different_page_size(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    other = Database(tmp_path / "other.sqlite")
    conn = sqlite.connect(str(other.path), isolation_level=None)
    conn.execute("PRAGMA page_size = 1024")
    migrations.migrate(conn)
    providers_repo.upsert_provider(conn, "small", catalog_id=None, format="openai", base_url=None)
    conn.close()
    backup.restore_into(db, other.path)
    with db.session() as conn:
        assert [p.id for p in providers_repo.list_providers(conn)] == ["small"]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_scrub_removes_secrets_from_a_copy_only(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    with db.session() as conn:
        providers_repo.upsert_provider(conn, "p", catalog_id=None, format="openai", base_url=None)
        providers_repo.upsert_account(
            conn, "p", "a", auth_type="api_key", secret="enc:v1:SECRETVALUE", secret_env=None,
            base_url=None,
        )  # fmt: skip
        db.set_meta(conn, "secret_key_check", "enc:v1:CHECKVALUE")
        settings_repo.set_setting(conn, "password_hash", "scrypt$HASHVALUE")
    copy = tmp_path / "copy.sqlite"
    backup.snapshot(db, copy)
    cleared = backup.scrub_secrets(copy)
    assert "accounts.secret" in cleared and "accounts.secret_env" not in cleared
    data = copy.read_bytes()
    for text in (b"SECRETVALUE", b"CHECKVALUE", b"HASHVALUE"):
        assert text not in data
    with db.session() as conn:  # the live database keeps them
        assert providers_repo.list_accounts(conn, "p")[0].secret == "enc:v1:SECRETVALUE"
