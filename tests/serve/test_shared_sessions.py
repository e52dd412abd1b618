"""Admin login sessions are shared by every server process on one data folder: a login at
one is good at another and after a restart, a logout at one ends it everywhere, expired
sessions are refused and purged, and no backup or export brings a session back."""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omni.admin.access import SESSION_RECHECK_S, SESSION_TTL_S, key_digest
from omni.admin.token import read_admin_token
from omni.config import Settings
from omni.serve import keys
from omni.store import login_sessions
from omni.store.db import Database
from omni.store.driver import sqlite

PASSWORD = "correct horse battery"


async def _servers(make_client: Callable[..., Any], count: int = 2) -> list[Any]:
    """``count`` omni apps on the same data folder, as the workers of one server are."""
    return [await make_client(initial_password=PASSWORD) for _ in range(count)]


async def _login(client: Any) -> str:
    response = await client.post("/api/auth/login", json={"password": PASSWORD})
    assert response.status == 200, await response.text()
    token: str = (await response.json())["token"]
    client.session.cookie_jar.clear()  # every call below says which credential it sends
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"auth_token={token}"}


def _later(client: Any, seconds: float) -> None:
    """Let ``seconds`` pass for this server's session checks."""
    client.app[keys.ACCESS].sessions.clock = lambda: time.time() + seconds


def _stored(settings: Settings) -> list[login_sessions.SessionRow]:
    with Database(settings.paths.database).session() as conn:
        return login_sessions.list_sessions(conn)


async def test_a_login_at_one_server_is_good_at_another_and_after_a_restart(
    make_client: Callable[..., Any], settings: Settings
) -> None:
    a, b = await _servers(make_client)
    token = await _login(a)
    for headers in (_bearer(token), _cookie(token)):
        assert (await b.get("/api/providers", headers=headers)).status == 200
    status = await (await b.get("/api/auth/status", headers=_cookie(token))).json()
    assert status["authenticated"] is True and status["method"] == "session"
    (restarted,) = await _servers(make_client, 1)
    assert (await restarted.get("/api/combos", headers=_bearer(token))).status == 200

    # The store holds the session's hash and expiry, never the token.
    [row] = _stored(settings)
    assert row.token_hash == key_digest(token).hex() and row.ip == "127.0.0.1"
    assert row.expires_at > time.time() + SESSION_TTL_S - 60
    database = settings.paths.database
    raw = b"".join(
        p.read_bytes() for p in (database, database.with_name("omni.sqlite-wal")) if p.exists()
    )
    assert token.encode() not in raw


async def test_a_logout_at_one_server_is_refused_at_every_other(
    make_client: Callable[..., Any], settings: Settings
) -> None:
    a, b, c = await _servers(make_client, 3)
    token = await _login(a)
    assert (await b.get("/api/providers", headers=_bearer(token))).status == 200  # b knows it
    out = await a.post("/api/auth/logout", headers=_cookie(token))
    assert (await out.json())["ended"] is True
    assert _stored(settings) == []
    assert (await a.get("/api/providers", headers=_bearer(token))).status == 401
    assert (await c.get("/api/providers", headers=_cookie(token))).status == 401, "never seen"
    _later(b, SESSION_RECHECK_S)  # b's cached answer is confirmed within a second
    for headers in (_bearer(token), _cookie(token)):
        refused = await b.get("/api/providers", headers=headers)
        assert refused.status == 401
        assert (await refused.json())["error"]["code"] == "admin_auth_required"
    again = await b.post("/api/auth/logout", headers=_cookie(token))
    assert (await again.json())["ended"] is False


async def test_an_expired_session_is_refused_and_purged(
    make_client: Callable[..., Any], settings: Settings
) -> None:
    a, b = await _servers(make_client)
    old = await _login(a)
    assert (await b.get("/api/providers", headers=_bearer(old))).status == 200
    for server in (a, b):
        _later(server, SESSION_TTL_S + 1)
        assert (await server.get("/api/providers", headers=_bearer(old))).status == 401
    new = await _login(b)  # a login a week later clears the expired rows
    assert [r.token_hash for r in _stored(settings)] == [key_digest(new).hex()]
    assert (await a.get("/api/providers", headers=_bearer(new))).status == 200


async def test_backups_neither_export_nor_bring_back_sessions(
    make_client: Callable[..., Any], settings: Settings, tmp_path: Path
) -> None:
    a, b = await _servers(make_client)
    admin = {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}
    ended = await _login(a)
    made = await (await a.put("/api/db-backups", headers=admin)).json()
    await a.post("/api/auth/logout", headers=_cookie(ended))
    kept = await _login(a)

    restored = await b.post("/api/db-backups", json={"name": made["name"]}, headers=admin)
    assert restored.status == 200, await restored.text()
    for server in (a, b):
        _later(server, SESSION_RECHECK_S)
        assert (await server.get("/api/providers", headers=_bearer(ended))).status == 401
        assert (await server.get("/api/providers", headers=_bearer(kept))).status == 200
    assert [r.token_hash for r in _stored(settings)] == [key_digest(kept).hex()]

    export = await a.get("/api/db-backups/exportAll", headers=admin)
    assert export.status == 200
    with tarfile.open(fileobj=io.BytesIO(await export.read()), mode="r:gz") as archive:
        member = archive.extractfile("omni.sqlite")
        assert member is not None
        (tmp_path / "full.sqlite").write_bytes(member.read())
    conn = sqlite.connect(str(tmp_path / "full.sqlite"))
    try:
        assert conn.execute("SELECT COUNT(*) FROM login_sessions").fetchone() == (0,)
    finally:
        conn.close()
