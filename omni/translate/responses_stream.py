"""OpenAI Responses API streams ↔ IR events, and the wire pieces shared with ``responses``.

:class:`StreamDecoder` reads an upstream's typed SSE events into IR events;
:class:`StreamEncoder` writes the sequence Codex and the openai SDK's ``responses.stream()``
helper need: lifecycle events, items opened before their deltas and closed in order, one
terminal event. Usage, the response object and the stop mapping live here so
:mod:`omni.translate.responses` can import them without a cycle. Pure code, no I/O.
"""

from __future__ import annotations

import time
from dataclasses import astuple, dataclass, field
from typing import Any

import orjson

from omni import ir
from omni.translate import signatures
from omni.translate._common import SSEParser, new_id, sse
from omni.translate.errors import error_payload

DIALECT = ir.Dialect.OPENAI_RESPONSES
D = DIALECT.value  # the extras key of this dialect
# Thinking of other dialects carried in encrypted_content, never sent to an OpenAI upstream:
SIG_PREFIX, REDACTED_PREFIX = "omni-sig:", "omni-redacted:"
STREAM_CONTENT_TYPE = "text/event-stream"
_STATUS_OF_CODE = {"rate_limit_exceeded": 429, "insufficient_quota": 402, "server_error": 500}
_STATUS_OF_CODE |= dict.fromkeys(("invalid_prompt", "invalid_request_error"), 400)
# What a response object says besides id/model/status/output/usage (strict validators want all).
_DEFAULTS = orjson.loads(
    b'{"background":false,"completed_at":null,"error":null,"incomplete_details":null,'
    b'"instructions":null,"max_output_tokens":null,"parallel_tool_calls":true,'
    b'"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":false,'
    b'"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],'
    b'"top_p":1.0,"truncation":"disabled","user":null,"metadata":{}}'
)
Obj = dict[str, Any]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_from_wire(usage: Any) -> ir.Usage:
    if not isinstance(usage, dict):
        return ir.Usage()
    into, out = usage.get("input_tokens_details"), usage.get("output_tokens_details")
    return ir.Usage(
        input=_int(usage.get("input_tokens")),
        output=_int(usage.get("output_tokens")),
        cache_read=_int(into.get("cached_tokens")) if isinstance(into, dict) else None,
        cache_write=_int(into.get("cache_write_tokens")) if isinstance(into, dict) else None,
        reasoning=_int(out.get("reasoning_tokens")) if isinstance(out, dict) else None,
    )


def usage_to_wire(usage: ir.Usage | None) -> Obj:
    u = usage or ir.Usage()
    return {
        "input_tokens": u.input or 0,
        "input_tokens_details": {
            "cached_tokens": u.cache_read or 0,
            "cache_write_tokens": u.cache_write or 0,
        },
        "output_tokens": u.output or 0,
        "output_tokens_details": {"reasoning_tokens": u.reasoning or 0},
        "total_tokens": u.total or 0,
    }


def stop_from_wire(status: Any, details: Any, has_calls: bool) -> ir.Stop:
    """A cut answer is MAX_TOKENS even with calls in it (their arguments are cut too)."""
    if status == "failed":
        return ir.Stop.ERROR
    if status == "incomplete":
        reason = details.get("reason") if isinstance(details, dict) else None
        return ir.Stop.CONTENT_FILTER if reason == "content_filter" else ir.Stop.MAX_TOKENS
    return ir.Stop.TOOL_USE if has_calls else ir.Stop.END


def status_of(stop: ir.Stop) -> tuple[str, Obj | None]:
    if stop in (ir.Stop.MAX_TOKENS, ir.Stop.CONTENT_FILTER):
        reason = "max_output_tokens" if stop is ir.Stop.MAX_TOKENS else "content_filter"
        return "incomplete", {"reason": reason}
    return ("failed" if stop is ir.Stop.ERROR else "completed"), None


def response_object(
    rid: str, model: str, created: int, status: str, output: list[Obj], usage: Obj | None,
    extras: Obj | None = None, details: Obj | None = None, error: Obj | None = None,
) -> Obj:  # fmt: skip
    """A complete response object: defaults, then ``extras``, then what this answer says."""
    body: Obj = {"id": rid, "object": "response", "created_at": created, "status": status}
    body.update(orjson.loads(orjson.dumps(_DEFAULTS)), **(extras or {}))
    body.update(id=rid, model=model, status=status, output=output, usage=usage)
    body.update(created_at=created, error=error, incomplete_details=details)
    if status == "completed" and body["completed_at"] is None:
        body["completed_at"] = created
    return body


