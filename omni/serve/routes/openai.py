"""OpenAI dialect endpoints: ``/v1/chat/completions`` and ``/v1/models`` (provider models,
combos and user aliases, from the routing snapshot).

Also served under the bare ``/chat/completions`` and ``/models`` shortcuts and the
doubled ``/v1/v1/`` prefix that misconfigured clients send.
"""

from __future__ import annotations

from aiohttp import web

from omni.ir import Dialect
from omni.serve import keys
from omni.serve.routes.reply import send

_PREFIXES = ("/v1", "", "/v1/v1")


async def chat_completions(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    reply = await request.app[keys.GATEWAY].handle(
        Dialect.OPENAI_CHAT,
        body,
        endpoint="/v1/chat/completions",
        wants_sse="text/event-stream" in request.headers.get("Accept", ""),
        headers=request.headers,
    )
    return await send(request, reply)


async def models(request: web.Request) -> web.Response:
    """The model list, shaped for whichever client asks (they share this path)."""
    registry = request.app[keys.GATEWAY].registry  # models, combos and aliases
    headers = request.headers
    if "anthropic-version" in headers:
        from omni.translate import anthropic

        return web.json_response(anthropic.models_list(registry.model_ids()))
    if "x-goog-api-key" in headers and "Authorization" not in headers:
        from omni.translate import gemini

        return web.json_response(gemini.models_list(registry.model_ids()))
    return web.Response(body=registry.models_body(), content_type="application/json")


async def model(request: web.Request) -> web.Response:
    gateway = request.app[keys.GATEWAY]
    model_id = request.match_info["model_id"]
    entry = gateway.registry.model_entry(model_id)
    return web.json_response(entry if entry is not None else gateway.model(model_id))


def setup(app: web.Application) -> None:
    for prefix in _PREFIXES:
        app.router.add_post(f"{prefix}/chat/completions", chat_completions)
        app.router.add_get(f"{prefix}/models", models)
        app.router.add_get(prefix + "/models/{model_id:.+}", model)
