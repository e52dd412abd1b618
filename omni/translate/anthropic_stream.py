"""Anthropic Messages answers: content blocks and SSE streams ↔ IR.

The lower half of :mod:`omni.translate.anthropic` (which re-exports the public names):
content blocks both ways, stop reasons and usage (Anthropic ``input_tokens`` excludes the
cache; IR ``Usage.input`` includes it), and the incremental stream codecs. The encoder
writes what Claude Code and the SDK's ``messages.stream()`` helper need: an ``event:`` line
on every event, ``message_start`` first, each block opened before its deltas and closed
before the next opens, then ``message_delta`` (with usage) and ``message_stop``. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

import orjson

from omni import ir
from omni.errors import InvalidInputError
from omni.translate import errors, signatures
from omni.translate._common import (
    SSEParser,
    json_object,
    json_text,
    new_id,
    opt_str,
    require_dict,
    require_list,
    split_data_url,
    sse,
)

A = ir.Dialect.ANTHROPIC.value  # the extras key of this dialect
NO_OUTPUT = "(no output)"  # stands for empty tool results, which the API refuses
S = ir.Stop
STOP_FROM = {"end_turn": S.END, "max_tokens": S.MAX_TOKENS, "tool_use": S.TOOL_USE,
             "stop_sequence": S.STOP_SEQUENCE, "refusal": S.REFUSAL, "pause_turn": S.END,
             "model_context_window_exceeded": S.MAX_TOKENS}  # fmt: skip
STOP_TO = {S.END: "end_turn", S.MAX_TOKENS: "max_tokens", S.TOOL_USE: "tool_use",
           S.STOP_SEQUENCE: "stop_sequence", S.CONTENT_FILTER: "refusal",
           S.REFUSAL: "refusal", S.ERROR: "end_turn"}  # fmt: skip
ERROR_STATUS = {"invalid_request_error": 400, "authentication_error": 401, "billing_error": 402,
                "permission_error": 403, "not_found_error": 404, "request_too_large": 413,
                "rate_limit_error": 429, "api_error": 500, "timeout_error": 504,
                "overloaded_error": 529}  # fmt: skip


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def rest(obj: dict[str, Any], known: set[str]) -> ir.Extras:
    """The fields of ``obj`` not in ``known``, as extras (empty when there are none)."""
    left = {k: v for k, v in obj.items() if k not in known}
    return {A: left} if left else {}


def mine(extras: ir.Extras) -> dict[str, Any]:
    """This dialect's extras."""
    return _dict(extras.get(A))


def req_str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"'{where}' is required and must be a string")
    return value


