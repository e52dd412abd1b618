"""Route tables, one module per API area; :func:`setup` registers them all."""

from __future__ import annotations

from aiohttp import web

from omni.serve.routes import (
    anthropic,
    api_keys,
    auth,
    backups,
    cache,
    combos,
    compliance,
    evals,
    gemini,
    media,
    models,
    monitoring,
    ollama,
    openai,
    openapi,
    pinned,
    provider_ops,
    providers,
    resilience,
    responses,
    settings,
    sync,
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
        cache,
        backups,
        settings,
        system,
        auth,
        api_keys,
        compliance,
        models,
        provider_ops,
        pinned,
        openapi,
        evals,
        sync,
    ):
        module.setup(app)
