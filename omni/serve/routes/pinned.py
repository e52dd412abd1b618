"""Provider-pinned OpenAI endpoints: ``/v1/providers/{provider}/chat/completions``,
``/embeddings`` and ``/images/generations``.

The same as the plain routes, but the model is forced onto ``provider``: a model without
that prefix gets ``provider/`` in front (so ``gpt-4o`` on ``/v1/providers/openai/…`` is
``openai/gpt-4o``, and OpenRouter's ``anthropic/claude-…`` stays on OpenRouter). A model
that names another configured provider and is not one of this provider's own is a 400.
"""

from __future__ import annotations

import orjson
from aiohttp import web

from omni.errors import InvalidInputError, NotFoundError
from omni.gateway import media
from omni.gateway.pipeline import parse_object
from omni.gateway.registry import Registry
from omni.ir import Dialect
from omni.serve import keys
from omni.serve.routes.reply import send


def pin_model(registry: Registry, provider: str, model: str) -> str:
    """``model`` as a model string routed to ``provider`` (or a 400/404 saying why not)."""
    entry = registry.provider(provider)
    if entry is None:
        raise NotFoundError(
            f"no enabled provider named '{provider}'", hint="see 'omni providers list'"
        )
    prefix, sep, rest = model.partition("/")
    if sep:
        named = registry.provider(prefix)
        if named is not None and named.id == entry.id:
            return f"{entry.id}/{rest}"
        if named is not None and model not in entry.models:
            raise InvalidInputError(
                f"model '{model}' belongs to provider '{named.id}', but this endpoint is "
                f"pinned to '{entry.id}'",
                hint=f"ask for a model of '{entry.id}', or use the endpoint without "
                "/providers/{provider}",
            )
    return f"{entry.id}/{model}"


async def _pinned(request: web.Request) -> bytes:
    obj = parse_object(await request.read())
    model = obj.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidInputError("'model' must be a string naming the model to use")
    registry = request.app[keys.GATEWAY].registry
    obj["model"] = pin_model(registry, request.match_info["provider"], model)
    return orjson.dumps(obj)


async def chat_completions(request: web.Request) -> web.StreamResponse:
    body = await _pinned(request)
    reply = await request.app[keys.GATEWAY].handle(
        Dialect.OPENAI_CHAT,
        body,
        endpoint="/v1/providers/chat/completions",
        wants_sse="text/event-stream" in request.headers.get("Accept", ""),
        headers=request.headers,
    )
    return await send(request, reply)


async def embeddings(request: web.Request) -> web.StreamResponse:
    body = await _pinned(request)
    reply = await media.embeddings(request.app[keys.GATEWAY], Dialect.OPENAI_CHAT, body)
    return await send(request, reply)


async def images(request: web.Request) -> web.StreamResponse:
    body = await _pinned(request)
    return await send(request, await media.images(request.app[keys.GATEWAY], body))


def setup(app: web.Application) -> None:
    for prefix in ("/v1", ""):
        base = prefix + "/providers/{provider}"
        app.router.add_post(base + "/chat/completions", chat_completions)
        app.router.add_post(base + "/embeddings", embeddings)
        app.router.add_post(base + "/images/generations", images)
