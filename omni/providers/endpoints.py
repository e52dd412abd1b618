"""Where each upstream wire format takes a chat request, relative to the provider's base URL.

The base URL is the API root the provider documents: ``…/v1`` for OpenAI-compatible,
Responses and Anthropic upstreams, ``…/v1beta`` for Gemini, the server root for Ollama.
Gemini puts the model and the streaming mode in the path. A custom provider (node) may
name its own chat path, used as given under its base URL.
"""

from __future__ import annotations

from urllib.parse import quote

from omni.providers.executor import Target


def chat_url(target: Target, stream: bool) -> str:
    """The URL of one chat call to ``target`` in its wire format."""
    base = target.base_url.rstrip("/")
    if target.chat_path:
        return base + target.chat_path
    fmt = target.format
    if fmt == "anthropic":
        return base + "/messages"
    if fmt == "responses":
        return base + "/responses"
    if fmt == "gemini":
        model = quote(target.model.removeprefix("models/"), safe="-._~/")
        return f"{base}/models/{model}:" + (
            "streamGenerateContent?alt=sse" if stream else "generateContent"
        )
    if fmt == "ollama":
        return base + "/api/chat"
    return base + "/chat/completions"


def count_tokens_url(target: Target) -> str | None:
    """The upstream's own token-counting endpoint, when its format has one."""
    base = target.base_url.rstrip("/")
    if target.format == "anthropic":
        return base + "/messages/count_tokens"
    if target.format == "gemini":
        model = quote(target.model.removeprefix("models/"), safe="-._~/")
        return f"{base}/models/{model}:countTokens"
    return None
