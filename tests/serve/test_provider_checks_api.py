"""Provider checks and edits through the admin API: test, models, validate, PUT; the
SSRF guard on user-given URLs; the model catalog and availability."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

from omni.admin.token import read_admin_token
from omni.config import Settings
from omni.gateway.resilience import Failure
from omni.serve import keys
from omni.store import audit
from omni.store.db import Database
from tests.conftest import free_port
from tests.fakes.upstream import Reply

CHAT = "/v1/chat/completions"


def _auth(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}


def _ask(model: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}]}


async def _refusing_upstream(aiohttp_server: Any) -> str:
    """An upstream that refuses every key, the way OpenAI does."""

    async def refuse(request: web.Request) -> web.Response:
        error = {"message": "Incorrect API key provided", "type": "invalid_request_error"}
        return web.json_response({"error": error}, status=401)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", refuse)
    server = await aiohttp_server(app)
    return str(server.make_url("/v1"))


async def test_provider_test_reports_ok_and_failures(
    gateway: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    client = await gateway()
    auth = _auth(settings)
    response = await client.post("/api/providers/fake/test", headers=auth)
    result = await response.json()
    assert response.status == 200
    assert (result["ok"], result["status"], result["error"]) == (True, 200, None)
    assert (result["provider"], result["account"]) == ("fake", "default")
    assert result["latency_ms"] >= 0
    sent = upstream.last
    assert sent.path == "/v1/chat/completions" and sent.json["model"] == result["model"]
    assert sent.headers["Authorization"] == "Bearer sk-upstream-SECRET-42"

    upstream.push(Reply(status=503, error_message="overloaded, try later"))
    response = await client.post(
        "/api/providers/fake/test", json={"model": "gpt-4o", "account": "default"}, headers=auth
    )
    result = await response.json()
    assert (result["ok"], result["status"]) == (False, 503)
    assert "HTTP 503" in result["error"] and "overloaded, try later" in result["error"]
    assert "sk-upstream" not in await response.text()

    missing = await client.post("/api/providers/fake/test", json={"account": "x"}, headers=auth)
    assert missing.status == 404


async def test_provider_test_against_an_unreachable_upstream(
    gateway: Callable[..., Any], add_provider: Callable[..., Any], settings: Settings
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    await asyncio.to_thread(
        add_provider, "dead", base_url=dead, api_key="k", models=["m"], sync_models=False
    )
    client = await gateway()
    result = await (await client.post("/api/providers/dead/test", headers=_auth(settings))).json()
    assert result["ok"] is False and result["status"] is None
    assert "could not connect" in result["error"]


async def test_validate_accepts_a_good_key_and_refuses_a_bad_one(
    gateway: Callable[..., Any], upstream: Any, settings: Settings, aiohttp_server: Any
) -> None:
    client = await gateway()
    auth = _auth(settings)
    response = await client.post(
        "/api/providers/validate",
        json={"base_url": f"{upstream.url}/v1", "api_key": "sk-good"},
        headers=auth,
    )
    result = await response.json()
    assert response.status == 200
    assert result["valid"] is True and sorted(result["models"]) == ["gpt-4o", "gpt-4o-mini"]
    assert upstream.last.headers["Authorization"] == "Bearer sk-good"

    refusing = await _refusing_upstream(aiohttp_server)
    response = await client.post(
        "/api/providers/validate", json={"base_url": refusing, "api_key": "sk-bad"}, headers=auth
    )
    assert response.status == 400
    message = (await response.json())["error"]["message"]
    assert "refused the credentials (HTTP 401): Incorrect API key provided" in message
    assert "sk-bad" not in message

    response = await client.post("/api/providers/validate", json={}, headers=auth)
    assert response.status == 400


async def test_provider_models_with_refresh(
    gateway: Callable[..., Any], upstream: Any, add_provider: Callable[..., Any], settings: Settings
) -> None:
    await asyncio.to_thread(add_provider, "groq", api_key="gsk-x", sync_models=False)
    client = await gateway()
    auth = _auth(settings)
    groq = await (await client.get("/api/providers/groq/models", headers=auth)).json()
    first = groq["models"][0]
    assert first["source"] == "catalog" and first["context"]

    upstream.models.append("gpt-5-new")
    stale = await (await client.get("/api/providers/fake/models", headers=auth)).json()
    assert "gpt-5-new" not in {m["id"] for m in stale["models"]}
    fresh = await (await client.get("/api/providers/fake/models?refresh=true", headers=auth)).json()
    assert "gpt-5-new" in {m["id"] for m in fresh["models"]}
    assert (await client.post(CHAT, json=_ask("fake/gpt-5-new"))).status == 200


async def test_edit_provider(
    gateway: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    client = await gateway()
    auth = _auth(settings)
    response = await client.put(
        "/api/providers/fake", json={"headers": {"X-Org": "acme"}}, headers=auth
    )
    assert response.status == 200
    assert (await client.post(CHAT, json=_ask("fake/gpt-4o"))).status == 200
    assert upstream.last.headers["X-Org"] == "acme"

    await client.put("/api/providers/fake", json={"enabled": False}, headers=auth)
    assert (await client.post(CHAT, json=_ask("fake/gpt-4o"))).status == 404
    await client.put("/api/providers/fake", json={"enabled": True}, headers=auth)
    assert (await client.post(CHAT, json=_ask("fake/gpt-4o"))).status == 200

    for body, needle in [
        ({}, "nothing to change"),
        ({"base_url": "http://169.254.169.254/v1"}, "cloud metadata"),
        ({"base_url": "http://10.0.0.1/v1"}, "private network address"),
        ({"chat_path": "no-slash"}, "starting with '/'"),
    ]:
        response = await client.put("/api/providers/fake", json=body, headers=auth)
        assert response.status == 400, body
        assert needle in (await response.json())["error"]["message"]
    assert (
        await client.put("/api/providers/nope", json={"enabled": True}, headers=auth)
    ).status == 404


async def test_ssrf_guard_on_provider_urls(
    make_client: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    client = await make_client()
    auth = _auth(settings)
    for url, needle in [
        ("http://169.254.169.254/v1", "169.254.169.254, a cloud metadata address"),
        ("http://10.0.0.1/v1", "10.0.0.1, a private network address"),
    ]:
        response = await client.post(
            "/api/providers", json={"name": "evil", "base_url": url}, headers=auth
        )
        assert response.status == 400
        error = (await response.json())["error"]
        assert needle in error["message"] and "omni will not call it" in error["message"]
    response = await client.post(
        "/api/providers",
        json={"name": "local", "base_url": f"{upstream.url}/v1", "sync_models": False},
        headers=auth,
    )
    assert response.status == 201, "loopback stays allowed for local providers"
    with Database(settings.paths.database).session() as conn:
        blocked = audit.entries(conn, action="provider.validation.ssrf_blocked")
    assert [(e.target, e.outcome) for e in blocked] == [
        ("http://10.0.0.1/v1", "denied"),
        ("http://169.254.169.254/v1", "denied"),
    ]


async def test_private_urls_when_allowed(
    make_client: Callable[..., Any], settings: Settings
) -> None:
    client = await make_client(allow_private_urls=True)
    response = await client.post(
        "/api/providers",
        json={"name": "lan", "base_url": "http://10.0.0.1/v1", "sync_models": False},
        headers=_auth(settings),
    )
    assert response.status == 201
    metadata = await client.post(
        "/api/providers",
        json={"name": "evil", "base_url": "http://169.254.169.254/v1", "sync_models": False},
        headers=_auth(settings),
    )
    assert metadata.status == 400, "metadata stays refused"


async def test_catalog_and_availability(
    gateway: Callable[..., Any], add_provider: Callable[..., Any], settings: Settings
) -> None:
    await asyncio.to_thread(add_provider, "groq", api_key="gsk-x", sync_models=False)
    client = await gateway()
    auth = _auth(settings)
    catalog = await (await client.get("/api/models/catalog", headers=auth)).json()
    assert len(catalog["providers"]) >= 40
    openai = await (await client.get("/api/models/catalog?provider=openai", headers=auth)).json()
    [entry] = openai["providers"]
    gpt = next(m for m in entry["models"] if m["id"] == "gpt-4o")
    assert gpt["context"] == 128000 and gpt["price"]["input"] == 2.5
    assert "vision" in gpt["capabilities"]

    state = await (await client.get("/api/models/availability", headers=auth)).json()
    usable = {m["id"]: m["available"] for m in state["models"]}
    assert usable["fake/gpt-4o"] is True and usable["groq/llama-3.3-70b-versatile"] is True
    # The groq account rests after a rate limit; the fake provider's circuit opens.
    gateway_state = client.app[keys.GATEWAY]
    groq_account = gateway_state.registry.providers["groq"].targets[0].account_id
    gateway_state.cooldowns.failed(groq_account, Failure(429, "slow down", "x", retry_after=30))
    for _ in range(12):
        gateway_state.breakers.failed("fake", Failure(500, "boom", "x"), "apikey")
    state = await (await client.get("/api/models/availability", headers=auth)).json()
    reasons = {m["id"]: m["reason"] for m in state["models"]}
    assert reasons["groq/llama-3.3-70b-versatile"].startswith("every account cooling down")
    assert reasons["fake/gpt-4o"].startswith("circuit open")
    assert state["available"] == 0

    await client.put("/api/providers/groq", json={"enabled": False}, headers=auth)
    state = await (await client.get("/api/models/availability", headers=auth)).json()
    assert {m["reason"] for m in state["models"] if m["provider"] == "groq"} == {
        "provider disabled"
    }


async def test_availability_check_runs_a_real_request(
    gateway: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    client = await gateway()
    upstream.push(Reply(), Reply(status=500))
    response = await client.post(
        "/api/models/availability",
        json={"models": ["fake/gpt-4o", "fake/gpt-4o-mini"]},
        headers=_auth(settings),
    )
    results = {r["id"]: r["available"] for r in (await response.json())["results"]}
    assert results == {"fake/gpt-4o": True, "fake/gpt-4o-mini": False}


async def test_configured_models_and_info(gateway: Callable[..., Any], settings: Settings) -> None:
    client = await gateway()
    auth = _auth(settings)
    await client.post(
        "/api/models/alias", json={"alias": "f", "target": "fake/gpt-4o"}, headers=auth
    )
    models = (await (await client.get("/api/models", headers=auth)).json())["models"]
    kinds = {m["id"]: m["kind"] for m in models}
    assert kinds == {"fake/gpt-4o": "model", "fake/gpt-4o-mini": "model", "f": "alias"}
    info = await (await client.get("/api/models/info?id=openai/gpt-4o", headers=auth)).json()
    assert info["kind"] == "catalog" and info["max_output"] == 16384
    missing = await client.get("/api/models/info?id=nope/nothing", headers=auth)
    assert missing.status == 404
