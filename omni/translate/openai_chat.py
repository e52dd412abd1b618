"""OpenAI Chat Completions ⇄ IR: requests and complete responses.

Streams live in :mod:`omni.translate.openai_chat_stream` (re-exported here). Chat
Completions is the dialect most clients and most upstreams speak, so the decoder is
liberal (``developer`` role, ``max_completion_tokens``, ``reasoning_content`` and
``reasoning`` echoes, ``<think>`` tags in content, the deprecated ``functions`` /
``function_call``). Fields with no IR home are kept in ``extras["openai"]`` of the nearest
object (request, message, part, tool call, response) so a same-dialect hop sends them on;
the reasoning echoes of an assistant turn go back in the field they came in.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import Any

from omni import ir
from omni.errors import InvalidInputError
from omni.translate._common import (
    json_text,
    new_id,
    opt_float,
    opt_int,
    opt_str,
    require_dict,
    require_list,
    split_data_url,
)
from omni.translate.openai_chat_stream import StreamDecoder, StreamEncoder, StreamRelay
from omni.translate.openai_common import (
    FINISH_TO_STOP,
    STOP_TO_FINISH,
    decode_effort,
    decode_format,
    decode_function_call,
    decode_stop,
    decode_tool_choice,
    decode_tools,
    encode_effort,
    encode_format,
    encode_tool,
    split_think,
    usage_from,
    usage_from_body,
    usage_payload,
)

__all__ = [
    "STREAM_CONTENT_TYPE",
    "StreamDecoder",
    "StreamEncoder",
    "StreamRelay",
    "decode_request",
    "decode_response",
    "encode_request",
    "encode_response",
    "split_think",
    "usage_from",
    "usage_from_body",
]

STREAM_CONTENT_TYPE = "text/event-stream"
D = ir.Dialect.OPENAI_CHAT.value

_KNOWN = {
    "model", "messages", "tools", "tool_choice", "parallel_tool_calls", "max_tokens",
    "max_completion_tokens", "temperature", "top_p", "stop", "seed", "stream",
    "stream_options", "reasoning_effort", "response_format", "user", "functions",
    "function_call",
}  # fmt: skip
# Message fields with an IR home; any other field stays in the message's extras.
_MESSAGE_KNOWN = {"role", "content", "tool_calls", "function_call", "tool_call_id"}
_REASONING_FIELDS = ("reasoning_content", "reasoning")


# -- requests -------------------------------------------------------------------------


def decode_request(
    body: dict[str, Any], *, model: str | None = None, stream: bool | None = None
) -> ir.Request:
    body = require_dict(body)
    name = model if model is not None else body.get("model")
    if not isinstance(name, str) or not name:
        raise InvalidInputError("'model' must be a string naming the model to use")
    if body.get("messages") is None:
        raise InvalidInputError("'messages' is required: an array of chat messages")
    raw_messages = require_list(body.get("messages"), "messages")
    system: list[ir.Text] = []
    messages: list[ir.Message] = []
    names: dict[str, str] = {}
    for i, raw in enumerate(raw_messages):
        _decode_message(require_dict(raw, f"'messages[{i}]'"), i, system, messages, names)
    extra = {k: v for k, v in body.items() if k not in _KNOWN}
    choice, other = decode_tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
    if other is not None:
        extra["tool_choice"] = other
    elif choice is None and body.get("tool_choice") is None:
        choice = decode_function_call(body.get("function_call"))
    limit = opt_int(body.get("max_tokens"), "max_tokens")
    newer = opt_int(body.get("max_completion_tokens"), "max_completion_tokens")
    if newer is not None:  # remember the key: reasoning models refuse max_tokens
        extra["max_completion_tokens"] = newer
        if limit is not None:
            extra["max_tokens"] = limit
    response_format = decode_format(body.get("response_format"))
    if response_format is not None and encode_format(response_format) != body["response_format"]:
        extra["response_format"] = body["response_format"]
    options = body.get("stream_options")
    if isinstance(options, dict):
        rest = {k: v for k, v in options.items() if k != "include_usage"}
        if rest:
            extra["stream_options"] = rest
    request = ir.Request(
        model=name,
        messages=messages,
        system=system,
        tools=decode_tools(body.get("tools"), "tools")
        + decode_tools(body.get("functions"), "functions"),
        tool_choice=choice,
        stream=bool(body.get("stream")) if stream is None else stream,
        max_tokens=newer if newer is not None else limit,
        temperature=opt_float(body.get("temperature"), "temperature"),
        top_p=opt_float(body.get("top_p"), "top_p"),
        stop=decode_stop(body.get("stop")),
        seed=opt_int(body.get("seed"), "seed"),
        reasoning=decode_effort(body.get("reasoning_effort")),
        response_format=response_format,
        stream_usage=isinstance(options, dict) and options.get("include_usage") is True,
        user=opt_str(body.get("user"), "user"),
    )
    if extra:
        request.extras[D] = extra
    return request


def _text_of(content: Any, where: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    parts = require_list(content, where)
    return "".join(
        p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)
    )


def _decode_parts(content: Any, where: str) -> list[ir.Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [ir.Text(content)] if content else []
    parts: list[ir.Part] = []
    for j, raw in enumerate(require_list(content, where)):
        part = require_dict(raw, f"'{where}[{j}]'")
        kind = part.get("type")
        if kind in ("text", "input_text", "output_text"):
            text = part.get("text")
            if not isinstance(text, str):
                raise InvalidInputError(f"'{where}[{j}].text' must be a string")
            rest = {k: v for k, v in part.items() if k not in ("type", "text")}
            parts.append(ir.Text(text, extras={D: rest} if rest else {}))
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if not isinstance(url, str):
                raise InvalidInputError(f"'{where}[{j}].image_url.url' must be a string")
            detail = image.get("detail") if isinstance(image, dict) else None
            inline = split_data_url(url)
            if inline:
                parts.append(ir.Image(data=inline[1], media_type=inline[0], detail=detail))
            else:
                parts.append(ir.Image(url=url, detail=detail))
        elif kind == "refusal":
            parts.append(ir.Text(str(part.get("refusal", "")), extras={D: {"type": "refusal"}}))
        else:  # input_audio, file, …: no IR home, kept whole
            parts.append(ir.Text("", extras={D: {"part": part}}))
    return parts


def _decode_call(raw: Any, where: str, names: dict[str, str]) -> ir.ToolCall:
    call = require_dict(raw, f"'{where}'")
    fn = require_dict(call.get("function"), f"'{where}.function'")
    name = fn.get("name")
    if not isinstance(name, str):
        raise InvalidInputError(f"'{where}.function.name' must be a string")
    call_id = call.get("id") or new_id("call_")
    if not isinstance(call_id, str):
        raise InvalidInputError(f"'{where}.id' must be a string")
    names[call_id] = name
    rest = {k: v for k, v in call.items() if k not in ("id", "type", "function", "index")}
    return ir.ToolCall(
        call_id, name, json_text(fn.get("arguments")), extras={D: rest} if rest else {}
    )


def _decode_message(
    raw: dict[str, Any],
    i: int,
    system: list[ir.Text],
    messages: list[ir.Message],
    names: dict[str, str],
) -> None:
    role = raw.get("role")
    where = f"messages[{i}].content"
    rest = {k: v for k, v in raw.items() if k not in _MESSAGE_KNOWN}
    if role in ("system", "developer"):
        text = _text_of(raw.get("content"), where)
        if role == "developer":
            rest["role"] = role
        if isinstance(raw.get("content"), list):
            rest["content"] = raw["content"]  # sent again as given while the text is unchanged
        if messages:  # a system message mid-conversation goes back to its place
            rest["at"] = len(messages)
        system.append(ir.Text(text, extras={D: rest} if rest else {}))
    elif role == "user":
        said = _decode_parts(raw.get("content"), where)
        messages.append(ir.Message("user", said, extras={D: rest} if rest else {}))
    elif role == "assistant":
        parts: list[ir.Part] = []
        for key in _REASONING_FIELDS:
            if isinstance(raw.get(key), str) and raw[key]:
                parts.append(ir.Reasoning(text=rest.pop(key), extras={D: {"field": key}}))
                break
        content = _decode_parts(raw.get("content"), where)
        if len(content) == 1 and isinstance(content[0], ir.Text) and not parts:
            think, text = split_think(content[0].text)
            if think is not None:
                parts.append(ir.Reasoning(text=think, extras={D: {"field": "think"}}))
                content = [ir.Text(text)] if text else []
        parts += content
        calls = require_list(raw.get("tool_calls"), f"messages[{i}].tool_calls")
        parts += [
            _decode_call(c, f"messages[{i}].tool_calls[{k}]", names) for k, c in enumerate(calls)
        ]
        legacy = raw.get("function_call")
        if legacy is not None:  # the deprecated single call: its name doubles as its id
            fn = require_dict(legacy, f"'messages[{i}].function_call'")
            parts.append(
                _decode_call({"id": fn.get("name"), "function": fn}, f"messages[{i}]", names)
            )
        messages.append(ir.Message("assistant", parts, extras={D: rest} if rest else {}))
    elif role in ("tool", "function"):
        call_id = raw.get("tool_call_id") if role == "tool" else raw.get("name")
        if not isinstance(call_id, str):
            key = "tool_call_id" if role == "tool" else "name"
            raise InvalidInputError(f"'messages[{i}].{key}' must be a string")
        if role == "function":
            rest.pop("name", None)
        result = ir.ToolResult(
            call_id=call_id,
            content=[
                p
                for p in _decode_parts(raw.get("content"), where)
                if isinstance(p, ir.Text | ir.Image)
            ],
            name=names.get(call_id) or opt_str(raw.get("name"), f"messages[{i}].name"),
            extras={D: rest} if rest else {},
        )
        last = messages[-1] if messages else None
        placed = bool(system) and system[-1].extras.get(D, {}).get("at") == len(messages)
        if (
            last
            and last.role == "user"
            and last.parts
            and not placed
            and all(isinstance(p, ir.ToolResult) for p in last.parts)
        ):
            last.parts.append(result)
        else:
            messages.append(ir.Message("user", [result]))
    else:
        raise InvalidInputError(
            f"'messages[{i}].role' must be system, developer, user, assistant or tool, not {role!r}"
        )


def encode_request(request: ir.Request) -> dict[str, Any]:
    """The Chat Completions body for an upstream."""
    same = request.extras.get(D, {})
    body: dict[str, Any] = {"model": request.model, "messages": _encode_messages(request)}
    if request.tools:
        tools = [encode_tool(t) for t in request.tools if t.name or D in t.extras]
        if tools:
            body["tools"] = tools
    choice = request.tool_choice
    if choice is not None:
        if choice.mode == "tool":
            body["tool_choice"] = {"type": "function", "function": {"name": choice.name}}
        elif choice.mode != "auto" or (request.tools and "tool_choice" not in same):
            body["tool_choice"] = choice.mode
        if choice.parallel is not None and request.tools:
            body["parallel_tool_calls"] = choice.parallel
    if request.max_tokens is not None:
        key = "max_completion_tokens" if "max_completion_tokens" in same else "max_tokens"
        body[key] = request.max_tokens
    for key in ("temperature", "top_p", "seed", "user"):
        value = getattr(request, key)
        if value is not None:
            body[key] = value
    if request.stop:
        body["stop"] = request.stop
    effort = encode_effort(request.reasoning)
    if effort:
        body["reasoning_effort"] = effort
    if request.response_format is not None:
        body["response_format"] = encode_format(request.response_format)
        given = same.get("response_format")  # as the client wrote it (with a description)
        if given is not None and decode_format(given) == request.response_format:
            body["response_format"] = given
    if request.stream:
        body["stream"] = True
        body["stream_options"] = {**same.get("stream_options", {}), "include_usage": True}
    for key, value in same.items():
        if key not in ("stream_options", "max_completion_tokens", "response_format"):
            body.setdefault(key, value)
    return body


def _encode_part(part: ir.Text | ir.Image) -> dict[str, Any]:
    if isinstance(part, ir.Image):
        url = part.url or f"data:{part.media_type or 'image/png'};base64,{part.data}"
        image: dict[str, Any] = {"url": url}
        if part.detail:
            image["detail"] = part.detail
        return {"type": "image_url", "image_url": image}
    kept = part.extras.get(D, {})
    if "part" in kept:
        return dict(kept["part"])
    if kept.get("type") == "refusal":
        return {"type": "refusal", "refusal": part.text}
    return {"type": "text", "text": part.text, **kept}


def _encode_content(parts: Sequence[ir.Part]) -> str | list[dict[str, Any]]:
    visible = [p for p in parts if isinstance(p, ir.Text | ir.Image)]
    if all(isinstance(p, ir.Text) and D not in p.extras for p in visible):
        return "".join(p.text for p in visible if isinstance(p, ir.Text))
    return [_encode_part(p) for p in visible]


def _encode_assistant(message: ir.Message) -> dict[str, Any]:
    calls = [p for p in message.parts if isinstance(p, ir.ToolCall)]
    content = _encode_content(message.parts)
    entry: dict[str, Any] = {**message.extras.get(D, {}), "role": "assistant"}
    entry["content"] = content if content or not calls else None
    for part in message.parts:  # this dialect's own reasoning echoes go back where they were
        if not isinstance(part, ir.Reasoning):
            continue
        field = part.extras.get(D, {}).get("field")
        if field == "think" and isinstance(entry["content"], str):
            entry["content"] = f"<think>\n{part.text}\n</think>\n\n{entry['content']}"
        elif field in _REASONING_FIELDS:
            entry[field] = entry.get(field, "") + part.text
    if calls:
        entry["tool_calls"] = [
            {**c.extras.get(D, {}), "id": c.id, "type": "function",
             "function": {"name": c.name, "arguments": c.arguments}}
            for c in calls
        ]  # fmt: skip
    return entry


def _encode_messages(request: ir.Request) -> list[dict[str, Any]]:
    placed: dict[int, list[dict[str, Any]]] = {}
    for text in request.system:
        entry = {"role": "system", **text.extras.get(D, {})}
        if entry.get("content") is None or _text_of(entry["content"], "") != text.text:
            entry["content"] = text.text
        at = min(entry.pop("at", 0), len(request.messages))
        placed.setdefault(at, []).append(entry)
    out: list[dict[str, Any]] = []
    for k, message in enumerate(request.messages):
        out += placed.pop(k, [])
        if message.role == "assistant":
            out.append(_encode_assistant(message))
            continue
        images: list[ir.Part] = []  # tool messages take text only: images follow as user content
        for result in (p for p in message.parts if isinstance(p, ir.ToolResult)):
            images += [p for p in result.content if isinstance(p, ir.Image)]
            content = _encode_content([p for p in result.content if isinstance(p, ir.Text)])
            out.append(
                {**result.extras.get(D, {}), "role": "tool", "tool_call_id": result.call_id,
                 "content": content}
            )  # fmt: skip
        rest = images + [p for p in message.parts if isinstance(p, ir.Text | ir.Image)]
        if rest or not message.parts:
            out.append(
                {**message.extras.get(D, {}), "role": "user", "content": _encode_content(rest)}
            )
    return out + placed.pop(len(request.messages), [])


# -- responses ------------------------------------------------------------------------

_BODY_KNOWN = {"id", "object", "created", "model", "choices", "usage"}
_ANSWER_KNOWN = {"role", "content", "refusal", "tool_calls", "function_call", *_REASONING_FIELDS}


def decode_response(body: dict[str, Any]) -> ir.Response:
    """An upstream's ``chat.completion`` as IR."""
    body = require_dict(body, "the upstream answer")
    choices = body.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices else {}
    choice = choice if isinstance(choice, dict) else {}
    message = choice.get("message")
    message = message if isinstance(message, dict) else {}
    parts: list[ir.Part] = []
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    content = message.get("content")
    text = _text_of(content if isinstance(content, str | list) else None, "content")
    if isinstance(reasoning, str) and reasoning:
        parts.append(ir.Reasoning(text=reasoning))
    else:
        think, text = split_think(text)
        if think is not None:
            parts.append(ir.Reasoning(text=think))
    if text:
        parts.append(ir.Text(text))
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal:
        parts.append(ir.Text(refusal, extras={D: {"type": "refusal"}}))
    calls = message.get("tool_calls")
    calls = calls if isinstance(calls, list) else []
    if isinstance(message.get("function_call"), dict):
        calls = [*calls, {"function": message["function_call"]}]
    for call in calls:
        with contextlib.suppress(InvalidInputError):  # a malformed call is dropped
            parts.append(_decode_call(call, "tool_calls", {}))
    finish = choice.get("finish_reason")
    stop = FINISH_TO_STOP.get(str(finish), ir.Stop.END)
    if stop is ir.Stop.END and any(isinstance(p, ir.ToolCall) for p in parts):
        stop = ir.Stop.TOOL_USE
    kept = {k: v for k, v in body.items() if k not in _BODY_KNOWN}
    said = {k: v for k, v in message.items() if k not in _ANSWER_KNOWN}
    if said:
        kept["message"] = said
    if choice.get("logprobs") is not None:
        kept["logprobs"] = choice["logprobs"]
    return ir.Response(
        id=str(body.get("id") or new_id("chatcmpl-")),
        model=str(body.get("model") or ""),
        parts=parts,
        stop=stop,
        usage=usage_from(body) or ir.Usage(),
        created=body.get("created") if isinstance(body.get("created"), int) else None,
        extras={D: kept} if kept else {},
    )


