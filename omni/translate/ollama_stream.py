"""Ollama chat answers ↔ the IR: complete ``/api/chat`` bodies and NDJSON streams.

A complete answer is ``{"model","created_at","message":{"role":"assistant","content",
"thinking"?,"tool_calls"?},"done":true,"done_reason",…counts and durations}``; IR usage is
``prompt_eval_count`` in, ``eval_count`` out. A stream is one such object per line with
``done:false`` and content deltas, then a ``done:true`` line with ``done_reason`` and the
counts; a ``{"error": "…"}`` line breaks it off. :class:`StreamDecoder` reads such bytes
(split anywhere) into IR events and :class:`StreamEncoder` writes IR events as such lines,
every one with ``message.role`` (the ``ollama`` Python client validates it). Tool calls go
out as one line once their arguments are complete, with the arguments as an object. Also
here: the tool-call shapes and timestamps that :mod:`omni.translate.ollama` uses too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson

from omni import ir
from omni.errors import InvalidInputError
from omni.translate._common import json_object, json_text, new_id, require_dict
from omni.translate.errors import error_event

STREAM_CONTENT_TYPE = "application/x-ndjson"
DIALECT = ir.Dialect.OLLAMA.value
SYNTHETIC = "synthetic_id"  # flag in extras["ollama"]: the id was made up, do not send it
_RESPONSE_KEYS = frozenset(
    {"model", "created_at", "message", "done", "done_reason", "prompt_eval_count", "eval_count"}
)
_ANSWER_KEYS = frozenset({"role", "content", "thinking", "tool_calls"})


# -- shared wire pieces -----------------------------------------------------------------


def int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def rfc3339(timestamp: int | None = None) -> str:
    """``2025-01-02T03:04:05.678901Z`` for a Unix time (now when None)."""
    moment = datetime.now(UTC) if timestamp is None else datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def unix_time(value: Any) -> int | None:
    """Seconds since the epoch of an RFC 3339 ``created_at`` (None if unreadable)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def stop_of(done_reason: Any, has_tool_calls: bool) -> ir.Stop:
    if has_tool_calls:
        return ir.Stop.TOOL_USE
    return ir.Stop.MAX_TOKENS if done_reason == "length" else ir.Stop.END


def done_reason_of(stop: ir.Stop) -> str:
    return "length" if stop is ir.Stop.MAX_TOKENS else "stop"


def usage_of(body: dict[str, Any]) -> ir.Usage:
    return ir.Usage(
        input=int_or_none(body.get("prompt_eval_count")),
        output=int_or_none(body.get("eval_count")),
    )


def fields(extras: ir.Extras) -> dict[str, Any]:
    """The Ollama wire fields kept in ``extras`` (flags left out)."""
    kept = extras.get(DIALECT) or {}
    return {k: v for k, v in kept.items() if k != SYNTHETIC}


def _fail(strict: bool, message: str) -> None:
    if strict:
        raise InvalidInputError(message)


def _arguments_text(value: Any) -> str:
    try:
        return json_text(value)
    except TypeError:  # an integer beyond 64 bits (bodies parsed by the json module)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def read_call(obj: Any, where: str, strict: bool, make_id: str) -> ir.ToolCall | None:
    """One wire tool call ``{"id"?, "function": {"name", "arguments"}}`` as an IR call.

    ``strict`` raises :class:`InvalidInputError` on a malformed call (a client's request);
    otherwise the call is skipped (an upstream's answer). ``make_id`` is used when the call
    has no id, and the call is then flagged so encoders leave the id out again.
    """
    if not isinstance(obj, dict):
        _fail(strict, f"'{where}' must be a JSON object")
        return None
    function = obj.get("function")
    if not isinstance(function, dict):
        _fail(strict, f"'{where}.function' must be a JSON object")
        return None
    name = function.get("name")
    if not isinstance(name, str):
        _fail(strict, f"'{where}.function.name' must be a string")
        return None
    call_id = obj.get("id")
    if call_id is not None and not isinstance(call_id, str):
        _fail(strict, f"'{where}.id' must be a string")
        call_id = None
    arguments = function.get("arguments")
    if arguments is not None and not isinstance(arguments, dict | str):
        _fail(strict, f"'{where}.function.arguments' must be an object")
        arguments = None
    extra: dict[str, Any] = {k: v for k, v in obj.items() if k not in ("id", "function")}
    rest = {k: v for k, v in function.items() if k not in ("name", "arguments", "index")}
    if strict and "index" in function:
        rest["index"] = function["index"]
    if rest:
        extra["function"] = rest
    if not call_id:
        extra[SYNTHETIC] = True
    return ir.ToolCall(
        id=call_id or make_id,
        name=name,
        arguments=_arguments_text(arguments),
        extras={DIALECT: extra} if extra else {},
    )


