"""Resilience state: ``GET /api/resilience``, ``POST /api/resilience/reset``,
``GET /api/rate-limits``, ``GET /api/route/explain?model=…``.

What is resting right now (accounts cooling down after rate limits or failures, providers
whose circuit is open) and the breaker profiles; reset clears both, for when the user
knows the upstream is healthy again.
"""

from __future__ import annotations

from aiohttp import web

from omni.errors import InvalidInputError
from omni.gateway.explain import explain
from omni.gateway.resilience import PROFILES
from omni.serve import keys


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
    return web.json_response(
        {
            "profiles": {
                name: {"failures": p.failures, "open_s": p.open_s} for name, p in PROFILES.items()
            },
            "breakers": gateway.breakers.snapshot(),
            "cooldowns": _accounts(request),
        }
    )


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
    return web.json_response({"cooldowns": _accounts(request)})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/resilience", resilience)
    app.router.add_post("/api/resilience/reset", reset)
    app.router.add_get("/api/rate-limits", rate_limits)
    app.router.add_get("/api/route/explain", route_explain)
