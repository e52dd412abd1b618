"""The request log: ``GET /api/usage/request-logs`` (``limit``, ``before``, ``model``,
``provider``, ``failed``), newest first, each with the route it took."""

from __future__ import annotations

from aiohttp import web

from omni.admin.usage import UsageService
from omni.errors import InvalidInputError
from omni.serve import keys
from omni.serve.routes._admin import run_service


def _int(request: web.Request, name: str, default: int | None) -> int | None:
    value = request.query.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidInputError(f"query parameter '{name}' must be a whole number") from None


async def request_logs(request: web.Request) -> web.Response:
    await request.app[keys.GATEWAY].usage.flush()  # include what is still being batched
    service = UsageService(request.app[keys.ADMIN])
    query = request.query
    limit = _int(request, "limit", 100) or 100
    before = _int(request, "before", None)
    failed = query.get("failed", "").lower() in ("1", "true", "yes")
    rows = await run_service(
        request,
        lambda: service.request_logs(
            limit, before, query.get("model") or None, query.get("provider") or None, failed
        ),
    )
    return web.json_response({"requests": rows})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/usage/request-logs", request_logs)
