"""Executor for OpenAI-compatible upstreams (OpenAI and most providers in the catalog).

Chat Completions live at ``{base_url}/chat/completions`` and the model list at
``{base_url}/models``; auth is whatever the catalog entry says (Bearer by default).
"""

from __future__ import annotations

import aiohttp

from omni.providers.executor import Target, send

CHAT_PATH = "/chat/completions"
MODELS_PATH = "/models"


def chat_url(target: Target) -> str:
    return target.base_url.rstrip("/") + CHAT_PATH


async def chat(
    session: aiohttp.ClientSession, target: Target, body: bytes, first_byte_timeout: float
) -> aiohttp.ClientResponse:
    """POST a Chat Completions body; returns the response once headers arrived."""
    return await send(session, target, chat_url(target), body, first_byte_timeout)


def models_url(base_url: str) -> str:
    return base_url.rstrip("/") + MODELS_PATH
