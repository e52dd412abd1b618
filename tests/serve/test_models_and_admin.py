"""GET /v1/models, health, and the admin API behind the local token."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from omni.admin.token import read_admin_token
from omni.config import Settings
from omni.serve import keys


async def test_models_lists_synced_and_catalog_models(
    gateway: Callable[..., Any], add_provider: Callable[..., Any]
) -> None:
    await asyncio.to_thread(add_provider, "groq", api_key="gsk-x", sync_models=False)
    client = await gateway()
    for path in ("/v1/models", "/models", "/v1/v1/models"):
        data = await (await client.get(path)).json()
        ids = {m["id"] for m in data["data"]}
        assert data["object"] == "list"
        assert {"fake/gpt-4o-mini", "fake/gpt-4o"} <= ids, "synced from the upstream's /models"
        assert "groq/llama-3.3-70b-versatile" in ids, "catalog models of a configured provider"
    one = await client.get("/v1/models/fake/gpt-4o-mini")
    assert (await one.json())["id"] == "fake/gpt-4o-mini"
    missing = await client.get("/v1/models/fake/nope")
    assert missing.status == 404
    assert (await missing.json())["error"]["code"] == "model_not_found"


async def test_health_needs_no_token(gateway: Callable[..., Any]) -> None:
    client = await gateway()
    data = await (await client.get("/api/monitoring/health")).json()
    assert data["status"] == "ok"
    assert data["providers"] == 1


async def test_admin_api_needs_the_local_token(gateway: Callable[..., Any]) -> None:
    client = await gateway()
    response = await client.get("/api/providers")
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "admin_auth_required"
    response = await client.get("/api/providers", headers={"Authorization": "Bearer wrong"})
    assert response.status == 401


async def test_provider_added_through_the_api_routes_at_once(
    gateway: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    client = await gateway()
    auth = {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}
    response = await client.post(
        "/api/providers",
        json={
            "name": "second",
            "base_url": f"{upstream.url}/v1",
            "api_key": "sk-2",
            "models": ["extra"],
            "sync_models": False,
        },
        headers=auth,
    )
    assert response.status == 201
    added = await response.json()
    assert added["id"] == "second"
    assert "sk-2" not in await response.text(), "secrets never come back"
    chat = await client.post("/v1/chat/completions", json={"model": "second/extra", "messages": []})
    assert chat.status == 200
    assert upstream.last.headers["Authorization"] == "Bearer sk-2"

    listed = await (await client.get("/api/providers", headers=auth)).json()
    assert [p["id"] for p in listed["providers"]] == ["fake", "second"]
    removed = await client.delete("/api/providers/second", headers=auth)
    assert removed.status == 200
    gone = await client.post("/v1/chat/completions", json={"model": "second/extra", "messages": []})
    assert gone.status == 404


async def test_admin_api_rejects_bad_input_with_400(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway()
    auth = {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}
    for body, needle in [
        ({"name": "Bad Name!", "base_url": "http://x"}, "invalid provider name"),
        ({"name": "x"}, "needs --base-url"),
        ({"name": "x", "base_url": "ftp://x"}, "http:// or https://"),
        ({"name": "x", "base_url": "http://h", "format": "nope"}, "format must be"),
        ({"name": "x", "base_url": "http://h", "bogus": 1}, "unknown field"),
        ({"name": "openai"}, "needs a key"),
        ({"base_url": "http://h"}, "'name' is required"),
    ]:
        response = await client.post("/api/providers", json=body, headers=auth)
        assert response.status == 400, body
        assert needle in (await response.json())["error"]["message"]
    response = await client.get("/api/providers/nope", headers=auth)
    assert response.status == 404


async def test_change_by_another_process_is_picked_up(
    gateway: Callable[..., Any], add_provider: Callable[..., Any], upstream: Any
) -> None:
    client = await gateway()
    response = await client.post("/v1/chat/completions", json={"model": "late/m", "messages": []})
    assert response.status == 404
    # Another process (the CLI with no server reachable) writes straight to the store.
    await asyncio.to_thread(
        add_provider, "late", base_url=f"{upstream.url}/v1", models=["m"], sync_models=False
    )
    assert client.app[keys.GATEWAY].reload_if_changed()
    response = await client.post("/v1/chat/completions", json={"model": "late/m", "messages": []})
    assert response.status == 200
