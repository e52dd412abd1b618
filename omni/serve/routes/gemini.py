"""Gemini dialect endpoints: ``/v1beta/models/{model}:{method}`` and model lists.

google-genai 3.x calls ``/v1/models/...`` and older SDKs, gemini-cli and opencode call
``/v1beta/models/...``; both are served here. The model and the streaming mode are in the
path: ``:generateContent``, ``:streamGenerateContent`` (always answered as SSE),
``:countTokens``.
"""

from __future__ import annotations

from aiohttp import web

from omni.errors import InvalidInputError, NotFoundError
from omni.gateway import media, tokens
from omni.ir import Dialect
from omni.serve import keys
from omni.serve.routes.reply import send
from omni.translate import gemini as gemini_dialect

_METHODS = (
    "generateContent", "streamGenerateContent", "countTokens", "embedContent",
    "batchEmbedContents",
)  # fmt: skip


async def model_method(request: web.Request) -> web.StreamResponse:
    tail = request.match_info["tail"]
    model, sep, method = tail.rpartition(":")
    if not sep or not model:
        raise NotFoundError(f"no such endpoint: {request.method} {request.path}")
    if method not in _METHODS:
        raise InvalidInputError(
            f"method '{method}' is not supported; use one of {', '.join(_METHODS)}"
        )
    gateway = request.app[keys.GATEWAY]
    body = await request.read()
    if method in ("embedContent", "batchEmbedContents"):
        reply = await media.embeddings(
            gateway, Dialect.GEMINI, body, model=model, batch=method == "batchEmbedContents"
        )
        return await send(request, reply)
    if method == "countTokens":
        count, source = await tokens.count_tokens(gateway, Dialect.GEMINI, body, model=model)
        return web.json_response(
            {"totalTokens": count}, headers={"X-OmniRoute-Token-Count": source}
        )
    reply = await gateway.handle(
        Dialect.GEMINI,
        body,
        endpoint=f"/v1beta/models:{method}",
        model=model,
        headers=request.headers,
        stream=method == "streamGenerateContent",
    )
    return await send(request, reply)


async def models(request: web.Request) -> web.Response:
    ids = request.app[keys.GATEWAY].model_ids()
    return web.json_response(gemini_dialect.models_list(ids))


def setup(app: web.Application) -> None:
    app.router.add_get("/v1beta/models", models)
    app.router.add_post("/v1beta/models/{tail:.+}", model_method)
    app.router.add_post("/v1/models/{tail:.+}", model_method)
