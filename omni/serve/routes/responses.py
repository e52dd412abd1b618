"""OpenAI Responses endpoint: ``/v1/responses`` (what Codex speaks, and only this)."""

from __future__ import annotations

from aiohttp import web

from omni.serve.routes import chat


def setup(app: web.Application) -> None:
    chat.setup(app, chat.RESPONSES)
