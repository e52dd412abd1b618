"""Monitoring endpoints: ``GET /api/monitoring/health`` (public: no token needed)."""

from __future__ import annotations

import os
import time

from aiohttp import web

from omni import __version__
from omni.serve import keys


async def health(request: web.Request) -> web.Response:
    gateway = request.app[keys.GATEWAY]
    return web.json_response(
        {
            "status": "ok",
            "version": __version__,
            "pid": os.getpid(),
            "uptime_s": round(time.time() - request.app[keys.STARTED_AT], 3),
            "providers": len(gateway.registry.providers),
            "config_version": gateway.registry.version,
        }
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/api/monitoring/health", health)
