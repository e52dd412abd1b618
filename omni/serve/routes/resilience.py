"""Resilience and routing policy: ``GET/PUT /api/resilience``, ``POST
/api/resilience/reset``, ``GET/PUT /api/rate-limit``, ``GET /api/rate-limits``,
``GET /api/sessions``, ``GET /api/route/explain?model=…``.

What is resting right now (accounts cooling down after rate limits or failures, providers
whose circuit is open), the operator caps and their use, the conversations pinned to an
account, and the policy documents that tune all of it; reset clears the resting state,
for when the user knows the upstream is healthy again.
"""

from __future__ import annotations

from aiohttp import web

from omni.admin.routing import RouteService
from omni.errors import InvalidInputError
from omni.gateway.explain import explain
from omni.serve import keys
from omni.serve.routes._admin import json_body, run_service


def _accounts(request: web.Request) -> list[dict[str, object]]:
    gateway = request.app[keys.GATEWAY]
    names = {
        t.account_id: (entry.id, t.account_name)
        for entry in gateway.registry.providers.values()
        for t in entry.targets
    }
    return [
        {
            "account_id": account_id,
            "provider": names.get(account_id, ("?", "?"))[0],
            "account": names.get(account_id, ("?", "?"))[1],
            "cooling_s": round(left, 1),
        }
        for account_id, left in sorted(gateway.cooldowns.snapshot().items())
    ]


async def resilience(request: web.Request) -> web.Response:
    gateway = request.app[keys.GATEWAY]
    service = RouteService(request.app[keys.ADMIN])
    policy = await run_service(request, service.policy)
    return web.json_response(
        {
            "settings": policy["resilience"],
            "profiles": {
                name: {"failures": p.failures, "open_s": p.open_s}
                for name, p in gateway.breakers.profiles.items()
            },
            "breakers": gateway.breakers.snapshot(),
            "cooldowns": _accounts(request),
        }
    )


async def put_resilience(request: web.Request) -> web.Response:
    document = await json_body(request)
    service = RouteService(request.app[keys.ADMIN])
    await run_service(
        request, lambda: service.set_policy("resilience", document, "admin"), changes=True
    )
    return await resilience(request)


async def rate_limit(request: web.Request) -> web.Response:
    service = RouteService(request.app[keys.ADMIN])
    return web.json_response((await run_service(request, service.policy))["rate_limits"])


async def put_rate_limit(request: web.Request) -> web.Response:
    document = await json_body(request)
    service = RouteService(request.app[keys.ADMIN])
    policy = await run_service(
        request, lambda: service.set_policy("rate_limits", document, "admin"), changes=True
    )
    return web.json_response(policy["rate_limits"])


async def sessions(request: web.Request) -> web.Response:
    """Conversations active in the last 30 minutes (key, model, requests, tokens, last
    seen) and which account each is pinned to."""
    gateway = request.app[keys.GATEWAY]
    await gateway.usage.flush()
    pinned: dict[str, list[dict[str, object]]] = {}
    for entry in gateway.router.sessions():
        pinned.setdefault(str(entry["session"]), []).append(entry)
    active = gateway.telemetry.sessions()
    for session in active:
        session["pinned"] = pinned.get(session["session"], [])
    return web.json_response({"sessions": active})


async def reset(request: web.Request) -> web.Response:
    gateway = request.app[keys.GATEWAY]
    gateway.breakers.reset()
    gateway.cooldowns.reset()
    return web.json_response({"reset": True})


async def route_explain(request: web.Request) -> web.Response:
    model = request.query.get("model", "")
    if not model:
        raise InvalidInputError("give the model to explain: /api/route/explain?model=NAME")
    gateway = request.app[keys.GATEWAY]
    return web.json_response(explain(gateway.registry, model, gateway.cooldowns, gateway.breakers))


async def rate_limits(request: web.Request) -> web.Response:
    gateway = request.app[keys.GATEWAY]
    return web.json_response(
        {
            "cooldowns": _accounts(request),
            "caps": gateway.caps.snapshot(),
            "queue": {
                "waiting": gateway.caps.waiting,
                "depth": gateway.registry.policy.queue_depth,
                "wait_s": gateway.registry.policy.queue_wait_s,
            },
        }
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/api/resilience", resilience)
    app.router.add_put("/api/resilience", put_resilience)
    app.router.add_get("/api/rate-limit", rate_limit)
    app.router.add_put("/api/rate-limit", put_rate_limit)
    app.router.add_get("/api/sessions", sessions)
    app.router.add_post("/api/resilience/reset", reset)
    app.router.add_get("/api/rate-limits", rate_limits)
    app.router.add_get("/api/route/explain", route_explain)
