"""Route tables, one module per API area; :func:`setup` registers them all.

The client API, health, metrics and the areas that keep state on the app register at
start-up; the management API's other areas (:data:`ON_FIRST_USE`) are imported on the
first request under ``/api`` that needs them (see :mod:`omni.serve.routes._lazy`), so the
server answers its first client request without loading them.
"""

from __future__ import annotations

from aiohttp import web

from omni.serve.routes import (
    anthropic,
    events,
    gemini,
    media,
    monitoring,
    oauth,
    ollama,
    openai,
    pinned,
    responses,
    telemetry,
)
from omni.serve.routes._lazy import LazyRoutes

ON_FIRST_USE = (
    "providers",
    "combos",
    "resilience",
    "usage",
    "cache",
    "backups",
    "settings",
    "system",
    "auth",
    "api_keys",
    "compliance",
    "models",
    "provider_ops",
    "accounts",
    "probes",
    "usage_history",
    "cli_tools",
    "openapi",
    "evals",
    "sync",
)
"""Route modules under ``/api`` imported on first use: they only add routes."""


def setup(app: web.Application) -> None:
    for module in (
        openai,
        anthropic,
        responses,
        gemini,
        ollama,
        media,
        monitoring,
        telemetry,
        pinned,
        oauth,
        events,
    ):
        module.setup(app)
    lazy = LazyRoutes("/api", [f"{__name__}.{name}" for name in ON_FIRST_USE])
    app.router.register_resource(lazy)