def _merged(old: ir.Usage | None, new: ir.Usage | None) -> ir.Usage | None:
    """``new``, its unknown counts filled in from ``old`` (e.g. input tokens from Start)."""
    if old is None or new is None:
        return new or old
    pairs = zip(astuple(new), astuple(old), strict=True)
    return ir.Usage(*(n if n is not None else o for n, o in pairs))


def unseal(value: str) -> tuple[str | None, str | None, bool]:
    """(signature, redacted data, native: an OpenAI upstream's own) from encrypted_content."""
    if value.startswith(SIG_PREFIX):
        return value[len(SIG_PREFIX) :], None, False
    native = not value.startswith(REDACTED_PREFIX)
    return None, value.removeprefix(REDACTED_PREFIX), native


def output_text(text: str) -> Obj:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def summary_of(text: str) -> list[Obj]:
    return [{"type": "summary_text", "text": text}] if text else []


def reasoning_text(item: Obj) -> tuple[str, bool]:
    """A reasoning item's text: its summary, else its reasoning_text content (flag True)."""
    for key, glue in (("summary", "\n\n"), ("content", "")):
        parts = as_list(item.get(key))
        found = [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]
        if text := glue.join(found):
            return text, key == "content"
    return "", False


# -- decoding an upstream's stream ------------------------------------------------------


