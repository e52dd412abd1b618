"""Telemetry: ``GET /api/telemetry/summary`` (count, errors, p50/p95/p99 latency and TTFT,
tokens and cost per provider and model) and ``GET /metrics`` (Prometheus text format).

``/metrics`` is open to scrapers on a loopback listener; on any other address it asks for
the admin token like the management API, since it names providers, models and spend.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from omni.gateway.telemetry import gauge, prometheus
from omni.serve import keys
from omni.serve.middlewares import error_response

_BREAKER_VALUE = {"closed": 0.0, "half-open": 1.0, "open": 2.0}


async def summary(request: web.Request) -> web.Response:
    gateway = request.app[keys.GATEWAY]
    await gateway.usage.flush()  # count what is still being batched
    return web.json_response(gateway.telemetry.summary())


def _loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


async def metrics(request: web.Request) -> web.StreamResponse:
    if not _loopback(request.app[keys.SETTINGS].host):
        given = request.headers.get("Authorization", "")
        token = given[7:].strip() if given[:7].lower() == "bearer " else ""
        expected = request.app[keys.ADMIN_TOKEN]
        if not token or not hmac.compare_digest(token.encode(), expected.encode()):
            return error_response(
                request.path, 401, "/metrics needs the admin token on a non-loopback listener"
            )
    gateway = request.app[keys.GATEWAY]
    await gateway.usage.flush()
    breakers = {
        pid: _BREAKER_VALUE[str(s["state"])] for pid, s in gateway.breakers.snapshot().items()
    }
    extra = [
        *gauge("omni_breaker_state", "Circuit state (0 closed, 1 half-open, 2 open).", breakers,
               "provider"),
        *gauge("omni_accounts_cooling", "Accounts resting after failures.",
               {"all": float(len(gateway.cooldowns.snapshot()))}, "scope"),
        *gauge("omni_queue_waiting", "Requests waiting for an operator cap.",
               {"all": float(gateway.caps.waiting)}, "scope"),
    ]  # fmt: skip
    return web.Response(
        text=prometheus(gateway.telemetry, extra),
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/api/telemetry/summary", summary)
    app.router.add_get("/metrics", metrics)
