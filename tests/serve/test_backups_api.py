"""The backups admin API: list, create, restore, export, import and the full export."""

from __future__ import annotations

import asyncio
import io
import tarfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from omni.admin.token import read_admin_token
from omni.config import Settings
from omni.store import audit, migrations
from omni.store import usage as usage_repo
from omni.store.db import Database
from omni.store.driver import sqlite
from omni.store.usage import UsageRecord

KEY = "sk-alpha-KNOWN-4b1d9e77c2"


def _auth(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}


async def _chat(client: Any, model: str) -> int:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    response = await client.post("/v1/chat/completions", json=body)
    await response.read()
    return int(response.status)


async def _state(client: Any, auth: dict[str, str]) -> dict[str, Any]:
    state = {}
    for path in (
        "/api/providers",
        "/api/combos",
        "/api/settings",
        "/api/settings/ip-filter",
        "/api/settings/thinking-budget",
        "/api/settings/system-prompt",
    ):
        response = await client.get(path, headers=auth)
        assert response.status == 200, path
        state[path] = await response.json()
    return state


async def _start(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any]
) -> Any:
    await asyncio.to_thread(
        add_provider, "alpha", base_url=f"{upstream.url}/v1", api_key=KEY, models=["m1"],
        sync_models=False,
    )  # fmt: skip
    return await make_client()


async def test_restore_brings_back_exactly_the_backed_up_state_and_routes_by_it(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any],
    settings: Settings,
) -> None:  # fmt: skip
    client = await _start(upstream, add_provider, make_client)
    auth = _auth(settings)
    for method, path, body in [
        ("POST", "/api/combos", {"name": "duo", "steps": ["alpha/m1"]}),
        ("PUT", "/api/settings", {"backup_keep": 7}),
        ("PUT", "/api/settings/system-prompt", {"enabled": True, "prompt": "be brief"}),
        ("PUT", "/api/settings/thinking-budget", {"mode": "custom", "budget": 2048}),
    ]:
        response = await client.request(method, path, json=body, headers=auth)
        assert response.status in (200, 201), await response.text()
    before = await _state(client, auth)
    assert await _chat(client, "alpha/m1") == 200

    response = await client.put("/api/db-backups", headers=auth)
    assert response.status == 201
    made = await response.json()
    assert made["reason"] == "manual" and made["schema_version"] == migrations.LATEST

    # Change everything the backup holds.
    for method, path, body in [
        ("DELETE", "/api/combos/duo", None),
        ("DELETE", "/api/providers/alpha", None),
        ("POST", "/api/providers", {"name": "beta", "base_url": f"{upstream.url}/v1",
                                    "models": ["m1"], "sync_models": False}),
        ("POST", "/api/combos", {"name": "duo", "steps": ["beta/m1"], "strategy": "p2c"}),
        ("PUT", "/api/settings", {"backup_keep": 9, "auto_backup": False}),
        ("PUT", "/api/settings/system-prompt", {"enabled": False}),
        ("PUT", "/api/settings/ip-filter", {"mode": "deny", "deny": ["203.0.113.0/24"]}),
    ]:  # fmt: skip
        response = await client.request(method, path, json=body, headers=auth)
        assert response.status in (200, 201), (path, await response.text())
    assert await _state(client, auth) != before
    assert (await _chat(client, "alpha/m1"), await _chat(client, "beta/m1")) == (404, 200)

    response = await client.post("/api/db-backups", json={"name": made["name"]}, headers=auth)
    assert response.status == 200, await response.text()
    restored = await response.json()
    assert restored["restored"] == made["name"]

    # Exactly the backed-up state, and the running server routes by it at once.
    assert await _state(client, auth) == before
    assert (await _chat(client, "alpha/m1"), await _chat(client, "beta/m1")) == (200, 404)
    assert upstream.last.headers["Authorization"] == f"Bearer {KEY}"

    listed = (await (await client.get("/api/db-backups", headers=auth)).json())["backups"]
    names = [b["name"] for b in listed]
    assert restored["backup_before"] in names and made["name"] in names
    assert next(b for b in listed if b["name"] == restored["backup_before"])["reason"] == (
        "pre-restore"
    )
    with Database(settings.paths.database).session() as conn:
        actions = [e.action for e in audit.entries(conn)]
    assert actions[0] == "backup.restore"  # written into the restored database
    assert "backup.create" in actions

    # The pre-restore backup undoes the restore.
    response = await client.post(
        "/api/db-backups", json={"name": restored["backup_before"]}, headers=auth
    )
    assert response.status == 200
    assert (await _chat(client, "alpha/m1"), await _chat(client, "beta/m1")) == (404, 200)


