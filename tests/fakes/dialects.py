"""Wire encoders for the fake upstream: one scripted `Reply` rendered in each provider dialect.

Kept apart from the HTTP server in `upstream.py` so that each dialect's shapes can be read (and
checked against the reference) in one place. Every encoder is a pure function of the reply and
a `Ctx` describing the request; streams are returned as a list of already-framed events, so the
server can pace, stall, cut or corrupt them without knowing the dialect.

Token accounting follows each provider: `Usage.input` counts the whole prompt including cached
tokens (OpenAI, Gemini, Ollama report it that way; Anthropic's `input_tokens` excludes
cache reads and writes), and `Usage.output` includes reasoning tokens (Gemini's
`candidatesTokenCount` excludes them).

The module is longer than the house ~600 lines on purpose: five dialects' full JSON, stream and
error shapes side by side are easier to check against the reference than spread over files.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.upstream import Reply, ToolCall, Usage

Obj = dict[str, Any]


@dataclass(frozen=True)
class Ctx:
    """What an encoder knows about the request it answers."""

    model: str
    request: Obj
    seq: int  # per-fake counter, makes ids like "chatcmpl-fake3"
    created: int

    @property
    def include_usage(self) -> bool:
        options = self.request.get("stream_options")
        return isinstance(options, dict) and bool(options.get("include_usage"))


@dataclass(frozen=True)
class Dialect:
    """How one provider renders replies, errors and (optionally) streams."""

    name: str
    json: Callable[[Reply, Ctx], Obj]
    error: Callable[[Reply], Obj]
    events: Callable[[Reply, Ctx], list[bytes]] | None = None
    stream_error: Callable[[Reply, Ctx, int], bytes] | None = None
    garbage: bytes = b"data: {this is not json\n\n"  # what `malformed` slips into a stream
    stream_type: str = "text/event-stream"


# ----------------------------------------------------------------------------- helpers


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def sse(data: Any, event: str | None = None, eol: str = "\n") -> bytes:
    head = f"event: {event}{eol}" if event else ""
    return f"{head}data: ".encode() + dumps(data) + (eol + eol).encode()


def split_text(text: str, pieces: int) -> list[str]:
    """`text` in `pieces` uneven parts (fewer if the text is shorter); [] for ""."""
    n = max(1, min(pieces, len(text)))
    bounds = [len(text) * i // n for i in range(n + 1)]
    return [text[a:b] for a, b in pairwise(bounds) if b > a]


def split_arguments(arguments: str) -> list[str]:
    """JSON text cut at awkward places: inside the first key, mid-way, before the last char."""
    cuts = {len(arguments) // 2, len(arguments) - 1}
    quote = arguments.find('"')
    if quote >= 0:
        cuts.add(quote + 2)
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(arguments)), len(arguments)]
    return [arguments[a:b] for a, b in pairwise(bounds) if b > a]


def args_dict(call: ToolCall) -> Obj:
    try:
        value = json.loads(call.arguments or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def signature(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _texts(reply: Reply, pieces: int) -> list[str]:
    """Text pieces; a lone "" when the reply has neither text nor tool calls."""
    return split_text(reply.text, pieces) or ([] if reply.tool_calls else [""])


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def embedding(text: str, dims: int = 8) -> list[float]:
    """A deterministic vector for `text`; values are exact in float32 (multiples of 1/128)."""
    raw = b"".join(hashlib.sha256(f"{i}:{text}".encode()).digest() for i in range(dims // 32 + 1))
    return [(byte - 128) / 128 for byte in raw[:dims]]


def float32_base64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def embedding_inputs(value: Any) -> list[str]:
    """OpenAI `input`: a string, a list of strings, a token list or a list of token lists."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return [str(value)]
    if isinstance(value, list):
        return [v if isinstance(v, str) else str(v) for v in value]
    return [str(value)]


# ----------------------------------------------------------------------------- errors

