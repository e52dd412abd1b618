"""Coding tools on the server's machine: ``GET /api/cli-tools`` (all of them),
``GET /api/cli-tools/{claude,codex,droid,openclaw,opencode,gemini,cline}-settings`` and
``GET /api/cli-tools/runtime/{toolId}``.

Each answer carries ``installed, runnable, command, commandPath, runtimeMode, reason``;
the settings answers add the config file, its content with secrets masked, and whether
it points at omni. Running a tool's ``--version`` takes a moment, so the service runs on
a worker thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from omni.admin.cli_tools import CliToolService
from omni.serve import keys
from omni.serve.routes._admin import run_service
from omni.tools.writers import WRITERS


def _service(request: web.Request) -> CliToolService:
    return CliToolService(request.app[keys.ADMIN])


async def all_tools(request: web.Request) -> web.Response:
    return web.json_response({"tools": await run_service(request, _service(request).all_tools)})


async def runtime(request: web.Request) -> web.Response:
    service, tool_id = _service(request), request.match_info["tool_id"]
    return web.json_response(await run_service(request, lambda: service.runtime(tool_id)))


def _settings(tool_id: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        service = _service(request)
        return web.json_response(await run_service(request, lambda: service.settings(tool_id)))

    return handler


def setup(app: web.Application) -> None:
    app.router.add_get("/api/cli-tools", all_tools)
    app.router.add_get("/api/cli-tools/runtime/{tool_id}", runtime)
    for tool_id in WRITERS:
        app.router.add_get(f"/api/cli-tools/{tool_id}-settings", _settings(tool_id))
