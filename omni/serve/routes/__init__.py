"""Route tables, one module per API area; :func:`setup` registers them all."""

from __future__ import annotations

from aiohttp import web

from omni.serve.routes import monitoring, openai, providers


def setup(app: web.Application) -> None:
    for module in (openai, monitoring, providers):
        module.setup(app)