# status: (OpenAI type, OpenAI code, Anthropic type, Gemini status)
_ERRORS: dict[int, tuple[str, str | None, str, str]] = {
    400: ("invalid_request_error", None, "invalid_request_error", "INVALID_ARGUMENT"),
    401: ("invalid_request_error", "invalid_api_key", "authentication_error", "UNAUTHENTICATED"),
    403: ("permission_error", None, "permission_error", "PERMISSION_DENIED"),
    404: ("invalid_request_error", "model_not_found", "not_found_error", "NOT_FOUND"),
    413: ("invalid_request_error", None, "request_too_large", "INVALID_ARGUMENT"),
    429: ("rate_limit_error", "rate_limit_exceeded", "rate_limit_error", "RESOURCE_EXHAUSTED"),
    503: ("server_error", None, "api_error", "UNAVAILABLE"),
    504: ("server_error", None, "api_error", "DEADLINE_EXCEEDED"),
    529: ("server_error", None, "overloaded_error", "UNAVAILABLE"),
}
_SERVER_ERROR = ("server_error", None, "api_error", "INTERNAL")


def openai_error(reply: Reply) -> Obj:
    kind, code, _, _ = _ERRORS.get(reply.status, _SERVER_ERROR)
    kind = reply.error_type or kind
    return {"error": {"message": reply.error_message, "type": kind, "param": None, "code": code}}


def anthropic_error(reply: Reply) -> Obj:
    kind = reply.error_type or _ERRORS.get(reply.status, _SERVER_ERROR)[2]
    return {"type": "error", "error": {"type": kind, "message": reply.error_message}}


def gemini_error(reply: Reply) -> Obj:
    status = reply.error_type or _ERRORS.get(reply.status, _SERVER_ERROR)[3]
    return {"error": {"code": reply.status, "message": reply.error_message, "status": status}}


def ollama_error(reply: Reply) -> Obj:
    return {"error": reply.error_message}


# ----------------------------------------------------------------------------- OpenAI Chat


def _chat_usage(u: Usage) -> Obj:
    return {
        "prompt_tokens": u.input,
        "completion_tokens": u.output,
        "total_tokens": u.input + u.output,
        "prompt_tokens_details": {"cached_tokens": u.cache_read, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": u.reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _chat_head(ctx: Ctx, kind: str) -> Obj:
    return {"id": f"chatcmpl-fake{ctx.seq}", "object": kind, "created": ctx.created}


def chat_json(reply: Reply, ctx: Ctx) -> Obj:
    message: Obj = {
        "role": "assistant",
        "content": reply.text or (None if reply.tool_calls else ""),
        "refusal": None,
        "annotations": [],
    }
    if reply.reasoning is not None:
        message["reasoning_content"] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in reply.tool_calls
        ]
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish}
    return {
        **_chat_head(ctx, "chat.completion"),
        "model": ctx.model,
        "choices": [choice],
        "usage": _chat_usage(reply.usage),
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }


def chat_events(reply: Reply, ctx: Ctx) -> list[bytes]:
    head = {**_chat_head(ctx, "chat.completion.chunk"), "model": ctx.model}
    head["system_fingerprint"] = "fp_fake"

    def chunk(delta: Obj, finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        body: Obj = {**head, "choices": [choice]}
        if ctx.include_usage:
            body["usage"] = None
        return sse(body)

    role: Obj = {"role": "assistant", "content": "" if reply.text else None, "refusal": None}
    out = [chunk(role)]
    out += [
        chunk({"reasoning_content": p}) for p in split_text(reply.reasoning or "", reply.chunks)
    ]
    out += [chunk({"content": p}) for p in split_text(reply.text, reply.chunks)]
    for i, call in enumerate(reply.tool_calls):
        first = {"index": i, "id": call.id, "type": "function"}
        out.append(
            chunk({"tool_calls": [{**first, "function": {"name": call.name, "arguments": ""}}]})
        )
        for piece in split_arguments(call.arguments):
            out.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}))
    out.append(chunk({}, reply.finish))
    if ctx.include_usage:
        out.append(sse({**head, "choices": [], "usage": _chat_usage(reply.usage)}))
    return [*out, b"data: [DONE]\n\n"]


def chat_stream_error(reply: Reply, ctx: Ctx, n: int) -> bytes:
    return sse(openai_error(reply))


