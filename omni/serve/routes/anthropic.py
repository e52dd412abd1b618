"""Anthropic dialect endpoints: ``/v1/messages`` and ``/v1/messages/count_tokens``.

Claude Code and the anthropic SDKs send either ``x-api-key`` or ``Authorization: Bearer``;
both reach the same handler. ``count_tokens`` asks the upstream when its format has a
counting endpoint and estimates offline otherwise; ``X-OmniRoute-Token-Count`` says which.
"""

from __future__ import annotations

from aiohttp import web

from omni.gateway import tokens
from omni.ir import Dialect
from omni.serve import keys
from omni.serve.routes import chat


async def count_tokens(request: web.Request) -> web.Response:
    body = await request.read()
    count, source = await tokens.count_tokens(request.app[keys.GATEWAY], Dialect.ANTHROPIC, body)
    return web.json_response({"input_tokens": count}, headers={"X-OmniRoute-Token-Count": source})


def setup(app: web.Application) -> None:
    chat.setup(app, chat.ANTHROPIC)
    for prefix in chat.PREFIXES:
        app.router.add_post(f"{prefix}/messages/count_tokens", count_tokens)
