"""Embeddings, image generation and audio transcription through the gateway.

Embeddings are translated (OpenAI, Gemini and Ollama clients; OpenAI-compatible, Gemini
and Ollama upstreams). Images and transcriptions exist only in the OpenAI dialect and go
to OpenAI-compatible upstreams, forwarded with the model name rewritten. Each request gets
a usage row like a chat request.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from omni.errors import InvalidInputError, UpstreamError
from omni.gateway.answers import read_answer, read_json
from omni.gateway.pipeline import Gateway, Reply, parse_object, route_headers, stamp
from omni.ir import Dialect
from omni.providers.executor import Target, send
from omni.store.usage import UsageRecord
from omni.translate import embeddings as emb

_EMBED_FORMATS = ("openai", "gemini", "ollama")
EMBEDDING_HINTS = ("embed", "bge", "e5-", "minilm", "nomic")
IMAGE_HINTS = ("dall-e", "gpt-image", "imagen", "flux", "stable-diffusion", "sdxl", "image")


def _embed_url(target: Target) -> str:
    base = target.base_url.rstrip("/")
    if target.format == "gemini":
        return f"{base}/models/{target.model.removeprefix('models/')}:batchEmbedContents"
    if target.format == "ollama":
        return base + "/api/embed"
    return base + "/embeddings"


async def embeddings(
    gateway: Gateway, dialect: Dialect, body: bytes, *, model: str | None = None,
    batch: bool = True,
) -> Reply:  # fmt: skip
    """Serve an embedding request written in ``dialect``."""

    async def work(record: UsageRecord, started: float) -> Reply:
        request = emb.decode_request(dialect, parse_object(body), model=model)
        target = gateway.resolve(request.model, record)
        if target.format not in _EMBED_FORMATS:
            raise InvalidInputError(
                f"provider '{target.provider_id}' ({target.format}) has no embeddings API"
            )
        asked_model, request.model = request.model, target.model
        payload = orjson.dumps(emb.encode_request(target.format, request))
        upstream = await send(
            gateway.http,
            target,
            _embed_url(target),
            payload,
            gateway.settings.first_byte_timeout,
        )
        headers = route_headers(record, target)
        if upstream.status >= 400:
            return await gateway.error_reply(upstream, dialect, target, record, started, headers)
        answer = await read_json(upstream, target)
        try:
            result = emb.decode_response(target.format, answer)
        except (ValueError, TypeError, AttributeError):
            raise UpstreamError(
                f"provider '{target.provider_id}' sent embeddings omni cannot read"
            ) from None
        request.model = asked_model
        gateway.finish(record, started, 200, result.usage)
        stamp(headers, record, result.usage)
        out = emb.encode_response(dialect, request, result, batch=batch)
        return Reply(200, headers, body=orjson.dumps(out))

    return await gateway.run(dialect, "/v1/embeddings", work)


def _openai_target(gateway: Gateway, model: Any, record: UsageRecord, what: str) -> Target:
    if not isinstance(model, str) or not model:
        raise InvalidInputError("'model' must be a string naming the model to use")
    target = gateway.resolve(model, record)
    if target.format != "openai":
        raise InvalidInputError(
            f"provider '{target.provider_id}' ({target.format}) has no {what} API; "
            "use an OpenAI-compatible provider"
        )
    return target


async def _forward(
    gateway: Gateway,
    target: Target,
    path: str,
    payload: bytes | aiohttp.FormData,
    record: UsageRecord,
    started: float,
) -> Reply:
    url = target.base_url.rstrip("/") + path
    upstream = await send(gateway.http, target, url, payload, gateway.settings.first_byte_timeout)
    headers = route_headers(record, target)
    if upstream.status >= 400:
        return await gateway.error_reply(
            upstream, Dialect.OPENAI_CHAT, target, record, started, headers
        )
    content_type = upstream.content_type or "application/json"
    raw = await read_answer(upstream, target)
    gateway.finish(record, started, 200, None)
    stamp(headers, record, None)
    return Reply(200, headers, body=raw, content_type=content_type)


async def images(gateway: Gateway, body: bytes) -> Reply:
    """``POST /v1/images/generations`` to an OpenAI-compatible upstream."""

    async def work(record: UsageRecord, started: float) -> Reply:
        request = parse_object(body)
        target = _openai_target(gateway, request.get("model"), record, "image")
        request["model"] = target.model
        return await _forward(
            gateway, target, "/images/generations", orjson.dumps(request), record, started
        )

    return await gateway.run(Dialect.OPENAI_CHAT, "/v1/images/generations", work)


async def transcription(
    gateway: Gateway, fields: dict[str, str], file: tuple[str, bytes, str]
) -> Reply:
    """``POST /v1/audio/transcriptions`` (multipart) to an OpenAI-compatible upstream."""

    async def work(record: UsageRecord, started: float) -> Reply:
        target = _openai_target(gateway, fields.get("model"), record, "transcription")
        form = aiohttp.FormData()
        for name, value in fields.items():
            form.add_field(name, target.model if name == "model" else value)
        filename, data, content_type = file
        form.add_field("file", data, filename=filename, content_type=content_type)
        return await _forward(gateway, target, "/audio/transcriptions", form, record, started)

    return await gateway.run(Dialect.OPENAI_CHAT, "/v1/audio/transcriptions", work)


def model_list(gateway: Gateway, hints: tuple[str, ...]) -> bytes:
    """The OpenAI model list restricted to ids that look like one kind of model."""
    ids = [m for m in gateway.model_ids() if any(h in m.lower() for h in hints)]
    data = [{"id": m, "object": "model", "created": 0, "owned_by": m.partition("/")[0]}
            for m in ids]  # fmt: skip
    return orjson.dumps({"object": "list", "data": data})