# ----------------------------------------------------------------------------- OpenAI Responses


def _responses_usage(u: Usage) -> Obj:
    return {
        "input_tokens": u.input,
        "input_tokens_details": {"cached_tokens": u.cache_read},
        "output_tokens": u.output,
        "output_tokens_details": {"reasoning_tokens": u.reasoning},
        "total_tokens": u.input + u.output,
    }


def _response(ctx: Ctx, status: str, output: list[Obj], usage: Obj | None) -> Obj:
    req = ctx.request
    return {
        "id": f"resp_fake{ctx.seq}",
        "object": "response",
        "created_at": ctx.created,
        "status": status,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
        "instructions": req.get("instructions"),
        "max_output_tokens": req.get("max_output_tokens"),
        "model": ctx.model,
        "output": output,
        "parallel_tool_calls": req.get("parallel_tool_calls", True),
        "previous_response_id": req.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "store": req.get("store", True),
        "temperature": req.get("temperature", 1.0),
        "text": {"format": {"type": "text"}},
        "tool_choice": req.get("tool_choice", "auto"),
        "tools": req.get("tools", []),
        "top_p": req.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


def _output_text(text: str) -> Obj:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _responses_items(reply: Reply, ctx: Ctx) -> list[Obj]:
    items: list[Obj] = []
    if reply.reasoning is not None:
        summary = [{"type": "summary_text", "text": reply.reasoning}]
        item: Obj = {"id": f"rs_fake{ctx.seq}", "type": "reasoning", "summary": summary}
        if "reasoning.encrypted_content" in (ctx.request.get("include") or []):
            item["encrypted_content"] = signature(reply.reasoning)
        items.append(item)
    if reply.text or not reply.tool_calls:
        content = [_output_text(reply.text)]
        msg = {"id": f"msg_fake{ctx.seq}", "type": "message", "status": "completed"}
        items.append({**msg, "role": "assistant", "content": content})
    for call in reply.tool_calls:
        fc = {"id": f"fc_{call.id}", "type": "function_call", "status": "completed"}
        items.append({**fc, "call_id": call.id, "name": call.name, "arguments": call.arguments})
    return items


def _responses_status(reply: Reply) -> str:
    return "incomplete" if reply.finish == "length" else "completed"


def responses_json(reply: Reply, ctx: Ctx) -> Obj:
    items = _responses_items(reply, ctx)
    return _response(ctx, _responses_status(reply), items, _responses_usage(reply.usage))


def responses_events(reply: Reply, ctx: Ctx) -> list[bytes]:
    events: list[Obj] = []

    def emit(kind: str, **fields: Any) -> None:
        events.append({"type": kind, "sequence_number": len(events), **fields})

    emit("response.created", response=_response(ctx, "in_progress", [], None))
    emit("response.in_progress", response=_response(ctx, "in_progress", [], None))
    items = _responses_items(reply, ctx)
    for index, item in enumerate(items):
        at = {"item_id": item["id"], "output_index": index}
        if item["type"] == "reasoning":
            text = reply.reasoning or ""
            emit("response.output_item.added", output_index=index, item={**item, "summary": []})
            part = {"type": "summary_text", "text": ""}
            emit("response.reasoning_summary_part.added", **at, summary_index=0, part=part)
            for piece in split_text(text, reply.chunks):
                emit("response.reasoning_summary_text.delta", **at, summary_index=0, delta=piece)
            emit("response.reasoning_summary_text.done", **at, summary_index=0, text=text)
            part = {"type": "summary_text", "text": text}
            emit("response.reasoning_summary_part.done", **at, summary_index=0, part=part)
        elif item["type"] == "message":
            added = {**item, "status": "in_progress", "content": []}
            emit("response.output_item.added", output_index=index, item=added)
            emit("response.content_part.added", **at, content_index=0, part=_output_text(""))
            for piece in split_text(reply.text, reply.chunks):
                delta: Obj = {"content_index": 0, "delta": piece, "logprobs": []}
                emit("response.output_text.delta", **at, **delta)
            emit("response.output_text.done", **at, content_index=0, text=reply.text, logprobs=[])
            part = _output_text(reply.text)
            emit("response.content_part.done", **at, content_index=0, part=part)
        else:
            added = {**item, "status": "in_progress", "arguments": ""}
            emit("response.output_item.added", output_index=index, item=added)
            for piece in split_arguments(item["arguments"]):
                emit("response.function_call_arguments.delta", **at, delta=piece)
            done = {"name": item["name"], "arguments": item["arguments"]}
            emit("response.function_call_arguments.done", **at, **done)
        emit("response.output_item.done", output_index=index, item=item)
    status = _responses_status(reply)
    final = _response(ctx, status, items, _responses_usage(reply.usage))
    emit(f"response.{status}", response=final)
    return [sse(e, event=e["type"]) for e in events]


def responses_stream_error(reply: Reply, ctx: Ctx, n: int) -> bytes:
    failed = _response(ctx, "failed", [], None)
    failed["error"] = {"code": reply.error_type or "server_error", "message": reply.error_message}
    data = {"type": "response.failed", "sequence_number": n, "response": failed}
    return sse(data, event="response.failed")


# ----------------------------------------------------------------------------- Anthropic

_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def _anthropic_usage(u: Usage) -> Obj:
    return {
        "input_tokens": max(0, u.input - u.cache_read - u.cache_write),
        "cache_creation_input_tokens": u.cache_write,
        "cache_read_input_tokens": u.cache_read,
        "output_tokens": u.output,
        "service_tier": "standard",
    }


def _anthropic_blocks(reply: Reply) -> list[tuple[Obj, Obj, list[Obj]]]:
    """(final block, block as first streamed, its streamed deltas) for each content block."""
    blocks: list[tuple[Obj, Obj, list[Obj]]] = []
    start: Obj
    if reply.reasoning is not None:
        sig = signature(reply.reasoning)
        pieces = split_text(reply.reasoning, reply.chunks)
        deltas = [{"type": "thinking_delta", "thinking": p} for p in pieces]
        final = {"type": "thinking", "thinking": reply.reasoning, "signature": sig}
        empty = {"type": "thinking", "thinking": "", "signature": ""}
        blocks.append((final, empty, [*deltas, {"type": "signature_delta", "signature": sig}]))
    if reply.text or not reply.tool_calls:
        deltas = [{"type": "text_delta", "text": p} for p in split_text(reply.text, reply.chunks)]
        blocks.append(({"type": "text", "text": reply.text}, {"type": "text", "text": ""}, deltas))
    for call in reply.tool_calls:
        start = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
        deltas = [
            {"type": "input_json_delta", "partial_json": p} for p in split_arguments(call.arguments)
        ]
        blocks.append(({**start, "input": args_dict(call)}, start, deltas))
    return blocks


def _anthropic_message(reply: Reply, ctx: Ctx) -> Obj:
    return {"id": f"msg_fake{ctx.seq}", "type": "message", "role": "assistant", "model": ctx.model}


def anthropic_json(reply: Reply, ctx: Ctx) -> Obj:
    return {
        **_anthropic_message(reply, ctx),
        "content": [final for final, _, _ in _anthropic_blocks(reply)],
        "stop_reason": _STOP_REASONS.get(reply.finish, reply.finish),
        "stop_sequence": None,
        "usage": _anthropic_usage(reply.usage),
    }


def anthropic_events(reply: Reply, ctx: Ctx) -> list[bytes]:
    out: list[bytes] = []

    def emit(kind: str, **fields: Any) -> None:
        out.append(sse({"type": kind, **fields}, event=kind))

    usage = {**_anthropic_usage(reply.usage), "output_tokens": 1}
    empty: Obj = {"content": [], "stop_reason": None, "stop_sequence": None, "usage": usage}
    emit("message_start", message={**_anthropic_message(reply, ctx), **empty})
    for index, (_, start, deltas) in enumerate(_anthropic_blocks(reply)):
        emit("content_block_start", index=index, content_block=start)
        if index == 0:
            emit("ping")
        for delta in deltas:
            emit("content_block_delta", index=index, delta=delta)
        emit("content_block_stop", index=index)
    stop = {"stop_reason": _STOP_REASONS.get(reply.finish, reply.finish), "stop_sequence": None}
    emit("message_delta", delta=stop, usage={"output_tokens": reply.usage.output})
    emit("message_stop")
    return out


def anthropic_stream_error(reply: Reply, ctx: Ctx, n: int) -> bytes:
    error = {"type": reply.error_type or "overloaded_error", "message": reply.error_message}
    return sse({"type": "error", "error": error}, event="error")


# ----------------------------------------------------------------------------- Gemini

_FINISH_REASONS = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP"}


def _gemini_usage(u: Usage) -> Obj:
    usage: Obj = {
        "promptTokenCount": u.input,
        "candidatesTokenCount": u.output - u.reasoning,
        "totalTokenCount": u.input + u.output,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": u.input}],
    }
    if u.cache_read:  # the API leaves zero counts out
        usage["cachedContentTokenCount"] = u.cache_read
    if u.reasoning:
        usage["thoughtsTokenCount"] = u.reasoning
    return usage


def _gemini_parts(reply: Reply, pieces: int) -> list[Obj]:
    parts: list[Obj] = [
        {"text": p, "thought": True} for p in split_text(reply.reasoning or "", pieces)
    ]
    parts += [{"text": p} for p in _texts(reply, pieces)]
    for i, call in enumerate(reply.tool_calls):
        part: Obj = {"functionCall": {"name": call.name, "args": args_dict(call)}}
        if i == 0 and reply.reasoning is not None:
            part["thoughtSignature"] = signature(reply.reasoning)
        parts.append(part)
    return parts


def _gemini_response(ctx: Ctx, parts: list[Obj], finish: str | None, usage: Obj) -> Obj:
    candidate: Obj = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    ids = {"modelVersion": ctx.model, "responseId": f"fake{ctx.seq}"}
    return {"candidates": [candidate], "usageMetadata": usage, **ids}


def gemini_json(reply: Reply, ctx: Ctx) -> Obj:
    finish = _FINISH_REASONS.get(reply.finish, reply.finish)
    return _gemini_response(ctx, _gemini_parts(reply, 1), finish, _gemini_usage(reply.usage))


def gemini_events(reply: Reply, ctx: Ctx) -> list[bytes]:
    parts = _gemini_parts(reply, reply.chunks)
    partial = {"promptTokenCount": reply.usage.input, "totalTokenCount": reply.usage.input}
    finish = _FINISH_REASONS.get(reply.finish, reply.finish)
    out = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        usage = _gemini_usage(reply.usage) if last else partial
        out.append(sse(_gemini_response(ctx, [part], finish if last else None, usage), eol="\r\n"))
    return out


def gemini_stream_error(reply: Reply, ctx: Ctx, n: int) -> bytes:
    error = {"code": 500, "message": reply.error_message, "status": reply.error_type or "INTERNAL"}
    return sse({"error": error}, eol="\r\n")


def _gemini_text(content: Any) -> str:
    parts = content.get("parts", []) if isinstance(content, dict) else []
    return "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))


def gemini_embed_json(reply: Reply, ctx: Ctx) -> Obj:
    requests = ctx.request.get("requests")
    if isinstance(requests, list):  # batchEmbedContents
        texts = [_gemini_text(r.get("content")) for r in requests if isinstance(r, dict)]
        return {"embeddings": [{"values": embedding(t)} for t in texts]}
    return {"embedding": {"values": embedding(_gemini_text(ctx.request.get("content")))}}


# ----------------------------------------------------------------------------- Ollama

_DONE_REASONS = {"stop": "stop", "length": "length", "tool_calls": "stop"}


def _ollama_line(ctx: Ctx, message: Obj, done: bool) -> Obj:
    return {"model": ctx.model, "created_at": _now(), "message": message, "done": done}


def _ollama_stats(reply: Reply) -> Obj:
    u, ms = reply.usage, 1_000_000
    return {
        "done_reason": _DONE_REASONS.get(reply.finish, reply.finish),
        "total_duration": (5 + u.input + u.output) * ms,
        "load_duration": 5 * ms,
        "prompt_eval_count": u.input,
        "prompt_eval_duration": u.input * ms,
        "eval_count": u.output,
        "eval_duration": u.output * ms,
    }


def _ollama_calls(reply: Reply) -> list[Obj]:
    return [
        {"id": c.id, "function": {"index": i, "name": c.name, "arguments": args_dict(c)}}
        for i, c in enumerate(reply.tool_calls)
    ]


def ollama_json(reply: Reply, ctx: Ctx) -> Obj:
    message: Obj = {"role": "assistant", "content": reply.text}
    if reply.reasoning is not None:
        message["thinking"] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = _ollama_calls(reply)
    return {**_ollama_line(ctx, message, True), **_ollama_stats(reply)}


def ollama_events(reply: Reply, ctx: Ctx) -> list[bytes]:
    role = {"role": "assistant"}
    lines = [
        _ollama_line(ctx, {**role, "content": "", "thinking": p}, False)
        for p in split_text(reply.reasoning or "", reply.chunks)
    ]
    lines += [
        _ollama_line(ctx, {**role, "content": p}, False)
        for p in split_text(reply.text, reply.chunks)
    ]
    if reply.tool_calls:
        calls = _ollama_calls(reply)
        lines.append(_ollama_line(ctx, {**role, "content": "", "tool_calls": calls}, False))
    lines.append({**_ollama_line(ctx, {**role, "content": ""}, True), **_ollama_stats(reply)})
    return [dumps(line) + b"\n" for line in lines]


def ollama_stream_error(reply: Reply, ctx: Ctx, n: int) -> bytes:
    return dumps(ollama_error(reply)) + b"\n"


def ollama_embed_json(reply: Reply, ctx: Ctx) -> Obj:
    texts = embedding_inputs(ctx.request.get("input", ""))
    return {
        "model": ctx.model,
        "embeddings": [embedding(t) for t in texts],
        "total_duration": 1_000_000,
        "load_duration": 100_000,
        "prompt_eval_count": sum(max(1, len(t) // 4) for t in texts),
    }


# ----------------------------------------------------------------------------- OpenAI embeddings


def openai_embeddings_json(reply: Reply, ctx: Ctx) -> Obj:
    texts = embedding_inputs(ctx.request.get("input", ""))
    dims = ctx.request.get("dimensions")
    dims = dims if isinstance(dims, int) and dims > 0 else 8
    as_base64 = ctx.request.get("encoding_format") == "base64"
    data = []
    for index, text in enumerate(texts):
        vector = embedding(text, dims)
        value: Any = float32_base64(vector) if as_base64 else vector
        data.append({"object": "embedding", "index": index, "embedding": value})
    tokens = sum(max(1, len(t) // 4) for t in texts)
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return {"object": "list", "data": data, "model": ctx.model, "usage": usage}


# ----------------------------------------------------------------------------- registry

_ANTHROPIC_GARBAGE = b"event: content_block_delta\ndata: {this is not json\n\n"
_GEMINI_GARBAGE = b"data: {this is not json\r\n\r\n"
_NDJSON = "application/x-ndjson"

OPENAI_CHAT = Dialect("openai-chat", chat_json, openai_error, chat_events, chat_stream_error)
OPENAI_RESPONSES = Dialect(
    "openai-responses", responses_json, openai_error, responses_events, responses_stream_error
)
ANTHROPIC = Dialect(
    "anthropic", anthropic_json, anthropic_error, anthropic_events, anthropic_stream_error,
    _ANTHROPIC_GARBAGE,
)  # fmt: skip
GEMINI = Dialect(
    "gemini", gemini_json, gemini_error, gemini_events, gemini_stream_error, _GEMINI_GARBAGE
)
OLLAMA = Dialect(
    "ollama", ollama_json, ollama_error, ollama_events, ollama_stream_error, b"{not json\n", _NDJSON
)
OPENAI_EMBEDDINGS = Dialect("openai-embeddings", openai_embeddings_json, openai_error)
GEMINI_EMBEDDINGS = Dialect("gemini-embeddings", gemini_embed_json, gemini_error)
OLLAMA_EMBEDDINGS = Dialect("ollama-embeddings", ollama_embed_json, ollama_error)
