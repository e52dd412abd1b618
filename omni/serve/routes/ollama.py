"""Ollama dialect endpoints: ``/api/chat`` (also ``/v1/api/chat``), ``/api/tags``, ``/api/show``.

Streams are NDJSON, and Ollama clients stream unless the body says ``"stream": false``.
"""

from __future__ import annotations

from aiohttp import web

from omni.errors import InvalidInputError
from omni.gateway import media
from omni.gateway.pipeline import parse_object
from omni.ir import Dialect
from omni.serve import keys
from omni.serve.routes.reply import send
from omni.translate import ollama as ollama_dialect


async def chat(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    reply = await request.app[keys.GATEWAY].handle(
        Dialect.OLLAMA, body, endpoint="/api/chat", headers=request.headers
    )
    return await send(request, reply)


async def embed(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    return await send(
        request, await media.embeddings(request.app[keys.GATEWAY], Dialect.OLLAMA, body)
    )


async def tags(request: web.Request) -> web.Response:
    return web.json_response(ollama_dialect.tags(request.app[keys.GATEWAY].model_ids()))


async def show(request: web.Request) -> web.Response:
    data = parse_object(await request.read())
    name = data.get("model") or data.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInputError("'model' must name the model to show")
    request.app[keys.GATEWAY].model(name)  # 404 for a model omni cannot route
    return web.json_response(ollama_dialect.show(name))


def setup(app: web.Application) -> None:
    for prefix in ("", "/v1"):
        app.router.add_post(f"{prefix}/api/chat", chat)
        app.router.add_get(f"{prefix}/api/tags", tags)
        app.router.add_post(f"{prefix}/api/show", show)
        app.router.add_post(f"{prefix}/api/embed", embed)
