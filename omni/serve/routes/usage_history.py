"""Usage totals: ``GET /api/usage/history?group=day|provider|model|key&since=&until=``
(``since``/``until``: ``7d``, ``24h``, an ISO date or Unix seconds). Requests still in
the usage writer's batch are flushed first, so the totals include them.
"""

from __future__ import annotations

from aiohttp import web

from omni.admin.usage_history import UsageHistoryService
from omni.serve import keys
from omni.serve.routes._admin import run_service


async def history(request: web.Request) -> web.Response:
    await request.app[keys.GATEWAY].usage.flush()
    service, query = UsageHistoryService(request.app[keys.ADMIN]), request.query
    group = query.get("group") or "day"
    since, until = query.get("since") or None, query.get("until") or None
    return web.json_response(
        await run_service(request, lambda: service.history(group, since, until))
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/api/usage/history", history)
