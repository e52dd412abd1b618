"""Route tables, one module per API area; :func:`setup` registers them all."""

from __future__ import annotations

from aiohttp import web

from omni.serve.routes import (
    anthropic,
    api_keys,
    auth,
    backups,
    combos,
    compliance,
    events,
    gemini,
    media,
    models,
    monitoring,
    ollama,
    openai,
    pinned,
    provider_ops,
    providers,
    resilience,
    responses,
    settings,
    system,
    telemetry,
    usage,
)


def setup(app: web.Application) -> None:
    for module in (
        openai,
        anthropic,
        responses,
        gemini,
        ollama,
        media,
        monitoring,
        providers,
        combos,
        resilience,
        usage,
        telemetry,
        backups,
        settings,
        system,
        auth,
        api_keys,
        compliance,
        models,
        provider_ops,
        pinned,
        events,
    ):
        module.setup(app)
