"""The fake upstream's other encoders: Anthropic Messages, Gemini and Ollama (with embeddings).

One scripted `Reply` rendered as Anthropic `/v1/messages` (content blocks, or the
`message_start` … `message_stop` event stream with thinking signatures), Gemini
`generateContent` / `streamGenerateContent` (CRLF-framed SSE, no `[DONE]`) and
`embedContent` / `batchEmbedContents`, and Ollama `/api/chat` (JSON, or NDJSON lines) and
`/api/embed`. Each encoder is a pure function of the reply and a `Ctx`; the shared pieces
(`Ctx`, `Dialect`, SSE framing, error bodies) are in `dialects_common.py`, and the `Dialect`
entries at the bottom are what `upstream.py` serves.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tests.fakes.dialects_common import (
    Ctx,
    Dialect,
    Obj,
    anthropic_error,
    dumps,
    embedding,
    embedding_inputs,
    gemini_error,
    ollama_error,
    signature,
    split_arguments,
    split_text,
    sse,
)

if TYPE_CHECKING:
    from tests.fakes.upstream import Reply, ToolCall, Usage


# ----------------------------------------------------------------------------- helpers


def args_dict(call: ToolCall) -> Obj:
    try:
        value = json.loads(call.arguments or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _texts(reply: Reply, pieces: int) -> list[str]:
    """Text pieces; a lone "" when the reply has neither text nor tool calls."""
    return split_text(reply.text, pieces) or ([] if reply.tool_calls else [""])


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


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


# ----------------------------------------------------------------------------- registry

_ANTHROPIC_GARBAGE = b"event: content_block_delta\ndata: {this is not json\n\n"
_GEMINI_GARBAGE = b"data: {this is not json\r\n\r\n"
_NDJSON = "application/x-ndjson"

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
GEMINI_EMBEDDINGS = Dialect("gemini-embeddings", gemini_embed_json, gemini_error)
OLLAMA_EMBEDDINGS = Dialect("ollama-embeddings", ollama_embed_json, ollama_error)
