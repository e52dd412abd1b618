"""OpenAI dialect endpoints: ``/v1/chat/completions`` and ``/v1/models`` (provider models,
combos and user aliases, from the routing snapshot).

Also served under the bare ``/chat/completions`` and ``/models`` shortcuts and the
doubled ``/v1/v1/`` prefix that misconfigured clients send.
"""

from __future__ import annotations

from aiohttp import web

from omni.serve import keys
from omni.serve.routes import chat


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
    chat.setup(app, chat.OPENAI)
    for prefix in chat.PREFIXES:
        app.router.add_get(f"{prefix}/models", models)
        app.router.add_get(prefix + "/models/{model_id:.+}", model)