def opt_bool(value: Any, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise InvalidInputError(f"'{where}' must be a boolean")


# -- stop reasons and usage --------------------------------------------------------------


def stop_from(reason: Any) -> ir.Stop:
    """The IR stop for an Anthropic ``stop_reason`` (unknown or missing → END)."""
    return STOP_FROM.get(reason, S.END) if isinstance(reason, str) else S.END


def stop_to(stop: ir.Stop, has_tool_calls: bool) -> str:
    """The Anthropic ``stop_reason``; a plain end after tool calls is ``tool_use``."""
    return "tool_use" if stop is S.END and has_tool_calls else STOP_TO[stop]


def usage_from(obj: Any) -> ir.Usage | None:
    """IR usage from an Anthropic ``usage`` object (input made to include the cache)."""
    if not isinstance(obj, dict):
        return None
    read = _int(obj.get("cache_read_input_tokens"))
    write = _int(obj.get("cache_creation_input_tokens"))
    known = [n for n in (_int(obj.get("input_tokens")), read, write) if n is not None]
    details = obj.get("output_tokens_details")
    thinking = _int(details.get("thinking_tokens")) if isinstance(details, dict) else None
    output = _int(obj.get("output_tokens"))
    return ir.Usage(sum(known) if known else None, output, read, write, thinking)


def usage_to(usage: ir.Usage | None, *, with_input: bool = True) -> dict[str, Any]:
    """An Anthropic ``usage`` object: input without the cache, output always present."""
    u = usage or ir.Usage()
    out: dict[str, Any] = {}
    if with_input or u.input is not None:
        out["input_tokens"] = max(0, (u.input or 0) - (u.cache_read or 0) - (u.cache_write or 0))
    if u.cache_write is not None:
        out["cache_creation_input_tokens"] = u.cache_write
    if u.cache_read is not None:
        out["cache_read_input_tokens"] = u.cache_read
    out["output_tokens"] = u.output or 0
    if u.reasoning is not None:
        out["output_tokens_details"] = {"thinking_tokens": u.reasoning}
    return out


def merge_usage(base: ir.Usage | None, update: ir.Usage | None) -> ir.Usage | None:
    """``base`` with every field ``update`` knows replaced (either may be None)."""
    if base is None or update is None:
        return base or update
    known = {f.name: getattr(update, f.name) for f in fields(update)}
    return replace(base, **{k: v for k, v in known.items() if v is not None})


# -- content blocks ----------------------------------------------------------------------


def _raw(block: dict[str, Any], text: str = "") -> ir.Text:
    """A block with no IR form, kept whole so that it is re-emitted as it came."""
    return ir.Text(text, {A: {"block": block}})


def decode_block(block: Any, where: str) -> ir.Part:
    """One content block (of a request message or an answer) as an IR part."""
    if isinstance(block, str):
        return ir.Text(block)
    block = require_dict(block, f"'{where}'")
    kind = block.get("type")
    if kind == "text":
        return ir.Text(req_str(block.get("text"), f"{where}.text"), rest(block, {"type", "text"}))
    if kind == "image":
        source = require_dict(block.get("source"), f"'{where}.source'")
        extras = rest(block, {"type", "source"})
        if source.get("type") == "base64":
            data = req_str(source.get("data"), f"{where}.source.data")
            media = opt_str(source.get("media_type"), f"{where}.source.media_type")
            return ir.Image(data=data, media_type=media, extras=extras)
        if source.get("type") == "url":
            return ir.Image(url=req_str(source.get("url"), f"{where}.source.url"), extras=extras)
        return _raw(block)
    if kind == "tool_use":
        call_id, name = req_str(block.get("id"), f"{where}.id"), block.get("name")
        arguments = json_text(block.get("input"))
        extras = rest(block, {"type", "id", "name", "input"})
        return ir.ToolCall(call_id, req_str(name, f"{where}.name"), arguments, extras=extras)
    if kind == "tool_result":
        return ir.ToolResult(
            call_id=req_str(block.get("tool_use_id"), f"{where}.tool_use_id"),
            content=_result_content(block.get("content"), f"{where}.content"),
            is_error=bool(opt_bool(block.get("is_error"), f"{where}.is_error")),
            extras=rest(block, {"type", "tool_use_id", "content", "is_error"}),
        )
    if kind == "thinking":
        text = opt_str(block.get("thinking"), f"{where}.thinking") or ""
        sig = opt_str(block.get("signature"), f"{where}.signature") or None
        return ir.Reasoning(text, sig, extras=rest(block, {"type", "thinking", "signature"}))
    if kind == "redacted_thinking":
        data = req_str(block.get("data"), f"{where}.data")
        return ir.Reasoning(redacted=data, extras=rest(block, {"type", "data"}))
    req_str(kind, f"{where}.type")
    source = block.get("source")
    if kind == "document" and isinstance(source, dict) and source.get("type") == "text":
        return _raw(block, str(source.get("data", "")))  # other dialects see the text
    return _raw(block)  # PDFs, server tool blocks, search results …


def _result_content(content: Any, where: str) -> list[ir.Text | ir.Image]:
    if content is None or isinstance(content, str):
        return [] if content is None else [ir.Text(content)]
    out: list[ir.Text | ir.Image] = []
    for i, item in enumerate(require_list(content, where)):
        part = decode_block(item, f"{where}[{i}]")
        out.append(part if isinstance(part, ir.Text | ir.Image) else _raw(item))
    return out


def encode_block(part: ir.Part, role: str, *, upstream: bool = True) -> dict[str, Any] | None:
    """The block for ``part`` in a ``role`` turn, or None to leave it out (upstreams get no
    unsigned thinking, as the API rejects fabricated signatures; clients get ``""``)."""
    extras = mine(part.extras)
    if isinstance(extras.get("block"), dict):
        return dict(extras["block"])
    if isinstance(part, ir.Text):
        return {"type": "text", "text": part.text, **extras} if part.text.strip() else None
    if isinstance(part, ir.Image):
        return {"type": "image", "source": _source(part), **extras} if role == "user" else None
    if isinstance(part, ir.ToolCall):
        if role != "assistant":
            return None
        call = {"type": "tool_use", "id": part.id, "name": part.name}
        return {**call, "input": json_object(part.arguments), **extras}
    if isinstance(part, ir.ToolResult):
        return tool_result(part) if role == "user" else None
    if role != "assistant":
        return None
    if part.redacted is not None:
        if upstream and ir.Dialect.OPENAI_RESPONSES.value in part.extras:
            return None  # an OpenAI reasoning item's encrypted_content: Anthropic refuses it
        return {"type": "redacted_thinking", "data": part.redacted, **extras}
    if upstream and signatures.is_geminis(part.signature):
        return None  # Gemini's: Anthropic would refuse it
    if not part.signature and (upstream or not part.text):
        return None
    thinking = {"type": "thinking", "thinking": part.text, "signature": part.signature or ""}
    return {**thinking, **extras}


def _source(image: ir.Image) -> dict[str, Any]:
    inline = split_data_url(image.url) if image.url is not None else None
    if image.url is not None and inline is None:
        return {"type": "url", "url": image.url}
    media, data = inline or (image.media_type or "image/png", image.data or "")
    return {"type": "base64", "media_type": media, "data": data}


def tool_result(result: ir.ToolResult) -> dict[str, Any]:
    """A ``tool_result`` block; empty content becomes a placeholder (the API refuses it)."""
    content: str | list[dict[str, Any]]
    if all(isinstance(p, ir.Text) and not p.extras for p in result.content):
        content = "".join(p.text for p in result.content if isinstance(p, ir.Text))
    else:
        content = [b for p in result.content if (b := encode_block(p, "user")) is not None]
    out: dict[str, Any] = {"type": "tool_result", "tool_use_id": result.call_id}
    out["content"] = content or NO_OUTPUT
    if result.is_error:
        out["is_error"] = True
    return {**out, **mine(result.extras)}


# -- decoding an upstream stream ---------------------------------------------------------


class StreamDecoder:
    """Anthropic SSE bytes (split anywhere) → IR events, in order."""

    def __init__(self) -> None:
        self._parser = SSEParser()
        self._started = self._done = self._seen = False  # seen: any block or stop reason
        self._tools: dict[int, int] = {}  # content block index → tool call index
        self._usage: ir.Usage | None = None
        self._stop: ir.Stop | None = None
        self._stop_sequence: str | None = None

    def feed(self, chunk: bytes) -> list[ir.Event]:
        return self._handle(self._parser.feed(chunk))

    def close(self) -> list[ir.Event]:
        out = self._handle(self._parser.close())
        if not self._done:
            self._done = True
            finish = ir.Finish(self._stop or S.END, self._usage, self._stop_sequence)
            failure = ir.Failure(502, "the upstream stream ended before any answer")
            out.append(finish if self._seen else failure)
        return out

    def _handle(self, pairs: list[tuple[str | None, bytes]]) -> list[ir.Event]:
        out: list[ir.Event] = []
        for name, data in pairs:
            if self._done:
                break
            try:
                obj = orjson.loads(data)
            except orjson.JSONDecodeError:
                obj = None
            if not isinstance(obj, dict):
                self._done = True
                out.append(ir.Failure(502, "the upstream sent a malformed stream event"))
                break
            self._event(as_str(obj.get("type")) or name, obj, out)
        return out

    def _begin(self, out: list[ir.Event], message: Any = None) -> None:
        if self._started:
            return
        self._started = True
        message = _dict(message)
        usage = usage_from(message.get("usage"))
        if usage is not None:  # message_start's output_tokens is a placeholder
            self._usage = usage = replace(usage, output=None, reasoning=None)
        msg_id, model = as_str(message.get("id")), as_str(message.get("model")) or ""
        out.append(ir.Start(msg_id or new_id("msg_"), model, usage))

    def _event(self, kind: str | None, obj: dict[str, Any], out: list[ir.Event]) -> None:
        index = _int(obj.get("index"))
        if kind == "error":
            error = _dict(obj.get("error"))
            etype = as_str(error.get("type")) or "api_error"
            text = as_str(error.get("message")) or "the upstream reported an error"
            self._done = True
            out.append(ir.Failure(ERROR_STATUS.get(etype, 500), text, etype))
        elif kind == "message_start":
            self._begin(out, obj.get("message"))
        elif kind == "message_stop":
            self._begin(out)
            self._done = True
            out.append(ir.Finish(self._stop or S.END, self._usage, self._stop_sequence))
        elif kind == "content_block_start" and index is not None:
            self._begin(out)
            self._seen = True
            self._block(index, _dict(obj.get("content_block")), out)
        elif kind == "content_block_delta" and index is not None:
            self._begin(out)
            self._seen = True
            self._delta(index, _dict(obj.get("delta")), out)
        elif kind == "message_delta":
            self._begin(out)
            self._seen = True
            delta = _dict(obj.get("delta"))
            self._stop = stop_from(delta["stop_reason"]) if delta.get("stop_reason") else self._stop
            self._stop_sequence = as_str(delta.get("stop_sequence"))
            usage = merge_usage(self._usage, usage_from(obj.get("usage")))
            if usage is not None and usage != self._usage:
                self._usage = usage
                out.append(ir.UsageUpdate(usage))
        # ping, content_block_stop and unknown events carry nothing

    def _block(self, index: int, block: dict[str, Any], out: list[ir.Event]) -> None:
        kind = block.get("type")
        if kind == "text" and as_str(block.get("text")):
            out.append(ir.TextDelta(block["text"]))
        elif kind == "thinking":
            text, sig = as_str(block.get("thinking")), as_str(block.get("signature"))
            if text or sig:
                out.append(ir.ReasoningDelta(text=text or "", signature=sig or None))
        elif kind == "redacted_thinking" and as_str(block.get("data")) is not None:
            out.append(ir.ReasoningDelta(redacted=block["data"]))
        elif kind == "tool_use":
            call = self._tools[index] = len(self._tools)
            call_id = as_str(block.get("id")) or new_id("toolu_")
            out.append(ir.ToolCallStart(call, call_id, as_str(block.get("name")) or ""))
            if block.get("input"):
                out.append(ir.ToolCallDelta(call, json_text(block["input"])))
        # server_tool_use, web_search_tool_result … have no IR form: skipped

    def _delta(self, index: int, delta: dict[str, Any], out: list[ir.Event]) -> None:
        kind = delta.get("type")
        if kind == "text_delta" and (text := as_str(delta.get("text"))):
            out.append(ir.TextDelta(text))
        elif kind == "thinking_delta" and (text := as_str(delta.get("thinking"))):
            out.append(ir.ReasoningDelta(text=text))
        elif kind == "signature_delta" and (sig := as_str(delta.get("signature"))):
            out.append(ir.ReasoningDelta(signature=sig))
        elif (part := as_str(delta.get("partial_json"))) and index in self._tools:
            out.append(ir.ToolCallDelta(self._tools[index], part))


# -- encoding a stream for a client ------------------------------------------------------


@dataclass(slots=True)
class _Call:
    id: str
    name: str
    signature: str | None = None  # Gemini's, carried on a thinking block before the call
    state: str = "queued"  # queued → open → closed
    pending: list[str] = field(default_factory=list)  # arguments received while queued


class StreamEncoder:
    """IR events → Anthropic SSE bytes, one event at a time.

    Tool calls get their blocks in call order. Arguments of a call whose block is not the
    open one (parallel calls may interleave) wait until its block opens: when other content
    follows or at :class:`~omni.ir.Finish`. Only a delta for a call whose block was closed
    by later text or thinking could be lost, which no upstream sends.
    """

    def __init__(self, model: str, response_id: str) -> None:
        self._model, self._id = model, response_id
        self._started = self._done = False
        self._next = 0  # index of the open (or next) content block
        self._open: str | None = None  # kind of the open block: text, thinking, tool …
        self._open_call: int | None = None
        self._signed = False  # the open thinking block has its signature
        self._calls: dict[int, _Call] = {}
        self._queue: list[int] = []  # calls whose block is not opened yet, in call order
        self._usage: ir.Usage | None = None

    def encode(self, event: ir.Event) -> bytes:
        if self._done:
            return b""
        out: list[bytes] = []
        if not self._started:
            self._start(out, event if isinstance(event, ir.Start) else None)
        if isinstance(event, ir.TextDelta) and event.text:
            if self._open != "text":
                self._open_block(out, "text", {"type": "text", "text": ""})
            self._delta(out, {"type": "text_delta", "text": event.text})
        elif isinstance(event, ir.ReasoningDelta):
            self._reasoning(out, event)
        elif isinstance(event, ir.ToolCallStart) and event.index not in self._calls:
            call_id = event.id or new_id("toolu_")
            self._calls[event.index] = _Call(call_id, event.name, event.signature)
            if self._open == "tool" or self._queue:
                self._queue.append(event.index)
            else:
                self._open_tool(out, event.index)
        elif isinstance(event, ir.ToolCallDelta) and event.arguments:
            call = self._calls.get(event.index)
            if call is not None and call.state == "open":
                self._delta(out, {"type": "input_json_delta", "partial_json": event.arguments})
            elif call is not None and call.state == "queued":
                call.pending.append(event.arguments)
        elif isinstance(event, ir.UsageUpdate):
            self._usage = merge_usage(self._usage, event.usage)
        elif isinstance(event, ir.Finish):
            self._finish(out, event)
        elif isinstance(event, ir.Failure):
            self._done = True
            out.append(errors.error_event(ir.Dialect.ANTHROPIC, event.status, event.message))
        return b"".join(out)

    def _start(self, out: list[bytes], event: ir.Start | None) -> None:
        self._started = True
        self._usage = event.usage if event else None
        message: dict[str, Any] = {
            "id": self._id or (event.id if event else "") or new_id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": self._model or (event.model if event else ""),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage_to(replace(self._usage or ir.Usage(), output=0, reasoning=None)),
        }
        out.append(_event("message_start", message=message))

    def _open_block(self, out: list[bytes], kind: str, block: dict[str, Any]) -> None:
        while kind != "tool" and self._queue:  # waiting calls first: blocks keep event order
            self._open_tool(out, self._queue.pop(0))
        self._close(out)
        self._open, self._signed = kind, False
        out.append(_event("content_block_start", index=self._next, content_block=block))

    def _close(self, out: list[bytes]) -> None:
        if self._open is None:
            return
        out.append(_event("content_block_stop", index=self._next))
        if self._open_call is not None:
            self._calls[self._open_call].state = "closed"
        self._open = self._open_call = None
        self._next += 1

    def _delta(self, out: list[bytes], delta: dict[str, Any]) -> None:
        out.append(_event("content_block_delta", index=self._next, delta=delta))

    def _reasoning(self, out: list[bytes], event: ir.ReasoningDelta) -> None:
        if event.redacted is not None:
            self._open_block(out, "redacted", {"type": "redacted_thinking", "data": event.redacted})
            self._close(out)
        if not event.text and event.signature is None:
            return
        if self._open != "thinking" or (self._signed and event.text):
            self._open_block(out, "thinking", {"type": "thinking", "thinking": "", "signature": ""})
        if event.text:
            self._delta(out, {"type": "thinking_delta", "thinking": event.text})
        if event.signature is not None:
            self._delta(out, {"type": "signature_delta", "signature": event.signature})
            self._signed = True

    def _open_tool(self, out: list[bytes], index: int) -> None:
        call = self._calls[index]
        if call.signature:  # on the thinking just before, or on a thinking block of its own
            if self._open != "thinking" or self._signed:
                self._close(out)
                self._open, self._signed = "thinking", False
                thinking = {"type": "thinking", "thinking": "", "signature": ""}
                out.append(_event("content_block_start", index=self._next, content_block=thinking))
            carried = signatures.carrier(call.signature)
            self._delta(out, {"type": "signature_delta", "signature": carried})
            self._signed = True
        block = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
        self._open_block(out, "tool", block)
        self._open_call, call.state = index, "open"
        if call.pending:
            self._delta(out, {"type": "input_json_delta", "partial_json": "".join(call.pending)})
            call.pending = []

    def _finish(self, out: list[bytes], event: ir.Finish) -> None:
        while self._queue:
            self._open_tool(out, self._queue.pop(0))
        self._close(out)
        self._done = True
        usage = usage_to(merge_usage(self._usage, event.usage), with_input=False)
        reason = stop_to(event.stop, bool(self._calls))
        delta = {"stop_reason": reason, "stop_sequence": event.stop_sequence}
        out.append(_event("message_delta", delta=delta, usage=usage))
        out.append(_event("message_stop"))


def _event(kind: str, **data: Any) -> bytes:
    return sse({"type": kind, **data}, event=kind)
