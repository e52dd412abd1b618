"""Start-up loads what the first client request needs, and the management API's areas on
their first use: a fresh server process answers a chat completion without importing them,
and the first management request loads them and is answered as before."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

from omni.serve import keys
from omni.serve.routes import ON_FIRST_USE
from omni.serve.routes._lazy import LazyRoutes
from tests.conftest import free_port

# Modules the first client request has no use for (besides the lazy route modules).
NOT_AT_START = (
    "omni.serve.openapi",
    "omni.admin.cli_tools",
    "omni.admin.evals",
    "omni.admin.sync",
    "omni.admin.backups",
    "omni.admin.providers",
    "omni.tools.setup",
    "typer",
    "rich",
    "textual",
    "httpx",
)

_SCRIPT = """
import asyncio, json, sys
import aiohttp
from aiohttp import web
from omni.config import load_settings
from omni.serve import keys
from omni.serve.app import RUNNER_OPTIONS, create_app

async def main(port):
    app = create_app(load_settings({"port": port}))
    runner = web.AppRunner(app, **RUNNER_OPTIONS)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    body = {"model": "fake/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    out = {}
    async with aiohttp.ClientSession() as http:
        async with http.post(base + "/v1/chat/completions", json=body) as response:
            out["chat"] = response.status
        out["after_chat"] = sorted(sys.modules)
        token = {"Authorization": "Bearer " + app[keys.ADMIN_TOKEN]}
        async with http.get(base + "/api/providers", headers=token) as response:
            out["providers"] = [p["id"] for p in (await response.json())["providers"]]
        out["after_admin"] = sorted(sys.modules)
    await runner.cleanup()
    print(json.dumps(out))

asyncio.run(main(int(sys.argv[1])))
"""


async def test_first_answer_loads_no_management_area(
    upstream: Any, add_provider: Callable[..., Any]
) -> None:
    await asyncio.to_thread(add_provider, "fake", base_url=f"{upstream.url}/v1", api_key="sk-1")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _SCRIPT, str(free_port()),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    result = json.loads(out)
    assert result["chat"] == 200
    lazy = [f"omni.serve.routes.{name}" for name in ON_FIRST_USE]
    assert [m for m in lazy + list(NOT_AT_START) if m in result["after_chat"]] == []
    assert result["providers"] == ["fake"]
    assert set(lazy) <= set(result["after_admin"])


async def test_lazy_routes_answer_like_registered_ones(gateway: Callable[..., Any]) -> None:
    client = await gateway()
    admin = {"Authorization": f"Bearer {client.app[keys.ADMIN_TOKEN]}"}
    response = await client.get("/api/no-such-area", headers=admin)
    assert response.status == 404
    assert "no such endpoint: GET /api/no-such-area" in (await response.json())["error"]["message"]
    response = await client.put("/api/providers", headers=admin)  # GET and POST only
    assert response.status == 405
    message = (await response.json())["error"]["message"]
    assert message == "method PUT is not allowed on /api/providers"
    response = await client.get("/api/tags")  # an Ollama route, registered at start-up
    assert response.status == 200
    paths = {route.resource.canonical for route in client.app.router.routes() if route.resource}
    assert {"/api/providers", "/api/openapi.json", "/v1/chat/completions"} <= paths


def test_lazy_routes_have_a_readable_name() -> None:
    lazy = LazyRoutes("/api", ["omni.serve.routes.monitoring"])
    assert repr(lazy) == "<LazyRoutes /api/* (1 modules, not loaded yet)>"
    assert len(lazy) == 2  # GET and HEAD of the health endpoint
    assert lazy.loaded
