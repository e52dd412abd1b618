"""The fake upstream's OpenAI encoders: Chat Completions, Responses and embeddings.

One scripted `Reply` rendered as `/v1/chat/completions` (JSON, or SSE chunks ending in
`[DONE]`, with the usage chunk when `stream_options.include_usage` asks for it),
`/v1/responses` (the response object, or its typed, sequence-numbered event stream) and
`/v1/embeddings` (floats or base64 float32). Each encoder is a pure function of the reply and
a `Ctx`; the shared pieces (`Ctx`, `Dialect`, SSE framing, error bodies) are in
`dialects_common.py`, and the `Dialect` entries at the bottom are what `upstream.py` serves.
"""

from __future__ import annotations

import base64
import struct
from typing import TYPE_CHECKING, Any

from tests.fakes.dialects_common import (
    Ctx,
    Dialect,
    Obj,
    embedding,
    embedding_inputs,
    openai_error,
    signature,
    split_arguments,
    split_text,
    sse,
)

if TYPE_CHECKING:
    from tests.fakes.upstream import Reply, Usage

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


# ----------------------------------------------------------------------------- OpenAI embeddings


def float32_base64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


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

OPENAI_CHAT = Dialect("openai-chat", chat_json, openai_error, chat_events, chat_stream_error)
OPENAI_RESPONSES = Dialect(
    "openai-responses", responses_json, openai_error, responses_events, responses_stream_error
)
OPENAI_EMBEDDINGS = Dialect("openai-embeddings", openai_embeddings_json, openai_error)
