"""Custom provider nodes (/api/provider-nodes) and custom models (/api/provider-models):
a node's chat path and headers are honoured, its model list is read with them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from omni.admin.token import read_admin_token
from omni.config import Settings

CHAT = "/v1/chat/completions"


def _auth(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}


def _ask(model: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}]}


async def test_node_with_custom_path_and_headers(
    gateway: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    client = await gateway()
    auth = _auth(settings)
    response = await client.post(
        "/api/provider-nodes",
        json={
            "prefix": "mine",
            "base_url": upstream.url,  # the server root: the default path would be wrong
            "chat_path": "/v1/chat/completions",
            "models_path": "/v1/models",
            "headers": {"X-Tenant": "team-7", "X-Api-Token": "tok-SECRET"},
            "api_key": "node-key",
        },
        headers=auth,
    )
    assert response.status == 201, await response.text()
    node = await response.json()
    assert (node["id"], node["node"], node["chat_path"]) == ("mine", True, "/v1/chat/completions")
    assert node["headers"] == {"X-Tenant": "team-7", "X-Api-Token": "***"}
    assert sorted(node["models"]) == ["gpt-4o", "gpt-4o-mini"], "read from its models path"
    assert upstream.requests[0].path == "/v1/models"
    assert upstream.requests[0].headers["X-Tenant"] == "team-7"
    assert "node-key" not in await response.text() and "tok-SECRET" not in await response.text()

    response = await client.post(CHAT, json=_ask("mine/gpt-4o"))
    assert response.status == 200
    assert response.headers["X-OmniRoute-Provider"] == "mine"
    request = upstream.last
    assert request.path == "/v1/chat/completions"
    assert request.headers["X-Tenant"] == "team-7"
    assert request.headers["X-Api-Token"] == "tok-SECRET"
    assert request.headers["Authorization"] == "Bearer node-key"
    assert request.json["model"] == "gpt-4o"

    # A path with a query (Azure-style deployments) goes as given.
    response = await client.put(
        "/api/provider-nodes/mine",
        json={"chat_path": "/deployments/gpt/chat?api-version=2024-10-21"},
        headers=auth,
    )
    assert response.status == 200
    await client.post(CHAT, json=_ask("mine/gpt-4o"))
    assert upstream.last.path == "/deployments/gpt/chat"
    assert upstream.last.query == {"api-version": "2024-10-21"}

    listed = await (await client.get("/api/provider-nodes", headers=auth)).json()
    assert [n["id"] for n in listed["nodes"]] == ["mine"], "plain providers are not nodes"
    assert (await client.get("/api/provider-nodes/fake", headers=auth)).status == 404
    removed = await client.delete("/api/provider-nodes/mine", headers=auth)
    assert removed.status == 200
    assert (await client.post(CHAT, json=_ask("mine/gpt-4o"))).status == 404


async def test_anthropic_compatible_node_gets_translated_requests(
    gateway: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    client = await gateway()
    response = await client.post(
        "/api/provider-nodes",
        json={
            "prefix": "claudeish",
            "base_url": upstream.url,
            "format": "anthropic",
            "chat_path": "/v1/messages",
            "api_key": "ak-1",
            "models": ["claude-x"],
            "sync_models": False,
        },
        headers=_auth(settings),
    )
    assert response.status == 201
    response = await client.post(CHAT, json=_ask("claudeish/claude-x"))
    assert response.status == 200
    assert (await response.json())["choices"][0]["message"]["content"]
    assert upstream.last.path == "/v1/messages"
    assert upstream.last.headers["x-api-key"] == "ak-1"


async def test_node_input_is_checked(gateway: Callable[..., Any], settings: Settings) -> None:
    client = await gateway()
    auth = _auth(settings)
    base = {"prefix": "n1", "base_url": "http://127.0.0.1:9/v1", "sync_models": False}
    for extra, status, needle in [
        ({"format": "gemini"}, 400, "a node speaks one of openai, anthropic"),
        ({"prefix": "openai"}, 400, "catalog provider"),
        ({"prefix": "fake"}, 409, "already exists"),
        ({"chat_path": "chat"}, 400, "starting with '/'"),
        ({"headers": {"Bad Name": "x"}}, 400, "invalid header name"),
        ({"headers": {"Host": "x"}}, 400, "set by omni itself"),
        ({"base_url": "http://10.0.0.1/v1"}, 400, "private network address"),
    ]:
        response = await client.post("/api/provider-nodes", json={**base, **extra}, headers=auth)
        assert response.status == status, extra
        assert needle in (await response.json())["error"]["message"], extra


async def test_custom_models_per_provider(
    gateway: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    client = await gateway()
    auth = _auth(settings)
    response = await client.post(
        "/api/provider-models", json={"provider": "fake", "models": ["my-finetune"]}, headers=auth
    )
    assert response.status == 201
    assert (await response.json())["models"][0]["id"] == "fake/my-finetune"
    listed = await (await client.get("/api/provider-models", headers=auth)).json()
    assert [m["id"] for m in listed["models"]] == ["fake/my-finetune"], "only custom ones"
    ids = {m["id"] for m in (await (await client.get("/v1/models")).json())["data"]}
    assert "fake/my-finetune" in ids
    assert (await client.post(CHAT, json=_ask("my-finetune"))).status == 200, "bare name works"

    # A re-sync of the upstream's list keeps the custom model.
    refreshed = await client.get("/api/providers/fake/models?refresh=true", headers=auth)
    models = {m["id"]: m["source"] for m in (await refreshed.json())["models"]}
    assert models == {"gpt-4o": "sync", "gpt-4o-mini": "sync", "my-finetune": "user"}

    removed = await client.delete(
        "/api/provider-models?provider=fake&model=my-finetune", headers=auth
    )
    assert removed.status == 200
    again = await client.delete(
        "/api/provider-models?provider=fake&model=my-finetune", headers=auth
    )
    assert again.status == 404
    bad = await client.post(
        "/api/provider-models", json={"provider": "nope", "model": "x"}, headers=auth
    )
    assert bad.status == 404
