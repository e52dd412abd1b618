"""Relaying an upstream stream to the client, as it arrives.

Two loops, all async generators the server writes out chunk by chunk:

- :func:`relay_openai`: OpenAI Chat in and out; bytes forwarded whole events at a time,
  usage observed, the usage chunk the client did not ask for dropped;
- :func:`relay_dialect`: any other pair; upstream bytes → IR events → the client's
  dialect, or (same dialect on both sides) bytes forwarded untouched while the decoder
  watches them for usage.

Each records the request's usage when it ends, however it ends: finished, upstream cut or
stalled (an error event in the client's dialect ends the stream), or the client gone (499).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import aiohttp

from omni import ir
from omni.providers.http import Answer
from omni.store.usage import UsageRecord
from omni.translate import errors as dialect_errors
from omni.translate.codec import StreamDecoder, StreamEncoder
from omni.translate.openai_chat import StreamRelay

Finish = Callable[[UsageRecord, float, int, ir.Usage | None], None]
_BROKEN = (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, TimeoutError)


class _Outcome:
    """How a relayed stream went: status, usage seen, and the failure to report."""

    __slots__ = ("failure", "status", "usage")

    def __init__(self) -> None:
        self.status = 200
        self.usage: ir.Usage | None = None
        self.failure: ir.Failure | None = None

    def watch(self, events: list[ir.Event]) -> None:
        for event in events:
            if isinstance(event, ir.Start | ir.UsageUpdate | ir.Finish):
                self.usage = ir.merge_usage(self.usage, event.usage)
            elif isinstance(event, ir.Failure):
                self.status = event.status

    def broken(self, exc: BaseException, record: UsageRecord, stall_s: float) -> ir.Failure:
        stalled = isinstance(exc, TimeoutError)
        self.status = 504 if stalled else 502
        record.error = "upstream_stalled" if stalled else "upstream_cut"
        message = (
            f"provider '{record.provider_id}' went silent for {stall_s:g} s mid-stream"
            if stalled
            else f"provider '{record.provider_id}' broke the connection mid-stream"
        )
        return ir.Failure(self.status, message, record.error)


def _ttft(record: UsageRecord, started: float) -> None:
    if record.ttft_ms is None:
        record.ttft_ms = (time.perf_counter() - started) * 1000


async def relay_openai(
    upstream: Answer,
    relay: StreamRelay,
    record: UsageRecord,
    started: float,
    stall_s: float,
    finish: Finish,
) -> AsyncIterator[bytes]:
    outcome = _Outcome()
    try:
        async for chunk in upstream.content.iter_any():
            out = relay.feed(chunk)
            if out:
                _ttft(record, started)
                yield out
        rest = relay.flush()
        if rest:
            yield rest
    except _BROKEN as exc:
        failure = outcome.broken(exc, record, stall_s)
        yield dialect_errors.error_event(
            ir.Dialect.OPENAI_CHAT, failure.status, failure.message, failure.code
        )
    except (GeneratorExit, asyncio.CancelledError):
        outcome.status, record.error = 499, "client_closed"
        raise
    finally:
        _release(upstream, outcome.status == 200 and relay.done)
        finish(record, started, outcome.status, relay.usage)


async def relay_dialect(
    upstream: Answer,
    decoder: StreamDecoder,
    encoder: StreamEncoder,
    record: UsageRecord,
    started: float,
    stall_s: float,
    finish: Finish,
    *,
    passthrough: bool,
) -> AsyncIterator[bytes]:
    """Decode the upstream stream as it arrives; forward its bytes unchanged
    (``passthrough``: same dialect on both sides) or re-encode its events for the client.
    Either way ``encoder`` writes the error event if the upstream breaks."""
    outcome = _Outcome()
    try:
        async for chunk in upstream.content.iter_any():
            events = decoder.feed(chunk)
            outcome.watch(events)
            out = chunk if passthrough else b"".join([encoder.encode(e) for e in events])
            if out:
                _ttft(record, started)
                yield out
        events = decoder.close()
        outcome.watch(events)
        if not passthrough:
            out = b"".join([encoder.encode(e) for e in events])
            if out:
                yield out
    except _BROKEN as exc:
        yield encoder.encode(outcome.broken(exc, record, stall_s))
    except (GeneratorExit, asyncio.CancelledError):
        outcome.status, record.error = 499, "client_closed"
        raise
    finally:
        _release(upstream, outcome.status == 200)
        finish(record, started, outcome.status, outcome.usage)


async def replay(events: list[ir.Event], encoder: StreamEncoder) -> AsyncIterator[bytes]:
    """A whole answer written as a stream (the upstream did not stream)."""
    yield b"".join([encoder.encode(event) for event in events])


def _release(upstream: Answer, clean: bool) -> None:
    if clean:
        upstream.release()  # the connection goes back to the pool
    else:
        upstream.close()