async def test_restore_refuses_bad_names(
    make_client: Callable[..., Any], settings: Settings
) -> None:
    client = await make_client()
    auth = _auth(settings)
    for body, status, text in [
        ({"name": "../omni.sqlite"}, 400, "is not a backup name"),
        ({"name": "omni-20200101-000000.sqlite"}, 404, "no backup named"),
        ({"backupId": "omni-20200101-000000.sqlite"}, 404, "no backup named"),  # OmniRoute's
        ({}, 400, "field 'name' is required"),
        ({"name": 3}, 400, "must be a str"),
    ]:
        response = await client.post("/api/db-backups", json=body, headers=auth)
        assert response.status == status, body
        assert text in (await response.json())["error"]["message"]


async def _export(client: Any, auth: dict[str, str]) -> bytes:
    response = await client.get("/api/db-backups/export", headers=auth)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/vnd.sqlite3"
    assert 'attachment; filename="omni-export-' in response.headers["Content-Disposition"]
    return bytes(await response.read())


def _foreign_db(path: Path) -> bytes:
    conn = sqlite.connect(str(path))
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.commit()
    conn.close()
    return path.read_bytes()


def _newer_db(path: Path, data: bytes) -> bytes:
    path.write_bytes(data)
    conn = sqlite.connect(str(path))
    conn.execute(
        "INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, 'm_future', '')",
        (migrations.LATEST + 1,),
    )
    conn.commit()
    conn.close()
    return path.read_bytes()


