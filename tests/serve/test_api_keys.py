"""Local API keys through the real HTTP API: created once, enforced on the client API in
each caller's dialect, revoked at once, never stored or logged in plain text."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from omni.admin.token import read_admin_token
from omni.config import Settings
from omni.serve import keys as app_keys
from omni.store import api_keys as keys_repo
from omni.store.db import Database
from tests.serve.conftest import usage_rows

CHAT = {"model": "fake/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {**CHAT, "max_tokens": 16}
GEMINI = "/v1beta/models/fake/gpt-4o-mini:generateContent"
GEMINI_BODY = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


def _admin(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def _create(client: Any, settings: Settings, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/keys", json={"name": "ci", **body}, headers=_admin(settings))
    assert response.status == 201, await response.text()
    created: dict[str, Any] = await response.json()
    return created


async def test_a_key_created_through_the_api_unlocks_the_client_api(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway(require_api_key=True)
    created = await _create(client, settings)
    key = created["key"]
    assert key.startswith("sk-") and len(key) > 40
    assert created["prefix"] == key[:11] and created["scopes"] == ["chat"]

    assert (
        await client.post("/v1/chat/completions", json=CHAT, headers=_bearer(key))
    ).status == 200
    anthropic = await client.post("/v1/messages", json=MESSAGES, headers={"x-api-key": key})
    assert anthropic.status == 200
    gemini = await client.post(GEMINI, json=GEMINI_BODY, headers={"x-goog-api-key": key})
    assert gemini.status == 200
    assert (await client.post(f"{GEMINI}?key={key}", json=GEMINI_BODY)).status == 200
    ollama = {**CHAT, "stream": False}
    assert (await client.post("/api/chat", json=ollama, headers=_bearer(key))).status == 200
    assert (await client.get("/v1/models", headers=_bearer(key))).status == 200

    # The key is shown once: never in a listing or a detail view.
    listed = await client.get("/api/keys", headers=_admin(settings))
    shown = await client.get(f"/api/keys/{created['id']}", headers=_admin(settings))
    for response in (listed, shown):
        text = await response.text()
        assert key not in text and key[11:] not in text
    rows = await usage_rows(client, settings)
    assert rows and all(r["api_key_id"] == created["id"] for r in rows)
    detail = await (await client.get(f"/api/keys/{created['id']}", headers=_admin(settings))).json()
    assert detail["last_used_at"] is not None


async def test_missing_or_wrong_keys_get_401_in_each_dialect(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway(require_api_key=True)
    await _create(client, settings)
    for headers in ({}, _bearer("sk-wrongwrongwrongwrongwrongwrongwrongwrong")):
        openai = await client.post("/v1/chat/completions", json=CHAT, headers=headers)
        assert openai.status == 401
        error = (await openai.json())["error"]
        assert error["type"] == "authentication_error"
        assert error["code"] in ("missing_api_key", "invalid_api_key")
        assert "API key" in error["message"]

        anthropic = await client.post("/v1/messages", json=MESSAGES, headers=headers)
        assert anthropic.status == 401
        body = await anthropic.json()
        assert body["type"] == "error" and body["error"]["type"] == "authentication_error"

        gemini = await client.post(GEMINI, json=GEMINI_BODY, headers=headers)
        assert gemini.status == 401
        assert (await gemini.json())["error"]["status"] == "UNAUTHENTICATED"

        ollama = await client.post("/api/chat", json=CHAT, headers=headers)
        assert ollama.status == 401 and "API key" in (await ollama.json())["error"]
    # Health stays open; the management API keeps its own check.
    assert (await client.get("/api/monitoring/health")).status == 200


async def test_revoked_disabled_and_expired_keys_are_refused(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway(require_api_key=True)
    created = await _create(client, settings)
    key, path = created["key"], f"/api/keys/{created['id']}"
    assert (
        await client.post("/v1/chat/completions", json=CHAT, headers=_bearer(key))
    ).status == 200

    off = await client.patch(path, json={"enabled": False}, headers=_admin(settings))
    assert (await off.json())["status"] == "disabled"
    refused = await client.post("/v1/chat/completions", json=CHAT, headers=_bearer(key))
    assert refused.status == 401 and "disabled" in (await refused.json())["error"]["message"]
    await client.put(path, json={"enabled": True}, headers=_admin(settings))

    # Expiry in the past (written straight to the store, as if time had passed).
    with Database(settings.paths.database).session() as conn:
        row = keys_repo.get_key(conn, created["id"])
        assert row is not None
        keys_repo.update_key(
            conn, row.id, name=row.name, scopes=row.scopes, models=row.models,
            expires_at="2020-01-01T00:00:00+00:00", enabled=True,
        )  # fmt: skip
    assert client.app[app_keys.GATEWAY].reload_if_changed()  # what the watcher does
    expired = await client.post("/v1/chat/completions", json=CHAT, headers=_bearer(key))
    assert expired.status == 401 and "expired" in (await expired.json())["error"]["message"]
    await client.patch(path, json={"expires_at": "never"}, headers=_admin(settings))
    assert (
        await client.post("/v1/chat/completions", json=CHAT, headers=_bearer(key))
    ).status == 200

    revoked = await client.delete(path, headers=_admin(settings))
    assert revoked.status == 200 and (await revoked.json())["status"] == "revoked"
    after = await client.post("/v1/chat/completions", json=CHAT, headers=_bearer(key))
    assert after.status == 401
    assert (await after.json())["error"]["code"] == "api_key_revoked"
    again = await client.patch(path, json={"enabled": True}, headers=_admin(settings))
    assert again.status == 409


async def test_model_allowlist_and_scopes(
    gateway: Callable[..., Any], settings: Settings, add_provider: Callable[..., Any]
) -> None:
    client = await gateway(require_api_key=True)
    limited = (await _create(client, settings, models=["fake/gpt-4o-mini"]))["key"]
    pattern = (await _create(client, settings, name="glob", models=["fake/*"]))["key"]
    ok = await client.post("/v1/chat/completions", json=CHAT, headers=_bearer(limited))
    assert ok.status == 200
    other = {**CHAT, "model": "fake/gpt-4o"}
    denied = await client.post("/v1/chat/completions", json=other, headers=_bearer(limited))
    assert denied.status == 403
    error = (await denied.json())["error"]
    assert error["code"] == "model_not_allowed" and "fake/gpt-4o" in error["message"]
    gemini = "/v1beta/models/fake/gpt-4o:generateContent"
    refused = await client.post(gemini, json=GEMINI_BODY, headers={"x-goog-api-key": limited})
    assert refused.status == 403
    assert (await refused.json())["error"]["status"] == "PERMISSION_DENIED"
    assert (await client.post("/v1/chat/completions", json=other, headers=_bearer(pattern))).ok

    # A combo is allowed when every target it resolves to is.
    await client.post(
        "/api/combos", json={"name": "duo", "steps": ["fake/gpt-4o"]}, headers=_admin(settings)
    )
    combo = {**CHAT, "model": "duo"}
    assert (await client.post("/v1/chat/completions", json=combo, headers=_bearer(pattern))).ok

    admin_only = (await _create(client, settings, name="ops", scopes=["admin"]))["key"]
    scoped = await client.post("/v1/chat/completions", json=CHAT, headers=_bearer(admin_only))
    assert scoped.status == 403 and (await scoped.json())["error"]["code"] == "scope_missing"
    # An admin-scoped key works on the management API, a chat key does not.
    assert (await client.get("/api/providers", headers=_bearer(admin_only))).status == 200
    assert (await client.get("/api/providers", headers={"x-api-key": admin_only})).status == 200
    assert (await client.get("/api/providers", headers=_bearer(limited))).status == 401


async def test_keys_are_optional_until_required(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway()
    assert (await client.post("/v1/chat/completions", json=CHAT)).status == 200
    toggle = await client.put(
        "/api/settings/require-api-key", json={"requireApiKey": True}, headers=_admin(settings)
    )
    assert (await toggle.json()) == {"requireApiKey": True, "setting": True, "config": False}
    assert (await client.post("/v1/chat/completions", json=CHAT)).status == 401
    key = (await _create(client, settings))["key"]
    assert (await client.post("/v1/chat/completions", json=CHAT, headers=_bearer(key))).ok
    await client.put(
        "/api/settings/require-api-key", json={"requireApiKey": False}, headers=_admin(settings)
    )
    assert (await client.post("/v1/chat/completions", json=CHAT)).status == 200


async def test_bad_key_requests_are_400_or_404(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway()
    admin = _admin(settings)
    for body, needle in [
        ({}, "'name' is required"),
        ({"name": ""}, "name of 1 to 64"),
        ({"name": "x", "scopes": ["root"]}, "unknown scope 'root'"),
        ({"name": "x", "scopes": []}, "non-empty list"),
        ({"name": "x", "models": [1]}, "list of strings"),
        ({"name": "x", "expires_at": "tomorrow"}, "neither a duration"),
        ({"name": "x", "expires_at": "2001-01-01"}, "in the past"),
        ({"name": "x", "key": "sk-mine"}, "unknown field 'key'"),
    ]:
        response = await client.post("/api/keys", json=body, headers=admin)
        assert response.status == 400, body
        assert needle in (await response.json())["error"]["message"]
    for path in ("/api/keys/99", "/api/keys/abc"):
        assert (await client.get(path, headers=admin)).status == 404
    assert (await client.patch("/api/keys/99", json={"name": "n"}, headers=admin)).status == 404
    created = await _create(client, settings)
    empty = await client.patch(f"/api/keys/{created['id']}", json={}, headers=admin)
    assert empty.status == 400


async def test_the_key_is_never_stored_or_logged_in_plain_text(
    gateway: Callable[..., Any],
    settings: Settings,
    omni_home: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = await gateway(require_api_key=True)
    key = (await _create(client, settings))["key"]
    for _ in range(3):
        await client.post("/v1/chat/completions", json=CHAT, headers=_bearer(key))
    await client.post("/v1/chat/completions", json=CHAT, headers=_bearer(key + "x"))
    await usage_rows(client, settings)
    secret = key.encode()
    leaks = [str(p) for p in omni_home.rglob("*") if p.is_file() and secret in p.read_bytes()]
    assert leaks == []
    assert key not in caplog.text and key[11:] not in caplog.text


async def test_allowlist_reads_the_model_from_a_multipart_form(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway(require_api_key=True)
    key = (await _create(client, settings, models=["fake/*"]))["key"]

    def form(model: str) -> aiohttp.FormData:
        data = aiohttp.FormData()
        data.add_field("model", model)
        data.add_field("file", b"RIFF0000", filename="clip.txt")
        return data

    path = "/v1/audio/transcriptions"
    denied = await client.post(path, data=form("other/whisper-1"), headers=_bearer(key))
    assert denied.status == 403
    # Allowed: the handler still reads the whole form after the check (and judges the file).
    allowed = await client.post(path, data=form("fake/whisper-1"), headers=_bearer(key))
    assert allowed.status == 400
    assert "unsupported audio file type '.txt'" in (await allowed.json())["error"]["message"]
