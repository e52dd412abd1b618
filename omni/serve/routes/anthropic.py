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
from omni.serve.routes.reply import send


async def messages(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    reply = await request.app[keys.GATEWAY].handle(
        Dialect.ANTHROPIC, body, endpoint="/v1/messages", headers=request.headers
    )
    return await send(request, reply)


async def count_tokens(request: web.Request) -> web.Response:
    body = await request.read()
    count, source = await tokens.count_tokens(request.app[keys.GATEWAY], Dialect.ANTHROPIC, body)
    return web.json_response({"input_tokens": count}, headers={"X-OmniRoute-Token-Count": source})


def setup(app: web.Application) -> None:
    for prefix in ("/v1", "", "/v1/v1"):
        app.router.add_post(f"{prefix}/messages", messages)
        app.router.add_post(f"{prefix}/messages/count_tokens", count_tokens)
