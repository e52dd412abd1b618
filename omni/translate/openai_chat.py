"""OpenAI Chat Completions: what the gateway reads from and writes to this dialect.

Pure functions over parsed JSON and raw SSE bytes: usage from a completion or a stream
chunk, and an incremental SSE splitter that forwards complete events unchanged while
letting the gateway observe (or drop) the usage-only chunk it asked the upstream for.
"""

from __future__ import annotations

from typing import Any

import orjson

from omni.ir import Usage

DONE = b"data: [DONE]"
_USAGE_MARK = b'"usage"'


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
    """Splits an upstream Chat Completions SSE byte stream into complete lines.

    :meth:`feed` returns the bytes to forward now: every complete line received so far,
    byte for byte, except the usage-only chunk (``"choices": []``) when ``drop_usage_chunk``
    is set because the client did not ask for usage. A partial line waits for the next
    chunk, so a JSON object is never split across two writes to the client.
    """

    __slots__ = ("_pending", "done", "drop_usage_chunk", "usage")

    def __init__(self, drop_usage_chunk: bool) -> None:
        self.drop_usage_chunk = drop_usage_chunk
        self._pending = b""
        self.usage: Usage | None = None
        self.done = False

    def feed(self, chunk: bytes) -> bytes:
        data = self._pending + chunk if self._pending else chunk
        cut = data.rfind(b"\n") + 1
        self._pending = data[cut:]
        if not cut:
            return b""
        ready = data[:cut]
        if _USAGE_MARK in ready:
            ready = self._observe(ready)
        if not self.done and DONE in ready:
            self.done = True
        return ready

    def flush(self) -> bytes:
        """What is left when the upstream closed without a final newline."""
        rest, self._pending = self._pending, b""
        if rest and _USAGE_MARK in rest:
            rest = self._observe(rest + b"\n")
        if DONE in rest:
            self.done = True
        return rest

    def _observe(self, block: bytes) -> bytes:
        lines = block.split(b"\n")
        kept = []
        for line in lines:
            if line.startswith(b"data:") and _USAGE_MARK in line:
                try:
                    obj = orjson.loads(line[5:])
                except orjson.JSONDecodeError:
                    kept.append(line)
                    continue
                usage = usage_from(obj)
                if usage is not None:
                    self.usage = usage
                    if self.drop_usage_chunk and not obj.get("choices"):
                        continue
            kept.append(line)
        if len(kept) == len(lines):
            return block
        # Dropping a data line leaves its blank separator line behind; drop that too.
        out = b"\n".join(kept)
        return out.replace(b"\n\n\n", b"\n\n").lstrip(b"\n")
