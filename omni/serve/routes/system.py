"""System endpoints: ``GET /api/init`` (first-run state), ``POST /api/shutdown`` and
``POST /api/restart``.

Shutdown and restart answer 202 first and then take the path SIGTERM takes (the runner
stops accepting, lets in-flight requests, this one included, finish and flushes writes);
a restart then starts the server process again on the same address.
"""

from __future__ import annotations

from aiohttp import web

from omni.admin.system import SystemService
from omni.errors import UnsupportedError
from omni.serve import keys
from omni.serve.lifecycle import Lifecycle
from omni.serve.routes._admin import run_service
from omni.store import audit


async def init_state(request: web.Request) -> web.Response:
    state = await run_service(request, SystemService(request.app[keys.ADMIN]).init_state)
    state["started_at"] = request.app[keys.STARTED_AT]
    return web.json_response(state)


def _lifecycle(request: web.Request) -> Lifecycle:
    lifecycle = request.app[keys.LIFECYCLE]
    if not lifecycle.managed:
        raise UnsupportedError(
            "this server was not started by 'omni serve'; stop it the way it was started"
        )
    return lifecycle


def _record(request: web.Request, action: str) -> None:
    with request.app[keys.ADMIN].db.transaction() as conn:
        audit.record(conn, "admin", action, ip=request.remote)


async def shutdown(request: web.Request) -> web.Response:
    lifecycle = _lifecycle(request)
    await run_service(request, lambda: _record(request, "server.shutdown"))
    lifecycle.stop()
    return web.json_response({"status": "stopping"}, status=202)


async def restart(request: web.Request) -> web.Response:
    lifecycle = _lifecycle(request)
    await run_service(request, lambda: _record(request, "server.restart"))
    lifecycle.request_restart()
    return web.json_response({"status": "restarting"}, status=202)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/init", init_state)
    app.router.add_post("/api/shutdown", shutdown)
    app.router.add_post("/api/restart", restart)
