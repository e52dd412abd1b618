"""Admin login through the HTTP API: cookie sessions, lockout, the require-login rule, and
the audit log that records all of it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from omni.admin.access import anonymous_allowed, is_loopback, normalize_ip
from omni.admin.token import read_admin_token
from omni.config import Settings

PASSWORD = "correct horse battery"


def _admin(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}


async def _audit(client: Any, settings: Settings, action: str = "") -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/compliance/audit-log?action={action}&limit=100", headers=_admin(settings)
    )
    assert response.status == 200
    entries: list[dict[str, Any]] = (await response.json())["entries"]
    return entries


async def test_login_sets_a_cookie_session_that_logout_ends(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway(initial_password=PASSWORD)
    assert (await client.get("/api/providers")).status == 401
    status = await (await client.get("/api/auth/status")).json()
    assert status["authenticated"] is False and status["passwordSet"] is True

    response = await client.post("/api/auth/login", json={"password": PASSWORD})
    assert response.status == 200
    cookie = response.cookies["auth_token"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    token = (await response.json())["token"]
    assert cookie.value == token

    # The test client keeps the cookie like a browser does.
    assert (await client.get("/api/providers")).status == 200
    status = await (await client.get("/api/auth/status")).json()
    assert status["authenticated"] is True and status["method"] == "session"
    # The same token works as a Bearer token for non-browser clients.
    client.session.cookie_jar.clear()
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/combos", headers=bearer)).status == 200

    client.session.cookie_jar.update_cookies({"auth_token": token})
    out = await client.post("/api/auth/logout")
    assert (await out.json())["ended"] is True
    assert (await client.get("/api/providers")).status == 401
    assert (await client.get("/api/combos", headers=bearer)).status == 401

    actions = [(e["action"], e["outcome"], e["actor"]) for e in await _audit(client, settings)]
    assert ("login", "ok", "admin") in actions and ("logout", "ok", "admin") in actions
    # INITIAL_PASSWORD is now stored as a slow hash, never as given.
    raw = settings.paths.database.read_bytes() + (
        settings.paths.database.with_name("omni.sqlite-wal").read_bytes()
        if settings.paths.database.with_name("omni.sqlite-wal").exists()
        else b""
    )
    assert PASSWORD.encode() not in raw and b"scrypt$" in raw


async def test_six_wrong_passwords_lock_the_address_out(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway(initial_password=PASSWORD)
    for attempt in range(1, 6):
        response = await client.post("/api/auth/login", json={"password": f"wrong-{attempt}"})
        assert response.status == 401, attempt
        assert "wrong password" in (await response.json())["error"]["message"]
    # The sixth attempt is refused even with the right password.
    locked = await client.post("/api/auth/login", json={"password": PASSWORD})
    assert locked.status == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert "too many failed logins" in (await locked.json())["error"]["message"]
    assert "auth_token" not in locked.cookies

    logins = [(e["outcome"], e["ip"]) for e in await _audit(client, settings, "login")]
    assert logins == [("locked", "127.0.0.1")] + [("failed", "127.0.0.1")] * 5

    policies = await (await client.get("/api/policies", headers=_admin(settings))).json()
    [lockout] = policies["lockouts"]
    assert lockout["ip"] == "127.0.0.1" and lockout["locked"] and lockout["failures"] == 5

    unlocked = await client.delete("/api/policies/127.0.0.1", headers=_admin(settings))
    assert unlocked.status == 200
    assert (await client.delete("/api/policies/127.0.0.1", headers=_admin(settings))).status == 404
    assert (await client.post("/api/auth/login", json={"password": PASSWORD})).status == 200
    assert (await _audit(client, settings, "lockout."))[0]["target"] == "127.0.0.1"


async def test_password_is_set_through_the_management_api(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway()
    none_yet = await client.post("/api/auth/login", json={"password": PASSWORD})
    assert none_yet.status == 401
    assert "no admin password is set" in (await none_yet.json())["error"]["message"]
    assert (await client.post("/api/auth/password", json={"password": PASSWORD})).status == 401
    short = await client.post(
        "/api/auth/password", json={"password": "x"}, headers=_admin(settings)
    )
    assert short.status == 400
    done = await client.post(
        "/api/auth/password", json={"password": PASSWORD}, headers=_admin(settings)
    )
    assert done.status == 200
    login = await client.post("/api/auth/login", json={"password": PASSWORD})
    assert login.status == 200
    # A logged-in session must give the current password to change it.
    change = await client.post("/api/auth/password", json={"password": "another password"})
    assert change.status == 400 and "current" in (await change.json())["error"]["message"]
    wrong = {"password": "another password", "current": "nope"}
    assert (await client.post("/api/auth/password", json=wrong)).status == 401
    right = {"password": "another password", "current": PASSWORD}
    assert (await client.post("/api/auth/password", json=right)).status == 200
    assert [e["action"] for e in await _audit(client, settings, "password.")] == [
        "password.set",
        "password.set",
    ]


async def test_require_login_toggle_opens_loopback_only(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway()
    assert (await client.get("/api/providers")).status == 401, "login required by default"
    view = await (await client.get("/api/settings/require-login", headers=_admin(settings))).json()
    assert view["requireLogin"] is True
    off = await client.put(
        "/api/settings/require-login", json={"requireLogin": False}, headers=_admin(settings)
    )
    assert (await off.json())["anonymousLoopback"] is True
    # The test client connects from 127.0.0.1 to a server configured for 127.0.0.1.
    assert (await client.get("/api/providers")).status == 200
    assert (await client.get("/api/auth/status")).status == 200
    changed = await _audit(client, settings, "settings.require_login")
    assert changed[0]["detail"]["to"] is False and changed[0]["ip"] == "127.0.0.1"
    bad = await client.put("/api/settings/require-login", json={"requireLogin": "no"})
    assert bad.status == 400


async def test_a_network_listener_refuses_anonymous_management_calls(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    # The app believes it listens on every address (the test client still binds loopback).
    client = await gateway(host="0.0.0.0")  # only the setting: nothing binds it
    admin = _admin(settings)
    off = await client.put(
        "/api/settings/require-login", json={"requireLogin": False}, headers=admin
    )
    assert (await off.json())["anonymousLoopback"] is False
    assert (await client.get("/api/providers")).status == 401
    assert (await client.get("/api/providers", headers=admin)).status == 200
    assert (await client.get("/api/monitoring/health")).status == 200
    assert (
        await client.post("/v1/chat/completions", json={"model": "fake/gpt-4o", "messages": []})
    ).ok


@pytest.mark.parametrize(
    ("require_login", "bind", "peer", "allowed"),
    [
        (False, "127.0.0.1", "127.0.0.1", True),
        (False, "localhost", "::1", True),
        (False, "::1", "::ffff:127.0.0.1", True),
        (True, "127.0.0.1", "127.0.0.1", False),
        (False, "127.0.0.1", "192.168.1.5", False),
        (False, "0.0.0.0", "127.0.0.1", False),
        (False, "::", "::1", False),
        (False, "", "127.0.0.1", False),
        (False, "192.168.1.2", "127.0.0.1", False),
        (False, "myhost.lan", "127.0.0.1", False),
        (False, "127.0.0.1", None, False),
    ],
)
def test_anonymous_rule(require_login: bool, bind: str, peer: str | None, allowed: bool) -> None:
    assert anonymous_allowed(require_login, bind, peer) is allowed


def test_addresses_are_normalized() -> None:
    assert normalize_ip("::ffff:10.1.2.3") == "10.1.2.3"
    assert normalize_ip("::1") == "::1"
    assert normalize_ip(None) is None
    assert is_loopback("127.8.9.10") and is_loopback("[::1]") and not is_loopback("10.0.0.1")