class StreamDecoder:
    """Responses SSE bytes (split anywhere) → IR events."""

    def __init__(self) -> None:
        self._sse = SSEParser()
        self._started = self._done = self._content = False
        self._calls: dict[str, int] = {}  # item key → IR call index
        self._args: list[str] = []  # arguments sent so far, per IR call index
        self._texts: dict[str, str] = {}  # text (or reasoning) sent so far, per item key
        self._seen: set[str] = set()  # item ids met before the terminal event
        self._alias: dict[int, str] = {}  # output index → item key
        self._current = "#"  # the item added last, for events that name none

    def feed(self, chunk: bytes) -> list[ir.Event]:
        out: list[ir.Event] = []
        for name, data in self._sse.feed(chunk):
            self._event(name, data, out)
        return out

    def close(self) -> list[ir.Event]:
        out: list[ir.Event] = []
        for name, data in self._sse.close():
            self._event(name, data, out)
        if not self._done:
            self._done = True
            stop = ir.Stop.TOOL_USE if self._args else ir.Stop.END
            ended = ir.Failure(502, "upstream stream ended before response.completed")
            out.append(ir.Finish(stop) if self._content else ended)
        return out

    def _start(self, out: list[ir.Event], response: Any = None) -> None:
        if not self._started:
            self._started = True
            r = response if isinstance(response, dict) else {}
            rid, model = r.get("id"), r.get("model")
            rid = rid if isinstance(rid, str) else new_id("resp_")
            out.append(ir.Start(id=rid, model=model if isinstance(model, str) else ""))

    def _event(self, name: str | None, raw: bytes, out: list[ir.Event]) -> None:
        if self._done or raw.strip() == b"[DONE]":
            return
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self._done = True
            out.append(ir.Failure(502, "the upstream sent an event that is not JSON"))
            return
        if not isinstance(data, dict):
            return
        kind = data.get("type") if isinstance(data.get("type"), str) else name
        item, delta = data.get("item"), data.get("delta")
        key = self._key(data, item)
        if kind in ("response.created", "response.in_progress", "response.queued"):
            self._start(out, data.get("response"))
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            self._terminal(kind, data.get("response"), out)
        elif kind == "error":
            self._fail(data.get("error") if isinstance(data.get("error"), dict) else data, out)
        elif kind in ("response.output_text.delta", "response.refusal.delta"):
            self._delta(key, delta, out, reasoning=False)
        elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            self._delta(key, delta, out, reasoning=True)
        elif kind == "response.reasoning_summary_part.added":
            if data.get("summary_index") and self._texts.get(key):
                self._delta(key, "\n\n", out, reasoning=True)
        elif kind == "response.function_call_arguments.delta":
            self._arguments(self._calls.get(key, len(self._args) - 1), delta, out)
        elif kind == "response.function_call_arguments.done":
            self._settle_call(self._calls.get(key, len(self._args) - 1), data.get("arguments"), out)
        elif str(kind).startswith("response.output_item.") and isinstance(item, dict):
            self._item(key, item, str(kind).endswith(".done"), out)

    def _fail(self, error: Any, out: list[ir.Event]) -> None:
        error = error if isinstance(error, dict) else {}
        message, code = error.get("message"), error.get("code")
        code = code if isinstance(code, str) else None
        self._done = True
        message = message if isinstance(message, str) else "upstream error"
        out.append(ir.Failure(_STATUS_OF_CODE.get(code or "", 502), message, code))

    def _key(self, data: Obj, item: Any) -> str:
        """Items are found by id, else by output index, else as the one added last."""
        item_id, index = data.get("item_id"), data.get("output_index")
        if not isinstance(item_id, str) and isinstance(item, dict):
            item_id = item.get("id")
        if not isinstance(index, int):
            return item_id if isinstance(item_id, str) else self._current
        return self._alias.setdefault(index, item_id if isinstance(item_id, str) else f"#{index}")

    def _delta(self, key: str, text: Any, out: list[ir.Event], reasoning: bool) -> None:
        if isinstance(text, str) and text:
            self._start(out)
            self._content = True
            self._texts[key] = self._texts.get(key, "") + text
            out.append(ir.ReasoningDelta(text=text) if reasoning else ir.TextDelta(text))

    def _arguments(self, index: int, text: Any, out: list[ir.Event]) -> None:
        if index >= 0 and isinstance(text, str) and text:
            self._args[index] += text
            out.append(ir.ToolCallDelta(index, text))

    def _settle_call(self, index: int, full: Any, out: list[ir.Event]) -> None:
        """Send what a done event has beyond the deltas (some upstreams send no deltas)."""
        sent = self._args[index] if index >= 0 else ""
        if isinstance(full, str) and full.startswith(sent):
            self._arguments(index, full[len(sent) :], out)

    def _settle(self, key: str, full: str, out: list[ir.Event], reasoning: bool) -> None:
        sent = self._texts.get(key, "")
        if full.startswith(sent):
            self._delta(key, full[len(sent) :], out, reasoning)

    def _item(self, key: str, item: Obj, done: bool, out: list[ir.Event]) -> None:
        self._start(out)
        self._current = key if not done else self._current
        kind = item.get("type")
        if isinstance(item.get("id"), str):
            self._seen.add(item["id"])
        if kind == "function_call":
            if key not in self._calls:
                call_id, name = item.get("call_id"), item.get("name")
                self._calls[key] = index = len(self._args)
                self._args.append("")
                self._content = True
                call_id = call_id if isinstance(call_id, str) else new_id("call_")
                out.append(ir.ToolCallStart(index, call_id, name if isinstance(name, str) else ""))
            self._settle_call(self._calls[key], item.get("arguments"), out)
        elif kind == "message" and done:
            parts = as_list(item.get("content"))
            texts = [p.get("text", p.get("refusal")) for p in parts if isinstance(p, dict)]
            self._settle(key, "".join(t for t in texts if isinstance(t, str)), out, False)
        elif kind == "reasoning" and done:
            self._settle(key, reasoning_text(item)[0], out, True)
            encrypted = item.get("encrypted_content")
            if isinstance(encrypted, str) and encrypted:
                self._content = True
                signature, redacted, _ = unseal(encrypted)
                out.append(ir.ReasoningDelta(signature=signature, redacted=redacted))

    def _terminal(self, kind: str, response: Any, out: list[ir.Event]) -> None:
        response = response if isinstance(response, dict) else {}
        self._start(out, response)
        if kind == "response.failed":
            self._fail(response.get("error"), out)
            return
        output = [item for item in as_list(response.get("output")) if isinstance(item, dict)]
        for index, item in enumerate(output):  # items the stream never showed (some don't)
            item_id = item.get("id")
            if item_id not in self._seen if isinstance(item_id, str) else not self._content:
                self._item(item_id if isinstance(item_id, str) else f"#end{index}", item, True, out)
        status = response.get("status") or kind.removeprefix("response.")
        stop = stop_from_wire(status, response.get("incomplete_details"), bool(self._args))
        usage = usage_from_wire(response.get("usage"))
        self._done = True
        out.append(ir.Finish(stop, usage if usage != ir.Usage() else None))


