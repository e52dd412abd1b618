"""OpenAI Chat Completions streams: pass-through relay, decoder and encoder.

- :class:`StreamRelay` forwards an upstream's SSE bytes unchanged, whole events at a time,
  observing usage (and dropping the usage-only chunk the client did not ask for).
- :class:`StreamDecoder` turns upstream chunks into IR events: ``reasoning_content`` /
  ``reasoning`` and ``<think>…</think>`` text become reasoning (the newlines around the
  tags dropped, as the non-streamed decoder does), ``tool_calls`` deltas become tool-call
  starts and argument deltas (renumbered from 0; deltas without an ``index`` follow their
  ``id``); the answer finishes at ``[DONE]`` (after the usage chunk, which follows the
  finish reason), or at the end of input.
- :class:`StreamEncoder` writes ``chat.completion.chunk`` events that the openai SDK and
  its ``.stream()`` helper accept: every chunk has ``object`` and ``choices[].index``.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from omni import ir
from omni.translate import errors
from omni.translate._common import SSEParser, new_id
from omni.translate.openai_common import (
    FINISH_TO_STOP,
    STOP_TO_FINISH,
    USAGE_OBJECT,
    usage_from,
    usage_payload,
)

DONE = b"data: [DONE]"


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
        self.usage: ir.Usage | None = None
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
        if USAGE_OBJECT.search(ready):
            ready = self._observe(ready)
        if not self.done and DONE in ready:
            self.done = True
        return ready

    def flush(self) -> bytes:
        """What is left when the upstream closed without ending its last event."""
        rest, self._pending = self._pending, b""
        if rest and USAGE_OBJECT.search(rest):
            rest = self._observe(rest)
        if DONE in rest:
            self.done = True
        return rest

    def _observe(self, block: bytes) -> bytes:
        """Record usage from the events in ``block`` that carry a usage object (found
        without splitting the rest); drop the usage-only one if asked."""
        kept: list[bytes] = []
        copied = position = 0
        while (found := USAGE_OBJECT.search(block, position)) is not None:
            start, end, after = _event_around(block, found.start())
            position = after
            if self._is_usage_only(block[start:end]):
                kept.append(block[copied:start])
                copied = after
        if not copied:
            return block
        kept.append(block[copied:])
        return b"".join(kept)

    def _is_usage_only(self, event: bytes) -> bool:
        for line in event.splitlines():
            if not line.startswith(b"data:") or not USAGE_OBJECT.search(line):
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


class _ThinkSplitter:
    """Routes content deltas to reasoning while inside a leading ``<think>`` block."""

    __slots__ = ("_held", "_lead", "_state")

    def __init__(self) -> None:
        self._state = "start"  # start → (think → after → text) | text
        self._held = ""
        self._lead = True  # newlines right after <think> are not thinking

    def feed(self, text: str) -> list[ir.Event]:
        if self._state == "text":
            return [ir.TextDelta(text)]
        if self._state == "after":  # newlines right after </think> are not text either
            text = text.lstrip("\n")
            if text:
                self._state = "text"
            return [ir.TextDelta(text)] if text else []
        self._held += text
        if self._state == "start":
            stripped = self._held.lstrip()
            if "<think>".startswith(stripped):
                return []  # could still become the opening tag
            if not stripped.startswith("<think>"):
                self._state, held, self._held = "text", self._held, ""
                return [ir.TextDelta(held)]
            self._state, self._held = "think", stripped[7:]
        end = self._held.find("</think>")
        if end >= 0:
            thought, rest = self._held[:end].rstrip("\n"), self._held[end + 8 :]
            self._state, self._held = "after", ""
            return self._thought(thought) + self.feed(rest)
        keep = max((k for k in range(1, 8) if "</think>".startswith(self._held[-k:])), default=0)
        thought = self._held[: len(self._held) - keep].rstrip("\n")  # may precede </think>
        self._held = self._held[len(thought) :]
        return self._thought(thought)

    def _thought(self, text: str) -> list[ir.Event]:
        if self._lead:
            text = text.lstrip("\n")
            self._lead = not text
        return [ir.ReasoningDelta(text)] if text else []

    def flush(self) -> list[ir.Event]:
        held, self._held = self._held, ""
        if self._state == "think":
            return self._thought(held.rstrip("\n"))
        return [ir.TextDelta(held)] if held else []


class StreamDecoder:
    """Upstream Chat Completions SSE → IR events."""

    def __init__(self) -> None:
        self._sse = SSEParser()
        self._started = False
        self._finished = False
        self._stop: ir.Stop | None = None
        self._usage: ir.Usage | None = None
        self._calls: dict[object, int] = {}  # upstream tool index (or id) → IR index
        self._ids: set[str] = set()
        self._last: object = None
        self._think = _ThinkSplitter()

    def feed(self, chunk: bytes) -> list[ir.Event]:
        return self._events(self._sse.feed(chunk))

    def _finish(self) -> ir.Finish:
        stop = self._stop or ir.Stop.END
        if stop is ir.Stop.END and self._calls:  # some upstreams say "stop" after tool calls
            stop = ir.Stop.TOOL_USE
        return ir.Finish(stop, self._usage)

    def close(self) -> list[ir.Event]:
        events = self._events(self._sse.close())
        if not self._finished:
            events += self._think.flush()
            if self._started:
                events.append(self._finish())
            else:
                events.append(ir.Failure(502, "the upstream closed the stream without an answer"))
            self._finished = True
        return events

    def _events(self, raw: list[tuple[str | None, bytes]]) -> list[ir.Event]:
        out: list[ir.Event] = []
        for _, data in raw:
            if self._finished:
                break
            if data.strip() == b"[DONE]":
                out += self._think.flush()
                out.append(self._finish())
                self._finished = True
                break
            try:
                obj = orjson.loads(data)
            except orjson.JSONDecodeError:
                continue  # a malformed line is skipped, the stream goes on
            if isinstance(obj, dict):
                self._chunk(obj, out)
        return out

    def _chunk(self, obj: dict[str, Any], out: list[ir.Event]) -> None:
        error = obj.get("error")
        if isinstance(error, dict) or (isinstance(error, str) and "choices" not in obj):
            message = error.get("message") if isinstance(error, dict) else error
            code = error.get("code") if isinstance(error, dict) else None
            out.append(ir.Failure(502, str(message or "upstream error"), str(code or "") or None))
            self._finished = True
            return
        if not self._started:
            self._started = True
            out.append(
                ir.Start(str(obj.get("id") or new_id("chatcmpl-")), str(obj.get("model") or ""))
            )
        usage = usage_from(obj)
        if usage is not None:
            self._usage = usage
            out.append(ir.UsageUpdate(usage))
        for choice in obj.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if isinstance(delta, dict):
                self._delta(delta, out)
            finish = choice.get("finish_reason")
            if finish:
                self._stop = FINISH_TO_STOP.get(str(finish), ir.Stop.END)
                out += self._think.flush()  # content is over: release held-back text

    def _delta(self, delta: dict[str, Any], out: list[ir.Event]) -> None:
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            out.append(ir.ReasoningDelta(reasoning))
        content = delta.get("content")
        if isinstance(content, str) and content:
            out += self._think.feed(content)
        calls = delta.get("tool_calls") or []
        if calls:
            out += self._think.flush()
        for call in calls:
            if not isinstance(call, dict):
                continue
            function = call.get("function")
            fn: dict[str, Any] = function if isinstance(function, dict) else {}
            key = call.get("index")
            if not isinstance(key, int):  # no index: a new id starts a call, else the last one
                new = call.get("id") and call.get("id") not in self._ids
                key = ("id", call.get("id")) if new or not self._calls else self._last
            self._last = key
            index = self._calls.get(key)
            if index is None:
                index = self._calls[key] = len(self._calls)
                call_id = str(call.get("id") or new_id("call_"))
                self._ids.add(call_id)
                out.append(ir.ToolCallStart(index, call_id, str(fn.get("name") or "")))
            arguments = fn.get("arguments")
            if isinstance(arguments, str) and arguments:
                out.append(ir.ToolCallDelta(index, arguments))


class StreamEncoder:
    """IR events → ``chat.completion.chunk`` SSE for a client."""

    def __init__(self, model: str, response_id: str, include_usage: bool = False) -> None:
        self.include_usage = include_usage
        self._head = (
            b'data: {"id":' + orjson.dumps(response_id) + b',"object":"chat.completion.chunk",'
            b'"created":' + str(int(time.time())).encode() + b',"model":' + orjson.dumps(model)
        )
        self._started = False
        self._ended = False
        self._usage: ir.Usage | None = None

    def _choice(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        return (
            self._head
            + b',"choices":[{"index":0,"delta":'
            + orjson.dumps(delta)
            + b',"logprobs":null,"finish_reason":'
            + orjson.dumps(finish)
            + b"}]}\n\n"
        )

    def encode(self, event: ir.Event) -> bytes:
        if self._ended:
            return b""
        out = b""
        if not self._started:
            self._started = True
            out = self._choice({"role": "assistant", "content": ""})
            if isinstance(event, ir.Start):
                if event.usage is not None:
                    self._usage = event.usage
                return out
        if isinstance(event, ir.TextDelta):
            return out + self._choice({"content": event.text})
        if isinstance(event, ir.ReasoningDelta):
            return out + (self._choice({"reasoning_content": event.text}) if event.text else b"")
        if isinstance(event, ir.ToolCallStart):
            call = {"index": event.index, "id": event.id, "type": "function",
                    "function": {"name": event.name, "arguments": ""}}  # fmt: skip
            return out + self._choice({"tool_calls": [call]})
        if isinstance(event, ir.ToolCallDelta):
            call = {"index": event.index, "function": {"arguments": event.arguments}}
            return out + self._choice({"tool_calls": [call]})
        if isinstance(event, ir.UsageUpdate):
            self._usage = event.usage
            return out
        if isinstance(event, ir.Finish):
            self._ended = True
            usage = event.usage or self._usage
            out += self._choice({}, STOP_TO_FINISH.get(event.stop, "stop"))
            if self.include_usage:
                out += (
                    self._head
                    + b',"choices":[],"usage":'
                    + orjson.dumps(usage_payload(usage or ir.Usage()))
                    + b"}\n\n"
                )
            return out + DONE + b"\n\n"
        if isinstance(event, ir.Failure):
            self._ended = True
            return out + errors.error_event(
                ir.Dialect.OPENAI_CHAT, event.status, event.message, event.code
            )
        return out


def _event_around(block: bytes, at: int) -> tuple[int, int, int]:
    """The SSE event of ``block`` that holds offset ``at``: its start, its end and the end
    of the blank line after it (LF or CRLF framing)."""
    lf, crlf = block.rfind(b"\n\n", 0, at), block.rfind(b"\n\r\n", 0, at)
    start = max(lf + 2 if lf >= 0 else 0, crlf + 3 if crlf >= 0 else 0)
    ends = [
        (i, i + n)
        for i, n in ((block.find(b"\n\n", at), 2), (block.find(b"\r\n\r\n", at), 4))
        if i >= 0
    ]
    end, after = min(ends) if ends else (len(block), len(block))
    return start, end, after
