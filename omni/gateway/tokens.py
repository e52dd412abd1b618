"""Counting a request's input tokens (``/v1/messages/count_tokens``, Gemini ``:countTokens``).

Asks the upstream when its format has a counting endpoint (Anthropic, Gemini) and it
answers; otherwise estimates offline. The caller learns which, to say so in a header.
"""

from __future__ import annotations

from typing import Any

import orjson

from omni.errors import UpstreamError
from omni.gateway.answers import read_json
from omni.gateway.pipeline import Gateway, parse_object
from omni.ir import Dialect
from omni.providers.endpoints import count_tokens_url
from omni.providers.executor import Target, send
from omni.translate.codec import codec

_COUNT_FIELDS = ("model", "messages", "system", "tools", "tool_choice", "thinking")


async def count_tokens(
    gateway: Gateway, dialect: Dialect, body: bytes, model: str | None = None
) -> tuple[int, str]:
    """Input tokens of a request: ``(count, "upstream" | "estimate")``."""
    request = codec(dialect).decode_request(parse_object(body), model=model, stream=False)
    target = gateway.resolve(request.model)
    url = count_tokens_url(target)
    if url is not None:
        request.model = target.model
        encoded = codec(Dialect(target.format)).encode_request(request)
        if target.format == Dialect.GEMINI.value:
            payload: dict[str, Any] = {
                "generateContentRequest": {"model": f"models/{target.model}", **encoded}
            }
        else:
            payload = {k: v for k, v in encoded.items() if k in _COUNT_FIELDS}
        counted = await _upstream_count(gateway, target, url, payload)
        if counted is not None:
            return counted, "upstream"
    estimator = getattr(codec(dialect), "count_tokens_estimate", None)
    if estimator is None:
        from omni.translate.anthropic import count_tokens_estimate

        estimator = count_tokens_estimate
    return int(estimator(request)), "estimate"


async def _upstream_count(
    gateway: Gateway, target: Target, url: str, payload: dict[str, Any]
) -> int | None:
    try:
        upstream = await send(gateway.http, target, url, orjson.dumps(payload), 30.0)
    except UpstreamError:
        return None
    if upstream.status != 200:
        upstream.close()
        return None
    try:
        data = await read_json(upstream, target)
    except UpstreamError:
        return None
    count = data.get("input_tokens", data.get("totalTokens"))
    return count if isinstance(count, int) else None