# -- encoding a stream for a client -----------------------------------------------------


@dataclass(slots=True)
class _Item:
    """The output item being written: a message, a reasoning item or a function call."""

    kind: str
    index: int
    id: str
    text: str = ""  # message text, reasoning summary or call arguments
    opened: bool = False  # the reasoning summary part has been announced
    encrypted: str | None = None
    call: int = -1  # the IR index of a function call


@dataclass(slots=True)
class _Call:
    id: str
    name: str
    buffer: list[str] = field(default_factory=list)
    state: str = "new"  # new (deltas only) → queued → open → closed
    signature: str | None = None  # Gemini's, carried by a reasoning item before the call


class StreamEncoder:
    """IR events → the Responses SSE event sequence for a client.

    Items are written one at a time: opening one closes the one before. A call that
    starts while another is open waits its turn, its argument deltas buffered.
    """

    def __init__(self, model: str, response_id: str) -> None:
        self.model, self.response_id = model, response_id
        self._base = response_id.removeprefix("resp_")
        self._created = int(time.time())
        self._seq = 0
        self._started = self._done = False
        self._output: list[Obj] = []
        self._open: _Item | None = None
        self._calls: dict[int, _Call] = {}
        self._queue: list[int] = []
        self._usage: ir.Usage | None = None

    def encode(self, event: ir.Event) -> bytes:
        if self._done:
            return b""
        out = b"" if self._started else self._start()
        if isinstance(event, ir.Start | ir.UsageUpdate):
            self._usage = _merged(self._usage, event.usage)
        elif isinstance(event, ir.TextDelta) and event.text:
            if self._open is None or self._open.kind != "message":
                added = {"status": "in_progress", "role": "assistant", "content": []}
                out += self._close() + self._new("message", added)
                out += self._on("content_part.added", content_index=0, part=output_text(""))
            self._text(event.text)
            out += self._on("output_text.delta", content_index=0, delta=event.text, logprobs=[])
        elif isinstance(event, ir.ReasoningDelta):
            out += self._reasoning(event)
        elif isinstance(event, ir.ToolCallStart):
            out += self._call_start(event)
        elif isinstance(event, ir.ToolCallDelta) and event.arguments:
            call = self._calls.setdefault(event.index, _Call(new_id("call_"), ""))
            if call.state == "open":
                out += self._args(event.arguments)
            elif call.state != "closed":
                call.buffer.append(event.arguments)  # sent when its item opens
        elif isinstance(event, ir.Finish):
            out += self._finish(event)
        elif isinstance(event, ir.Failure):
            out += self._failure(event)
        return out

    def _emit(self, kind: str, **fields: Any) -> bytes:
        kind = kind if kind == "error" else f"response.{kind}"
        data = {"type": kind, "sequence_number": self._seq, **fields}
        self._seq += 1
        return sse(data, event=kind)

    def _on(self, kind: str, **fields: Any) -> bytes:
        """An event about the open item."""
        assert self._open is not None
        return self._emit(kind, item_id=self._open.id, output_index=self._open.index, **fields)

    def _text(self, text: str) -> None:
        assert self._open is not None
        self._open.text += text

    def _response(self, status: str, **kw: Any) -> Obj:
        output = list(self._output)
        return response_object(self.response_id, self.model, self._created, status, output, **kw)

    def _start(self) -> bytes:
        self._started = True
        lifecycle = {"response": self._response("in_progress", usage=None)}
        return self._emit("created", **lifecycle) + self._emit("in_progress", **lifecycle)

    def _new(self, kind: str, fields: Obj, call: int = -1) -> bytes:
        index = len(self._output)
        prefix = {"message": "msg_", "reasoning": "rs_", "function_call": "fc_"}[kind]
        self._open = _Item(kind, index, f"{prefix}{self._base}_{index}", call=call)
        self._output.append({"id": self._open.id, "type": kind, **fields})
        return self._emit("output_item.added", output_index=index, item=self._output[-1])

    def _reasoning(self, event: ir.ReasoningDelta) -> bytes:
        out, item = b"", self._open
        if item is None or item.kind != "reasoning" or item.encrypted is not None:
            if not (event.text or event.redacted or event.signature):
                return b""
            out += self._close() + self._new("reasoning", {"summary": []})
        assert self._open is not None
        if event.text:
            if not self._open.opened:
                self._open.opened = True
                part = {"type": "summary_text", "text": ""}
                out += self._on("reasoning_summary_part.added", summary_index=0, part=part)
            self._text(event.text)
            out += self._on("reasoning_summary_text.delta", summary_index=0, delta=event.text)
        if event.redacted is not None:  # opaque to this client, whoever made it
            self._open.encrypted = REDACTED_PREFIX + event.redacted
        elif event.signature is not None:
            self._open.encrypted = SIG_PREFIX + event.signature
        return out

    def _call_start(self, event: ir.ToolCallStart) -> bytes:
        call = self._calls.setdefault(event.index, _Call(event.id, event.name))
        call.id, call.name, call.signature = event.id, event.name, event.signature
        if call.state != "new":
            return b""
        call.state = "queued"
        self._queue.append(event.index)
        if self._open is not None and self._open.kind == "function_call":
            return b""  # another call is still open: this one waits its turn
        return self._open_call(self._queue.pop(0))

    def _open_call(self, index: int) -> bytes:
        """Close the open item and open the call's (after a reasoning item carrying its
        signature: the open one when it has none yet)."""
        call, out = self._calls[index], b""
        if call.signature:
            item = self._open
            if item is None or item.kind != "reasoning" or item.encrypted is not None:
                out += self._close() + self._new("reasoning", {"summary": []})
            assert self._open is not None
            self._open.encrypted = SIG_PREFIX + signatures.carrier(call.signature)
        out += self._close()
        call.state = "open"
        fields = {"status": "in_progress", "arguments": "", "call_id": call.id, "name": call.name}
        out += self._new("function_call", fields, call=index)
        for piece in call.buffer:
            out += self._args(piece)
        call.buffer = []
        return out

    def _args(self, text: str) -> bytes:
        self._text(text)
        return self._on("function_call_arguments.delta", delta=text)

    def _close(self, status: str = "completed") -> bytes:
        item = self._open
        if item is None:
            return b""
        out, text = b"", item.text
        if item.kind == "message":
            part = output_text(text)
            out += self._on("output_text.done", content_index=0, text=text, logprobs=[])
            out += self._on("content_part.done", content_index=0, part=part)
            done: Obj = {"status": status, "role": "assistant", "content": [part]}
        elif item.kind == "reasoning":
            if item.opened:
                part = {"type": "summary_text", "text": text}
                out += self._on("reasoning_summary_text.done", summary_index=0, text=text)
                out += self._on("reasoning_summary_part.done", summary_index=0, part=part)
            done = {"summary": summary_of(text)}
            if item.encrypted is not None:
                done["encrypted_content"] = item.encrypted
        else:
            call = self._calls[item.call]
            call.state = "closed"
            if not text:  # no arguments at all: an empty object, as JSON text
                out += self._args(text := "{}")
            out += self._on("function_call_arguments.done", name=call.name, arguments=text)
            done = {"status": status, "arguments": text, "call_id": call.id, "name": call.name}
        self._output[item.index] = {"id": item.id, "type": item.kind, **done}
        self._open = None
        done = self._output[item.index]
        return out + self._emit("output_item.done", output_index=item.index, item=done)

    def _finish(self, event: ir.Finish) -> bytes:
        out = self._close()
        for index in self._queue:  # calls still waiting for their turn
            out += self._open_call(index)
        out += self._close()
        self._done = True
        status, details = status_of(event.stop)
        failed = {"code": "server_error", "message": "the upstream failed mid-answer"}
        usage = usage_to_wire(_merged(self._usage, event.usage))
        error = failed if status == "failed" else None
        response = self._response(status, usage=usage, details=details, error=error)
        return out + self._emit(status, response=response)

    def _failure(self, event: ir.Failure) -> bytes:
        """An ``error`` event (the SDK raises it) and ``response.failed`` (Codex shows it)."""
        out = self._close("incomplete")
        self._done = True
        error: Any = error_payload(DIALECT, event.status, event.message, event.code)["error"]
        code, message = error["code"], event.message
        out += self._emit("error", code=code, message=message, param=None, error=error)
        failed = {"code": code, "message": message}
        response = self._response("failed", usage=usage_to_wire(self._usage), error=failed)
        return out + self._emit("failed", response=response)