def _is_refusal(part: ir.Part) -> bool:
    return isinstance(part, ir.Text) and part.extras.get(D, {}).get("type") == "refusal"


def encode_response(response: ir.Response) -> dict[str, Any]:
    """A ``chat.completion`` for a client."""
    kept = dict(response.extras.get(D, {}))
    calls = response.tool_calls
    text = "".join(p.text for p in response.parts if isinstance(p, ir.Text) and not _is_refusal(p))
    refusal = "".join(p.text for p in response.parts if isinstance(p, ir.Text) and _is_refusal(p))
    message: dict[str, Any] = {
        "role": "assistant",
        "content": text if text or not (calls or refusal) else None,
        "refusal": refusal or None,
        **kept.pop("message", {}),
    }
    thinking = "".join(p.text for p in response.parts if isinstance(p, ir.Reasoning))
    if thinking:
        message["reasoning_content"] = thinking
    if calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in calls
        ]
    choice = {
        "index": 0,
        "message": message,
        "logprobs": kept.pop("logprobs", None),
        "finish_reason": STOP_TO_FINISH.get(response.stop, "stop"),
    }
    return {
        "id": response.id,
        "object": "chat.completion",
        "created": response.created or int(time.time()),
        "model": response.model,
        "choices": [choice],
        "usage": usage_payload(response.usage),
        **kept,
    }
