"""OpenAI Responses endpoint: ``/v1/responses`` (what Codex speaks, and only this)."""

from __future__ import annotations

from aiohttp import web

from omni.ir import Dialect
from omni.serve import keys
from omni.serve.routes.reply import send


async def responses(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    reply = await request.app[keys.GATEWAY].handle(
        Dialect.OPENAI_RESPONSES,
        body,
        endpoint="/v1/responses",
        wants_sse="text/event-stream" in request.headers.get("Accept", ""),
        headers=request.headers,
    )
    return await send(request, reply)


def setup(app: web.Application) -> None:
    for prefix in ("/v1", "", "/v1/v1"):
        app.router.add_post(f"{prefix}/responses", responses)
