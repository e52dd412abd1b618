"""``omni providers test|models|validate|edit``, ``omni aliases``, ``omni nodes`` and
``omni models`` through a running server (``--url``: the HTTP admin client)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.conftest import run_omni
from tests.fakes.upstream import Reply


async def test_cli_through_a_running_server(
    gateway: Callable[..., Any], upstream: Any, aiohttp_server: Any
) -> None:
    client = await gateway()
    url = str(client.make_url("")).rstrip("/")

    _, out, _ = await run_omni("--url", url, "providers", "test", "fake", "--json")
    assert json.loads(out)["ok"] is True
    code, _, err = await run_omni("--url", url, "providers", "test", "fake")
    assert "ok: fake/" in err and "via account 'default'" in err

    upstream.push(Reply(status=500))
    code, _, err = await run_omni("--url", url, "providers", "test", "fake", check=False)
    assert code == 1 and "failed: provider 'fake'" in err and "HTTP 500" in err

    await run_omni("--url", url, "aliases", "add", "gpt-4*", "fake/gpt-4o")
    response = await client.post(
        "/v1/chat/completions",
        json={"model": "gpt-4-turbo", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.headers["X-OmniRoute-Model"] == "fake/gpt-4o", "the server applied it at once"
    _, out, _ = await run_omni("--url", url, "aliases", "list", "--json")
    assert [a["alias"] for a in json.loads(out)] == ["gpt-4*"]
    await run_omni("--url", url, "aliases", "rm", "gpt-4*")

    upstream.models.append("fresh-model")
    _, out, _ = await run_omni("--url", url, "providers", "models", "fake", "--refresh", "--json")
    assert "fresh-model" in {m["id"] for m in json.loads(out)["models"]}

    _, out, _ = await run_omni(
        "--url", url, "nodes", "add", "node1", "--base-url", upstream.url, "--chat-path",
        "/v1/chat/completions", "--models-path", "/v1/models", "--header", "X-Node=1", "--json",
    )  # fmt: skip
    assert "fresh-model" in json.loads(out)["models"]
    response = await client.post(
        "/v1/chat/completions",
        json={"model": "node1/fresh-model", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.status == 200
    assert upstream.last.headers["X-Node"] == "1"

    _, out, _ = await run_omni("--url", url, "models", "available", "--json")
    assert json.loads(out)["unavailable"] == 0

    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"error": {"message": "invalid x-api-key"}}, status=401)

    bad = web.Application()
    bad.router.add_route("*", "/{tail:.*}", refuse)
    server = await aiohttp_server(bad)
    code, _, err = await run_omni(
        "--url", url, "providers", "validate", "--base-url", str(server.make_url("/v1")),
        "--api-key", "sk-wrong", check=False,
    )  # fmt: skip
    assert code == 1
    assert "refused the credentials (HTTP 401): invalid x-api-key" in err
    assert "sk-wrong" not in err
    _, _, err = await run_omni(
        "--url", url, "providers", "validate", "--base-url", f"{upstream.url}/v1", "--api-key", "k"
    )
    assert "valid:" in err

    _, out, _ = await run_omni("--url", url, "providers", "edit", "fake", "--disable", "--json")
    assert json.loads(out)["enabled"] is False
