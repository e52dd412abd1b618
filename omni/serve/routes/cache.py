"""The response cache: ``GET /api/cache`` (stats, in the shape SPEC §3 gives, plus the
exact and semantic caches' own counters), ``DELETE /api/cache`` (forget every kept answer
and every kept prompt embedding) and ``GET/PUT /api/cache/settings`` (``semantic`` is one
object, replaced whole by a PUT that names it)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from omni.admin.usage import set_cache_settings
from omni.serve import keys
from omni.serve.routes._admin import json_body, run_service


async def stats(request: web.Request) -> web.Response:
    cache = request.app[keys.GATEWAY].cache
    await cache.semantic.refresh()
    return web.json_response(cache.stats())


async def clear(request: web.Request) -> web.Response:
    removed = await request.app[keys.GATEWAY].cache.clear()
    return web.json_response({"cleared": removed})


def _settings(request: web.Request) -> dict[str, Any]:
    config = request.app[keys.GATEWAY].cache.config
    return {
        "enabled": config.enabled,
        "ttl_s": config.ttl_s,
        "max_entries": config.max_entries,
        "max_mb": config.max_mb,
        "semantic": config.semantic.as_dict(),
    }


async def get_settings(request: web.Request) -> web.Response:
    return web.json_response(_settings(request))


async def put_settings(request: web.Request) -> web.Response:
    document = await json_body(request)
    ctx = request.app[keys.ADMIN]
    await run_service(request, lambda: set_cache_settings(ctx, document, "admin"), changes=True)
    return web.json_response(_settings(request))


def setup(app: web.Application) -> None:
    app.router.add_get("/api/cache", stats)
    app.router.add_delete("/api/cache", clear)
    app.router.add_get("/api/cache/settings", get_settings)
    app.router.add_put("/api/cache/settings", put_settings)