async def test_import_refuses_truncated_foreign_and_newer_files_leaving_data_alone(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any],
    settings: Settings, tmp_path: Path,
) -> None:  # fmt: skip
    client = await _start(upstream, add_provider, make_client)
    auth = _auth(settings)
    exported = await _export(client, auth)
    before = await _state(client, auth)
    cases = [
        (exported[: len(exported) // 2], "truncated"),
        (exported[:1000], "truncated"),
        (_foreign_db(tmp_path / "other-app.sqlite"), "not an omni database"),
        (_newer_db(tmp_path / "newer.sqlite", exported), "newer than this omni knows"),
        (b"PK\x03\x04 a zip file, not a database" * 50, "not a SQLite database"),
        (b"", "the upload is empty"),
    ]
    for data, reason in cases:
        response = await client.post(
            "/api/db-backups/import",
            data=data,
            headers={**auth, "Content-Type": "application/x-sqlite3"},
        )
        assert response.status == 400, reason
        message = (await response.json())["error"]["message"]
        assert reason in message, message
        assert await _state(client, auth) == before
        assert await _chat(client, "alpha/m1") == 200
    listed = (await (await client.get("/api/db-backups", headers=auth)).json())["backups"]
    assert listed == []  # nothing was replaced, so no pre-import backup either
    with Database(settings.paths.database).session() as conn:
        failed = [e for e in audit.entries(conn) if e.action == "backup.import"]
    assert len(failed) == 5 and all(e.outcome == "failed" for e in failed)


def _downgrade(path: Path, reference: Path, to: int) -> None:
    """Make the database at ``path`` look written by an omni whose newest migration is
    ``to``: drop every table, index, trigger and column later migrations added."""
    ref = sqlite.connect(str(reference), isolation_level=None)
    for migration in migrations.MIGRATIONS:
        if migration.id <= to and isinstance(migration.sql, str):
            for statement in migrations._statements(migration.sql):
                ref.execute(statement)
    kept = {(r[0], r[1]) for r in ref.execute("SELECT type, name FROM sqlite_master")}
    columns = {t: _columns(ref, t) for kind, t in kept if kind == "table"}
    ref.close()
    conn = sqlite.connect(str(path), isolation_level=None)
    rows = conn.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
    for kind, name in sorted(rows.fetchall(), key=lambda r: r[0] != "trigger"):
        if (kind, name) not in kept and name != "schema_migrations":
            conn.execute(f"DROP {kind.upper()} IF EXISTS {name}")
    for table, wanted in columns.items():
        for column in _columns(conn, table) - wanted:
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.execute("DELETE FROM schema_migrations WHERE id > ?", (to,))
    conn.close()


def _columns(conn: Any, table: str) -> set[str]:
    return {str(r[1]) for r in conn.execute(f"PRAGMA table_info({table})")}


async def test_import_replaces_data_raw_or_multipart_and_migrates_older_schemas(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any],
    settings: Settings, tmp_path: Path,
) -> None:  # fmt: skip
    client = await _start(upstream, add_provider, make_client)
    auth = _auth(settings)
    exported = await _export(client, auth)
    await client.delete("/api/providers/alpha", headers=auth)
    assert await _chat(client, "alpha/m1") == 404

    response = await client.post(
        "/api/db-backups/import?name=mine.sqlite", data=exported, headers=auth
    )
    assert response.status == 200, await response.text()
    result = await response.json()
    assert result["imported"] == "mine.sqlite" and result["migrated"] == []
    assert await _chat(client, "alpha/m1") == 200

    # Multipart, from an older omni (schema 2): migrated after import.
    old = tmp_path / "old.sqlite"
    old.write_bytes(exported)
    _downgrade(old, tmp_path / "reference.sqlite", to=2)
    conn = sqlite.connect(str(old))
    conn.execute(
        "INSERT INTO combos (name, strategy, steps, created_at, updated_at) "
        "VALUES ('legacy', 'priority', '[\"alpha/m1\"]', '', '')"
    )
    conn.commit()
    conn.close()
    assert await _chat(client, "legacy") == 404
    form = aiohttp.FormData()
    form.add_field("file", old.read_bytes(), filename="old.sqlite")
    response = await client.post("/api/db-backups/import", data=form, headers=auth)
    assert response.status == 200, await response.text()
    result = await response.json()
    assert (result["imported"], result["schema_version"]) == ("old.sqlite", 2)
    assert result["migrated"] == [m.name for m in migrations.MIGRATIONS if m.id > 2]
    assert await _chat(client, "legacy") == 200
    with Database(settings.paths.database).session() as conn:
        assert max(migrations.applied_ids(conn)) == migrations.LATEST
        assert next(e.action for e in audit.entries(conn)) == "backup.import"


async def test_backup_and_restore_while_usage_rows_are_written(
    make_client: Callable[..., Any], settings: Settings, tmp_path: Path
) -> None:
    client = await make_client()
    auth = _auth(settings)
    stop = threading.Event()
    rows = [0]

    def writer() -> None:
        conn = Database(settings.paths.database).connect()
        try:
            while not stop.is_set():
                records = [
                    UsageRecord(time.time(), f"r{rows[0] + i}", "/v1/chat", "openai", status=200)
                    for i in range(50)
                ]
                usage_repo.insert_many(conn, records)
                rows[0] += 50
        finally:
            conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        made = [await (await client.put("/api/db-backups", headers=auth)).json() for _ in range(3)]
        exported = await _export(client, auth)
        response = await client.post(
            "/api/db-backups", json={"name": made[0]["name"]}, headers=auth
        )
        assert response.status == 200, await response.text()
        restored_at = rows[0]
    finally:
        stop.set()
        thread.join()
    folder = settings.paths.data_dir / "backups"
    exported_path = tmp_path / "exported.sqlite"
    exported_path.write_bytes(exported)
    for path in [*(folder / m["name"] for m in made), exported_path]:
        conn = sqlite.connect(str(path))
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM usage_log").fetchone()[0] % 50 == 0
        conn.close()
    # The live database took the restore and the writes around it without damage.
    with Database(settings.paths.database).session() as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert usage_repo.count(conn) % 50 == 0
    assert rows[0] >= restored_at > 0


async def test_export_all_holds_no_secret(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any],
    settings: Settings, tmp_path: Path,
) -> None:  # fmt: skip
    client = await _start(upstream, add_provider, make_client)
    auth = _auth(settings)
    await client.post("/api/combos", json={"name": "duo", "steps": ["alpha/m1"]}, headers=auth)
    await client.put("/api/settings", json={"backup_keep": 5}, headers=auth)
    response = await client.get("/api/db-backups/exportAll", headers=auth)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/gzip"
    data = await response.read()
    assert KEY.encode() not in data
    members: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            handle = archive.extractfile(member)
            assert handle is not None
            members[member.name] = handle.read()
    assert set(members) >= {
        "omni.sqlite", "settings.json", "combos.json", "providers.json", "metadata.json"
    }  # fmt: skip
    with Database(settings.paths.database).session() as conn:
        sealed = [str(r[0]) for r in conn.execute("SELECT secret FROM accounts")]
        check = conn.execute("SELECT value FROM meta WHERE key = 'secret_key_check'").fetchone()
    assert sealed[0].startswith("enc:v1:") and check is not None
    for name, content in members.items():
        assert KEY.encode() not in content, name
        for text in (*sealed, str(check[0])):  # not even the encrypted forms
            assert text.encode() not in content, name
    import json

    meta = json.loads(members["metadata.json"])
    assert meta["schema_version"] == migrations.LATEST and meta["secrets"] == "removed"
    assert [c["name"] for c in json.loads(members["combos.json"])] == ["duo"]
    assert [p["id"] for p in json.loads(members["providers.json"])] == ["alpha"]
    assert json.loads(members["settings.json"])["backup_keep"] == 5
    db_path = tmp_path / "full.sqlite"
    db_path.write_bytes(members["omni.sqlite"])
    conn = sqlite.connect(str(db_path))
    assert conn.execute("SELECT secret FROM accounts").fetchall() == [(None,)]
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    # The live database still has its (encrypted) key and still routes.
    assert await _chat(client, "alpha/m1") == 200


