"""Usage and cost: ``GET /api/usage/request-logs`` (``limit``, ``before``, ``model``,
``provider``, ``failed``; newest first, each with the route it took and its cost) and
``GET/PUT /api/pricing`` (list prices per model; PUT replaces the user's overrides)."""

from __future__ import annotations

from aiohttp import web

from omni.admin.usage import PricingService, UsageService
from omni.errors import InvalidInputError
from omni.serve import keys
from omni.serve.routes._admin import json_body, run_service


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


async def pricing(request: web.Request) -> web.Response:
    service = PricingService(request.app[keys.ADMIN])
    return web.json_response(await run_service(request, service.prices))


async def put_pricing(request: web.Request) -> web.Response:
    document = await json_body(request)
    service = PricingService(request.app[keys.ADMIN])
    result = await run_service(
        request, lambda: service.set_overrides(document, "admin"), changes=True
    )
    return web.json_response(result)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/usage/request-logs", request_logs)
    app.router.add_get("/api/pricing", pricing)
    app.router.add_put("/api/pricing", put_pricing)