def write_call(call: ir.ToolCall, index: int | None = None) -> dict[str, Any]:
    """An IR call on the wire; ``index`` (answers only) numbers the calls of one message."""
    extra = fields(call.extras)
    function: dict[str, Any] = {}
    if index is not None:
        function["index"] = index
    function |= {"name": call.name, "arguments": json_object(call.arguments)}
    function |= extra.pop("function", None) or {}
    out: dict[str, Any] = {}
    if not (call.extras.get(DIALECT) or {}).get(SYNTHETIC):
        out["id"] = call.id
    return out | {"function": function} | extra


# -- answers ----------------------------------------------------------------------------


def decode_response(body: dict[str, Any]) -> ir.Response:
    """An Ollama upstream's complete ``/api/chat`` answer as an IR response."""
    body = require_dict(body, "the Ollama answer")
    message = body.get("message")
    message = message if isinstance(message, dict) else {}
    parts: list[ir.Part] = []
    thinking = message.get("thinking")
    if isinstance(thinking, str) and thinking:
        parts.append(ir.Reasoning(thinking))
    content = message.get("content")
    if isinstance(content, str) and content:
        parts.append(ir.Text(content))
    raw_calls = message.get("tool_calls")
    for obj in raw_calls if isinstance(raw_calls, list) else []:
        call = read_call(obj, "message.tool_calls", False, new_id("call_"))
        if call is not None:
            parts.append(call)
    has_calls = any(isinstance(p, ir.ToolCall) for p in parts)
    stop = stop_of(body.get("done_reason"), has_calls)
    extra = {k: v for k, v in body.items() if k not in _RESPONSE_KEYS}
    created_at = body.get("created_at")
    if isinstance(created_at, str):
        extra["created_at"] = created_at
    done_reason = body.get("done_reason")
    if isinstance(done_reason, str) and done_reason != done_reason_of(stop):
        extra["done_reason"] = done_reason
    rest = {k: v for k, v in message.items() if k not in _ANSWER_KEYS}
    if rest:
        extra["message"] = rest
    model = body.get("model")
    return ir.Response(
        id=new_id("ollama-"),
        model=model if isinstance(model, str) else "",
        parts=parts,
        stop=stop,
        usage=usage_of(body),
        created=unix_time(created_at),
        extras={DIALECT: extra} if extra else {},
    )


def encode_response(response: ir.Response) -> dict[str, Any]:
    """A complete ``/api/chat`` answer for an Ollama client (``message.role`` always set)."""
    extra = dict(response.extras.get(DIALECT) or {})
    message: dict[str, Any] = {"role": "assistant", "content": response.text}
    thinking = "".join(p.text for p in response.parts if isinstance(p, ir.Reasoning))
    if thinking:
        message["thinking"] = thinking
    calls = [write_call(call, i) for i, call in enumerate(response.tool_calls)]
    if calls:
        message["tool_calls"] = calls
    message |= extra.pop("message", None) or {}
    usage = response.usage
    return {
        "model": response.model,
        "created_at": extra.pop("created_at", None) or rfc3339(response.created),
        "message": message,
        "done": True,
        "done_reason": extra.pop("done_reason", None) or done_reason_of(response.stop),
        "total_duration": 0,
        "load_duration": 0,
        "prompt_eval_count": usage.input or 0,
        "prompt_eval_duration": 0,
        "eval_count": usage.output or 0,
        "eval_duration": 0,
    } | extra


# -- stream decoding --------------------------------------------------------------------