async def test_backup_routes_need_the_admin_token(make_client: Callable[..., Any]) -> None:
    client = await make_client()
    for method, path in [
        ("GET", "/api/db-backups"),
        ("PUT", "/api/db-backups"),
        ("POST", "/api/db-backups"),
        ("GET", "/api/db-backups/export"),
        ("POST", "/api/db-backups/import"),
        ("GET", "/api/db-backups/exportAll"),
    ]:
        response = await client.request(method, path)
        assert response.status == 401, (method, path)


async def test_import_refuses_secrets_sealed_with_another_key_but_takes_a_full_export(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any],
    settings: Settings, tmp_path: Path,
) -> None:  # fmt: skip
    from omni.store.db import open_database
    from omni.store.secrets import load_secret_box

    elsewhere = open_database(tmp_path / "elsewhere" / "omni.sqlite")
    load_secret_box(elsewhere, tmp_path / "elsewhere" / "secret.key")  # its own key
    sealed_elsewhere = tmp_path / "elsewhere.sqlite"
    from omni.store.backup import snapshot

    snapshot(elsewhere, sealed_elsewhere)

    client = await _start(upstream, add_provider, make_client)
    auth = _auth(settings)
    response = await client.post(
        "/api/db-backups/import", data=sealed_elsewhere.read_bytes(), headers=auth
    )
    assert response.status == 400
    message = (await response.json())["error"]["message"]
    assert "another installation's secret key" in message and "secret.key" in message
    assert await _chat(client, "alpha/m1") == 200

    # The database of a full export carries no secrets, so it imports anywhere.
    archive = await (await client.get("/api/db-backups/exportAll", headers=auth)).read()
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        handle = tar.extractfile("omni.sqlite")
        assert handle is not None
        scrubbed = handle.read()
    response = await client.post("/api/db-backups/import", data=scrubbed, headers=auth)
    assert response.status == 200, await response.text()
    providers = (await (await client.get("/api/providers", headers=auth)).json())["providers"]
    assert [p["id"] for p in providers] == ["alpha"]
