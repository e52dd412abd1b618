"""OpenAI Chat Completions: what the gateway reads from and writes to this dialect.

Pure functions over parsed JSON and raw SSE bytes: usage from a completion or a stream
chunk, and an incremental SSE splitter that forwards complete events unchanged while
letting the gateway observe (or drop) the usage-only chunk it asked the upstream for.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from omni.ir import Usage

DONE = b"data: [DONE]"
_USAGE_MARK = b'"usage"'
_EVENT_SPLIT = re.compile(rb"(\r?\n\r?\n)")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_from(obj: Any) -> Usage | None:
    """The usage of a ``chat.completion`` or ``chat.completion.chunk`` object, if it has one."""
    if not isinstance(obj, dict):
        return None
    usage = obj.get("usage")
    if not isinstance(usage, dict):
        return None
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    cache_write = _int(usage.get("cache_creation_input_tokens"))
    return Usage(
        input=_int(usage.get("prompt_tokens")),
        output=_int(usage.get("completion_tokens")),
        cache_read=_int(prompt_details.get("cached_tokens"))
        if isinstance(prompt_details, dict)
        else None,
        cache_write=cache_write,
        reasoning=_int(completion_details.get("reasoning_tokens"))
        if isinstance(completion_details, dict)
        else None,
    )


def usage_from_body(body: bytes) -> Usage | None:
    """Usage from a non-streamed response body (``None`` if it is not JSON or has none)."""
    if _USAGE_MARK not in body:
        return None
    try:
        return usage_from(orjson.loads(body))
    except orjson.JSONDecodeError:
        return None


class StreamRelay:
    """Splits an upstream Chat Completions SSE byte stream into complete events.

    :meth:`feed` returns the bytes to forward now: every complete event received so far,
    byte for byte, except the usage-only chunk (``"choices": []``) when ``drop_usage_chunk``
    is set because the client did not ask for usage. A partial event waits for the next
    chunk, so an event (and its JSON) is never split across two writes to the client.
    """

    __slots__ = ("_pending", "done", "drop_usage_chunk", "usage")

    def __init__(self, drop_usage_chunk: bool) -> None:
        self.drop_usage_chunk = drop_usage_chunk
        self._pending = b""
        self.usage: Usage | None = None
        self.done = False

    def feed(self, chunk: bytes) -> bytes:
        data = self._pending + chunk if self._pending else chunk
        lf, crlf = data.rfind(b"\n\n"), data.rfind(b"\r\n\r\n")
        cut = max(lf + 2 if lf >= 0 else 0, crlf + 4 if crlf >= 0 else 0)
        if not cut:
            self._pending = data
            return b""
        self._pending = data[cut:]
        ready = data[:cut]
        if _USAGE_MARK in ready:
            ready = self._observe(ready)
        if not self.done and DONE in ready:
            self.done = True
        return ready

    def flush(self) -> bytes:
        """What is left when the upstream closed without ending its last event."""
        rest, self._pending = self._pending, b""
        if rest and _USAGE_MARK in rest:
            rest = self._observe(rest)
        if DONE in rest:
            self.done = True
        return rest

    def _observe(self, block: bytes) -> bytes:
        """Record usage from the events in ``block``; drop the usage-only one if asked."""
        parts = _EVENT_SPLIT.split(block)  # [event, separator, event, separator, …, tail]
        kept: list[bytes] = []
        dropped = False
        for index in range(0, len(parts), 2):
            event = parts[index]
            separator = parts[index + 1] if index + 1 < len(parts) else b""
            if _USAGE_MARK in event and self._is_usage_only(event):
                dropped = True
                continue
            kept += (event, separator)
        return b"".join(kept) if dropped else block

    def _is_usage_only(self, event: bytes) -> bool:
        for line in event.splitlines():
            if not line.startswith(b"data:") or _USAGE_MARK not in line:
                continue
            try:
                obj = orjson.loads(line[5:])
            except orjson.JSONDecodeError:
                return False
            usage = usage_from(obj)
            if usage is None:
                return False
            self.usage = usage
            return self.drop_usage_chunk and not obj.get("choices")
        return False
