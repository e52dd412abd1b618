"""Serving a request from an answer already given: cache hits, idempotent replays, and
requests that wait for an identical one in flight (see :mod:`omni.gateway.cache`).

:func:`serve` wraps one request: it answers from an idempotency key or the exact cache when
it can (``X-OmniRoute-Cache: HIT``, ``X-OmniRoute-Idempotent: true``), otherwise runs it
(``MISS``) and keeps the answer once it is complete — a streamed answer is collected as it
passes and stored when it ends well. A stored answer is replayed in the client's dialect,
as a stream when the client asked for one.

When the semantic cache is on (and only then), an exact miss may still be answered by a
prompt close enough in meaning (:mod:`omni.gateway.semantic`;
``X-OmniRoute-Cache-Similarity``), and a new answer's prompt is kept for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from omni.gateway import streams
from omni.gateway.answers import Reply
from omni.gateway.cache import IDEMPOTENCY_WINDOW_S, Entry, deterministic, request_key
from omni.ir import Dialect
from omni.store.usage import UsageRecord
from omni.translate import openai_chat
from omni.translate.codec import StreamEncoder, codec
from omni.translate.replay import collect, response_events

if TYPE_CHECKING:
    from omni.gateway.pipeline import Gateway
    from omni.gateway.semantic import Probe

_TRUE = ("1", "true", "yes")


def cacheable(gw: Gateway, obj: Mapping[str, Any], headers: Mapping[str, str]) -> bool:
    """Whether the exact cache may answer (and keep) this request."""
    if not gw.cache.config.enabled or headers.get("X-OmniRoute-No-Cache", "").lower() in _TRUE:
        return False
    return deterministic(obj) or headers.get("X-OmniRoute-Cache", "").lower() in _TRUE


def wanted(gw: Gateway, obj: Mapping[str, Any], headers: Mapping[str, str]) -> bool:
    """Whether this request may be served from (or kept for) reuse at all."""
    if "Idempotency-Key" in headers or "X-Request-Id" in headers:
        return True
    return cacheable(gw, obj, headers)


async def serve(
    gw: Gateway,
    dialect: Dialect,
    obj: dict[str, Any],
    model: str | None,
    headers: Mapping[str, str],
    record: UsageRecord,
    started: float,
    run: Callable[[], Awaitable[Reply]],
) -> Reply:
    cache = gw.cache
    namespace = str(record.api_key_id) if record.api_key_id is not None else "-"
    idem = headers.get("Idempotency-Key") or headers.get("X-Request-Id")
    idem_key = f"{namespace}\0{idem}" if idem else None
    if idem_key is not None:
        entry = cache.idempotent(idem_key)
        if entry is None and idem_key in cache.inflight:
            entry = await asyncio.shield(cache.inflight[idem_key])
        if entry is not None:
            return _replay(gw, dialect, obj, entry, record, started, "X-OmniRoute-Idempotent")
    key: str | None = None
    similar: Probe | None = None
    if cacheable(gw, obj, headers):
        key = request_key(dialect.value, namespace, obj, model)
        entry = await cache.get(key)
        if entry is None and key in cache.inflight:
            entry = await asyncio.shield(cache.inflight[key])
        if entry is not None:
            cache.hits += 1
            cache.saved_usd += entry.cost or 0.0
            return _replay(gw, dialect, obj, entry, record, started, "X-OmniRoute-Cache")
        cache.misses += 1
        if cache.config.semantic.enabled:  # the semantic cache (off unless enabled)
            requested = record.requested_model or ""
            similar = cache.semantic.probe(dialect, obj, model, requested, namespace)
    waiting: asyncio.Future[Entry | None] = asyncio.get_running_loop().create_future()
    for name in (key, idem_key):
        if name is not None:
            cache.inflight[name] = waiting

    def done(entry: Entry | None, kept: bool = False) -> None:
        for name in (key, idem_key):
            if name is not None and cache.inflight.get(name) is waiting:
                del cache.inflight[name]
        if entry is not None:
            if key is not None and not kept:
                cache.put(key, entry)
                if similar is not None:
                    cache.semantic.remember(gw, similar, key, entry.expires)
            if idem_key is not None:
                expires = cache.clock() + IDEMPOTENCY_WINDOW_S
                cache.remember_idempotent(idem_key, _with_expiry(entry, expires))
        if not waiting.done():
            waiting.set_result(entry)

    try:
        if similar is not None:
            found = await cache.semantic.lookup(gw, cache, similar)
            if found is not None:
                entry, similarity = found
                cache.saved_usd += entry.cost or 0.0
                done(entry, kept=True)
                return _replay(gw, dialect, obj, entry, record, started, "X-OmniRoute-Cache",
                               similarity)  # fmt: skip
        reply = await run()
    except BaseException:
        done(None)
        raise
    if key is not None:
        reply.headers["X-OmniRoute-Cache"] = "MISS"
    if reply.status != 200:
        done(None)
        return reply
    ttl = cache.config.ttl_s
    if reply.stream is None:
        done(_entry(reply.body, record, cache.clock() + ttl))
        return reply
    reply.stream = _keep(reply.stream, dialect, record, cache.clock() + ttl, done)
    return reply


def _entry(body: bytes, record: UsageRecord, expires: float) -> Entry:
    return Entry(body, record.provider_id or "", record.model or "", record.cost_usd, expires)


def _with_expiry(entry: Entry, expires: float) -> Entry:
    return Entry(entry.body, entry.provider, entry.model, entry.cost, expires)


async def _keep(
    stream: AsyncIterator[bytes],
    dialect: Dialect,
    record: UsageRecord,
    expires: float,
    done: Callable[[Entry | None], None],
) -> AsyncIterator[bytes]:
    """Pass the stream through; when it ended well, keep the whole answer it made."""
    chunks: list[bytes] = []
    entry: Entry | None = None
    try:
        async for chunk in stream:
            chunks.append(chunk)
            yield chunk
        if record.status == 200 and record.error is None:
            inbound = codec(dialect)
            decoder = inbound.StreamDecoder()
            events = decoder.feed(b"".join(chunks)) + decoder.close()
            answer = collect(events)
            if answer is not None:
                body = orjson.dumps(inbound.encode_response(answer))
                entry = _entry(body, record, expires)
    finally:
        done(entry)


def _replay(
    gw: Gateway,
    dialect: Dialect,
    obj: Mapping[str, Any],
    entry: Entry,
    record: UsageRecord,
    started: float,
    marker: str,
    similarity: float | None = None,
) -> Reply:
    """A kept answer, written for this request (as a stream if it asked for one)."""
    record.provider_id, record.model, record.attempts = entry.provider, entry.model, 0
    kind = "cache" if marker.endswith("Cache") else "idempotency"
    if similarity is not None:
        kind = "semantic"
    record.route = orjson.dumps([[kind, "", "hit"]]).decode()
    record.cost_usd = 0.0
    headers = {
        "X-OmniRoute-Request-Id": record.request_id,
        "X-OmniRoute-Provider": entry.provider,
        "X-OmniRoute-Model": f"{entry.provider}/{entry.model}",
        marker: "HIT" if marker.endswith("Cache") else "true",
    }
    if similarity is not None:
        headers["X-OmniRoute-Cache-Similarity"] = f"{similarity:.2f}"
    gw.finish(record, started, 200, None)
    if not record.stream:
        return Reply(200, headers, body=entry.body)
    inbound = codec(dialect)
    answer = inbound.decode_response(orjson.loads(entry.body))
    response_id = f"{answer.id or 'cached'}-{record.request_id}"
    if dialect is Dialect.OPENAI_CHAT:
        options = obj.get("stream_options")
        usage = isinstance(options, dict) and options.get("include_usage") is True
        encoder: StreamEncoder = openai_chat.StreamEncoder(
            entry.model, response_id, include_usage=usage
        )
    else:
        encoder = inbound.StreamEncoder(entry.model, response_id)
    stream = streams.replay(response_events(answer), encoder)
    return Reply(200, headers, stream=stream, content_type=inbound.STREAM_CONTENT_TYPE)
