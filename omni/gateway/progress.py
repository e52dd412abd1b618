"""Progress events for streaming clients that ask for them (``X-OmniRoute-Progress: true``).

Such a client gets its ``200`` and stream headers at once (with
``X-OmniRoute-Progress: enabled``) and, while omni is still finding a target that answers
— waiting on a slow first byte, falling over, queueing at a cap — a server-sent-events
comment every :data:`HEARTBEAT_S` seconds (``: omni-progress waiting 3s``), which SSE
parsers skip and proxies see as traffic. Once a target answers, its stream follows; if
none does, the failure arrives as the dialect's error event instead of an HTTP error
status (the price of having started the answer). Only for SSE dialects.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable

from omni.gateway.answers import Reply
from omni.ir import Dialect
from omni.translate import errors as dialect_errors

HEARTBEAT_S = 1.0
SSE_DIALECTS = (Dialect.OPENAI_CHAT, Dialect.OPENAI_RESPONSES, Dialect.ANTHROPIC)
_CONTENT_TYPE = {Dialect.ANTHROPIC: "text/event-stream"}


def with_progress(dialect: Dialect, work: Awaitable[Reply]) -> Reply:
    """A stream reply that reports progress until ``work`` has the real answer."""
    return Reply(
        200,
        {"X-OmniRoute-Progress": "enabled"},
        stream=_progress(dialect, work),
        content_type=_CONTENT_TYPE.get(dialect, "text/event-stream"),
    )


async def _progress(dialect: Dialect, work: Awaitable[Reply]) -> AsyncIterator[bytes]:
    started = time.monotonic()
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_S)
            if done:
                break
            waited = time.monotonic() - started
            yield f": omni-progress waiting {waited:.0f}s\n\n".encode()
        reply = task.result()
    except BaseException:
        task.cancel()
        raise
    routed = reply.headers.get("X-OmniRoute-Model")
    if routed:
        yield f": omni-progress routed to {routed}\n\n".encode()
    if reply.status == 200 and reply.stream is not None:
        async for chunk in reply.stream:
            yield chunk
        return
    message = dialect_errors.upstream_message(reply.body) or f"HTTP {reply.status}"
    status = reply.status if reply.status >= 400 else 502
    yield dialect_errors.error_event(dialect, status, message)
