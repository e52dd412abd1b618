"""Settings: ``/api/settings`` (general, one JSON object), ``/api/settings/ip-filter``,
``/api/settings/thinking-budget`` and ``/api/settings/system-prompt`` (GET and PUT each).

Thin: the service validates and stores; a new IP filter replaces the server's in-memory
rule at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from omni.admin.ipfilter import IpRules
from omni.admin.settings import SettingsService
from omni.serve import keys
from omni.serve.routes._admin import json_body, run_service


def _service(request: web.Request) -> SettingsService:
    return SettingsService(request.app[keys.ADMIN], actor="admin", ip=request.remote)


async def _body(request: web.Request) -> dict[str, Any]:
    return await json_body(request)


def _pair(
    read: Callable[[SettingsService], Callable[[], dict[str, Any]]],
    write: Callable[[SettingsService], Callable[[Any], dict[str, Any]]],
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    async def get(request: web.Request) -> web.Response:
        return web.json_response(await run_service(request, read(_service(request))))

    async def put(request: web.Request) -> web.Response:
        data = await _body(request)
        change = write(_service(request))
        return web.json_response(await run_service(request, lambda: change(data), changes=True))

    return get, put


get_general, put_general = _pair(lambda s: s.general, lambda s: s.update_general)
get_thinking, put_thinking = _pair(lambda s: s.thinking_budget, lambda s: s.set_thinking_budget)
get_prompt, put_prompt = _pair(lambda s: s.system_prompt, lambda s: s.set_system_prompt)


async def get_ip_filter(request: web.Request) -> web.Response:
    return web.json_response(await run_service(request, _service(request).ip_filter))


async def put_ip_filter(request: web.Request) -> web.Response:
    data = await _body(request)
    service = _service(request)
    result = await run_service(request, lambda: service.set_ip_filter(data), changes=True)
    state = request.app[keys.IP_FILTER]
    state.rules = IpRules.parse(result)
    state.version = request.app[keys.GATEWAY].registry.version
    return web.json_response(result)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/settings", get_general)
    app.router.add_put("/api/settings", put_general)
    app.router.add_get("/api/settings/ip-filter", get_ip_filter)
    app.router.add_put("/api/settings/ip-filter", put_ip_filter)
    app.router.add_get("/api/settings/thinking-budget", get_thinking)
    app.router.add_put("/api/settings/thinking-budget", put_thinking)
    app.router.add_get("/api/settings/system-prompt", get_prompt)
    app.router.add_put("/api/settings/system-prompt", put_prompt)
