"""Route tables, one module per API area; :func:`setup` registers them all."""

from __future__ import annotations

from aiohttp import web

from omni.serve.routes import (
    accounts,
    anthropic,
    api_keys,
    auth,
    backups,
    cache,
    cli_tools,
    combos,
    compliance,
    events,
    gemini,
    media,
    models,
    monitoring,
    oauth,
    ollama,
    openai,
    pinned,
    probes,
    provider_ops,
    providers,
    resilience,
    responses,
    settings,
    system,
    telemetry,
    usage,
    usage_history,
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
        oauth,
        accounts,
        probes,
        usage_history,
        cli_tools,
        events,
    ):
        module.setup(app)