class StreamDecoder:
    """Upstream NDJSON bytes (split anywhere) → IR events."""

    __slots__ = ("_buffer", "_calls", "_ended", "_started")

    def __init__(self) -> None:
        self._buffer = b""
        self._started = False
        self._ended = False
        self._calls = 0

    def feed(self, chunk: bytes) -> list[ir.Event]:
        self._buffer += chunk
        out: list[ir.Event] = []
        while not self._ended:
            cut = self._buffer.find(b"\n")
            if cut < 0:
                break
            line, self._buffer = self._buffer[:cut], self._buffer[cut + 1 :]
            self._line(line, out)
        if self._ended:
            self._buffer = b""
        return out

    def close(self) -> list[ir.Event]:
        out: list[ir.Event] = []
        if self._buffer and not self._ended:
            self._line(self._buffer, out)
        self._buffer = b""
        if not self._ended:
            self._ended = True
            if self._started:
                stop = ir.Stop.TOOL_USE if self._calls else ir.Stop.END
                out.append(ir.Finish(stop=stop))
            else:
                out.append(ir.Failure(502, "the upstream closed the stream without an answer"))
        return out

    def _line(self, raw: bytes, out: list[ir.Event]) -> None:
        raw = raw.strip()
        if not raw:
            return
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            obj = None
        if not isinstance(obj, dict):
            self._ended = True
            out.append(ir.Failure(502, "the upstream sent a malformed NDJSON line"))
            return
        error = obj.get("error")
        if error:
            self._ended = True
            text = error if isinstance(error, str) else orjson.dumps(error).decode()
            out.append(ir.Failure(502, text))
            return
        if not self._started:
            self._started = True
            model = obj.get("model")
            out.append(
                ir.Start(id=new_id("ollama-"), model=model if isinstance(model, str) else "")
            )
        message = obj.get("message")
        if isinstance(message, dict):
            self._message(message, out)
        if obj.get("done") is True:
            self._ended = True
            usage = usage_of(obj)
            has_usage = usage.input is not None or usage.output is not None
            stop = stop_of(obj.get("done_reason"), self._calls > 0)
            out.append(ir.Finish(stop=stop, usage=usage if has_usage else None))

    def _message(self, message: dict[str, Any], out: list[ir.Event]) -> None:
        thinking = message.get("thinking")
        if isinstance(thinking, str) and thinking:
            out.append(ir.ReasoningDelta(text=thinking))
        content = message.get("content")
        if isinstance(content, str) and content:
            out.append(ir.TextDelta(content))
        calls = message.get("tool_calls")
        for obj in calls if isinstance(calls, list) else []:
            call = read_call(obj, "tool_calls", False, new_id("call_"))
            if call is None:
                continue
            index, self._calls = self._calls, self._calls + 1
            out.append(ir.ToolCallStart(index=index, id=call.id, name=call.name))
            out.append(ir.ToolCallDelta(index=index, arguments=call.arguments))


# -- stream encoding --------------------------------------------------------------------


class StreamEncoder:
    """IR events → NDJSON lines for an Ollama client, ending with a ``done:true`` line."""

    __slots__ = ("_calls", "_ended", "_model", "_response_id", "_sent_calls", "_usage")

    def __init__(self, model: str, response_id: str) -> None:
        self._model = model
        self._response_id = response_id
        self._calls: dict[int, list[str]] = {}  # index → [id, name, arguments so far]
        self._sent_calls = 0
        self._usage: ir.Usage | None = None
        self._ended = False

    def encode(self, event: ir.Event) -> bytes:
        if self._ended:
            return b""
        if isinstance(event, ir.Start):
            self._usage = ir.merge_usage(self._usage, event.usage)
            return b""
        if isinstance(event, ir.UsageUpdate):
            self._usage = ir.merge_usage(self._usage, event.usage)
            return b""
        if isinstance(event, ir.ToolCallStart):
            head = self._flush() if event.index in self._calls else b""
            self._calls[event.index] = [event.id, event.name, ""]
            return head
        if isinstance(event, ir.ToolCallDelta):
            call = self._calls.setdefault(event.index, [new_id("call_"), "", ""])
            call[2] += event.arguments
            return b""
        if isinstance(event, ir.Failure):
            self._ended = True
            return error_event(ir.Dialect.OLLAMA, event.status, event.message, event.code)
        head = self._flush()
        if isinstance(event, ir.TextDelta):
            return head + (self._line({"content": event.text}) if event.text else b"")
        if isinstance(event, ir.ReasoningDelta):
            if not event.text:
                return head
            return head + self._line({"content": "", "thinking": event.text})
        self._ended = True
        self._usage = ir.merge_usage(self._usage, event.usage)
        usage = self._usage or ir.Usage()
        last = self._object({"content": ""}, done=True) | {
            "done_reason": done_reason_of(event.stop),
            "total_duration": 0,
            "load_duration": 0,
            "prompt_eval_count": usage.input or 0,
            "prompt_eval_duration": 0,
            "eval_count": usage.output or 0,
            "eval_duration": 0,
        }
        return head + orjson.dumps(last) + b"\n"

    def _flush(self) -> bytes:
        if not self._calls:
            return b""
        calls = []
        for index in sorted(self._calls):
            call_id, name, arguments = self._calls[index]
            call = ir.ToolCall(id=call_id, name=name, arguments=arguments)
            calls.append(write_call(call, self._sent_calls))
            self._sent_calls += 1
        self._calls.clear()
        return self._line({"content": "", "tool_calls": calls})

    def _object(self, message: dict[str, Any], done: bool = False) -> dict[str, Any]:
        return {
            "model": self._model,
            "created_at": rfc3339(),
            "message": {"role": "assistant", **message},
            "done": done,
        }

    def _line(self, message: dict[str, Any]) -> bytes:
        return orjson.dumps(self._object(message)) + b"\n"
