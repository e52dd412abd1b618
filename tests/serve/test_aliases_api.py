"""User model aliases through the admin API: glob aliases route requests, exact aliases
are listed by /v1/models, and a change made by another process is picked up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from omni.admin.token import read_admin_token
from omni.client import LocalAdminClient
from omni.config import Settings
from omni.serve import keys

CHAT = "/v1/chat/completions"


def _auth(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}


async def _chat(client: Any, model: str) -> Any:
    return await client.post(
        CHAT, json={"model": model, "messages": [{"role": "user", "content": "hi"}]}
    )


async def test_glob_alias_routes_to_its_target(
    gateway: Callable[..., Any], add_provider: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    await asyncio.to_thread(
        add_provider, "other", base_url=f"{upstream.url}/v1", api_key="sk-other",
        models=["claude-sonnet-4", "claude-opus-4"], sync_models=False,
    )  # fmt: skip
    client = await gateway()
    auth = _auth(settings)
    for alias, target in [
        ("claude-*", "other/claude-sonnet-4"),
        ("claude-opus-*", "other/claude-opus-*"),
        ("gpt-4*", "fake/gpt-4o"),
    ]:
        response = await client.post(
            "/api/models/alias", json={"alias": alias, "target": target}, headers=auth
        )
        assert response.status == 201, await response.text()
        assert (await response.json())["warnings"] == []

    response = await _chat(client, "claude-3-5-haiku")
    assert response.status == 200
    assert response.headers["X-OmniRoute-Provider"] == "other"
    assert upstream.last.json["model"] == "claude-sonnet-4"
    assert upstream.last.headers["Authorization"] == "Bearer sk-other"

    response = await _chat(client, "claude-opus-4")
    assert response.headers["X-OmniRoute-Model"] == "other/claude-opus-4", "the more specific one"

    response = await _chat(client, "gpt-4-turbo")
    assert response.status == 200
    assert response.headers["X-OmniRoute-Model"] == "fake/gpt-4o"
    assert upstream.last.json["model"] == "gpt-4o"

    listed = await (await client.get("/api/models/alias", headers=auth)).json()
    assert [(a["alias"], a["pattern"]) for a in listed["aliases"]] == [
        ("claude-*", True),
        ("claude-opus-*", True),
        ("gpt-4*", True),
    ]
    removed = await client.delete("/api/models/alias/claude-%2A", headers=auth)
    assert removed.status == 200
    assert (await removed.json())["alias"] == "claude-*"
    response = await _chat(client, "claude-3-5-haiku")
    assert response.status == 404, "the alias is gone, so is the route"
    missing = await client.delete("/api/models/alias/nope", headers=auth)
    assert missing.status == 404


async def test_exact_alias_and_combo_are_in_the_model_list(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway()
    auth = _auth(settings)
    await client.post("/api/combos", json={"name": "duo", "steps": ["fake/gpt-4o"]}, headers=auth)
    for alias, target in [("fast", "fake/gpt-4o-mini"), ("team", "duo"), ("o*", "fake/gpt-4o")]:
        await client.post(
            "/api/models/alias", json={"alias": alias, "target": target}, headers=auth
        )

    data = await (await client.get("/v1/models")).json()
    owners = {m["id"]: m["owned_by"] for m in data["data"]}
    assert owners["fake/gpt-4o-mini"] == "fake"
    assert owners["duo"] == "combo"
    assert owners["fast"] == "alias"
    assert owners["team"] == "alias"
    assert "o*" not in owners, "patterns are not model names"
    one = await client.get("/v1/models/fast")
    assert (await one.json()) == {
        "id": "fast",
        "object": "model",
        "created": 0,
        "owned_by": "alias",
    }
    anthropic_style = await client.get("/v1/models", headers={"anthropic-version": "2023-06-01"})
    assert "fast" in {m["id"] for m in (await anthropic_style.json())["data"]}

    response = await _chat(client, "team")
    assert response.status == 200, "an alias may point at a combo"
    assert response.headers["X-OmniRoute-Model"] == "fake/gpt-4o"


async def test_alias_written_by_another_process_is_picked_up(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway()
    assert (await _chat(client, "mini")).status == 404
    await asyncio.to_thread(
        lambda: LocalAdminClient(settings).set_alias("mini", "fake/gpt-4o-mini")
    )
    assert client.app[keys.GATEWAY].reload_if_changed(), "alias tables bump the config version"
    response = await _chat(client, "mini")
    assert response.status == 200
    assert response.headers["X-OmniRoute-Model"] == "fake/gpt-4o-mini"


async def test_bad_aliases_are_400s_and_unroutable_targets_warn(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway()
    auth = _auth(settings)
    for body, needle in [
        ({"alias": "*", "target": "fake/gpt-4o"}, "every model"),
        ({"alias": "x"}, "are required"),
        ({"alias": "fast", "target": "fake/*"}, "captures only 0"),
    ]:
        response = await client.post("/api/models/alias", json=body, headers=auth)
        assert response.status == 400, body
        assert needle in (await response.json())["error"]["message"]
    response = await client.post(
        "/api/models/alias", json={"alias": "later", "target": "nobody/model"}, headers=auth
    )
    assert response.status == 201
    [warning] = (await response.json())["warnings"]
    assert "cannot be routed now" in warning
