"""Usage and cost: ``GET /api/usage/request-logs`` (``limit``, ``before``, ``model``,
``provider``, ``failed``; newest first, each with the route it took and its cost) and
``GET/PUT /api/pricing`` (list prices per model; PUT replaces the user's overrides) and
``GET /api/usage/{connectionId}`` (what one provider account served) and
``GET/POST /api/usage/budget`` + ``DELETE /api/usage/budget/{keyId}`` (spending limits
per key; GET shows the live ledger of the running server)."""

from __future__ import annotations

from aiohttp import web

from omni.admin.budgets import BudgetService
from omni.admin.usage import PricingService, UsageService, account_usage
from omni.errors import InvalidInputError
from omni.serve import keys
from omni.serve.routes._admin import json_body, json_fields, run_service


def _int(request: web.Request, name: str, default: int | None) -> int | None:
    value = request.query.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or abs(number) >= 2**63:
        raise InvalidInputError(f"query parameter '{name}' must be a whole number") from None
    return number


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


_BUDGET_FIELDS: dict[str, type] = {
    "keyId": object,
    "limit": object,
    "period": str,
    "warnAt": object,
}


async def budgets(request: web.Request) -> web.Response:
    service = BudgetService(request.app[keys.ADMIN])
    stored = await run_service(request, service.list_all)
    live = request.app[keys.GATEWAY].budgets.ledgers
    for budget in stored:  # the running server's ledger knows what is in flight too
        ledger = live.get(budget["keyId"])
        if ledger is not None:
            budget.update({k: v for k, v in ledger.describe().items() if k != "keyId"})
    return web.json_response({"budgets": stored})


async def set_budget(request: web.Request) -> web.Response:
    args = await json_fields(request, _BUDGET_FIELDS)
    if "keyId" not in args or "limit" not in args:
        raise InvalidInputError("give 'keyId' and 'limit' (USD), and optionally 'period'")
    service = BudgetService(request.app[keys.ADMIN])
    result = await run_service(
        request,
        lambda: service.set(
            args["keyId"],
            args["limit"],
            args.get("period", "monthly"),
            args.get("warnAt", 0.8),
            "admin",
        ),
        changes=True,
    )
    return web.json_response(result)


async def delete_budget(request: web.Request) -> web.Response:
    service = BudgetService(request.app[keys.ADMIN])
    ident = request.match_info["key_id"]
    result = await run_service(request, lambda: service.remove(ident, "admin"), changes=True)
    return web.json_response(result)


async def connection_usage(request: web.Request) -> web.Response:
    await request.app[keys.GATEWAY].usage.flush()
    ctx, account_id = request.app[keys.ADMIN], int(request.match_info["connection_id"])
    return web.json_response(await run_service(request, lambda: account_usage(ctx, account_id)))


def setup(app: web.Application) -> None:
    app.router.add_get(r"/api/usage/{connection_id:\d+}", connection_usage)
    app.router.add_get("/api/usage/budget", budgets)
    app.router.add_post("/api/usage/budget", set_budget)
    app.router.add_delete("/api/usage/budget/{key_id}", delete_budget)
    app.router.add_get("/api/usage/request-logs", request_logs)
    app.router.add_get("/api/pricing", pricing)
    app.router.add_put("/api/pricing", put_pricing)
