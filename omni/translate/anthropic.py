"""Anthropic Messages (``/v1/messages``): requests and answers to and from the IR.

Decoding is liberal (what Claude Code and the SDKs send: system as text or blocks with
``cache_control``, thinking, server tools, metadata …); fields without an IR home are kept
in ``extras["anthropic"]`` so an Anthropic → Anthropic hop loses nothing. Encoding for an
Anthropic upstream enforces what the API insists on: alternating turns, tool results right
after their ``tool_use`` turn (orphans dropped, missing ones filled in as errors), a
``max_tokens`` above the thinking budget, no ``temperature`` while thinking, and no thinking
blocks without a genuine signature. The stream half lives in :mod:`.anthropic_stream`.
Pure code, no I/O.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from omni import ir
from omni.errors import InvalidInputError
from omni.translate import signatures
from omni.translate._common import (
    EFFORT_BUDGET,
    estimate_tokens,
    new_id,
    opt_float,
    opt_int,
    opt_str,
    require_dict,
    require_list,
)
from omni.translate.anthropic_stream import (
    STOP_TO,
    A,
    StreamDecoder,
    StreamEncoder,
    as_str,
    decode_block,
    encode_block,
    mine,
    opt_bool,
    req_str,
    rest,
    stop_from,
    stop_to,
    usage_from,
    usage_to,
)

__all__ = [
    "STREAM_CONTENT_TYPE", "StreamDecoder", "StreamEncoder", "count_tokens_estimate",
    "decode_request", "decode_response", "encode_request", "encode_response", "models_list",
]  # fmt: skip
STREAM_CONTENT_TYPE = "text/event-stream"
_MESSAGE_FIELDS = {"id", "type", "role", "model", "content", "stop_reason", "stop_sequence",
                   "usage"}  # fmt: skip
_USAGE_FIELDS = {"input_tokens", "output_tokens", "cache_read_input_tokens",
                 "cache_creation_input_tokens", "output_tokens_details"}  # fmt: skip
DEFAULT_MAX_TOKENS = 4096  # Anthropic requires max_tokens; used when the IR has none
ADAPTIVE_MAX_TOKENS = 16384  # … and when the model decides how much to think
MAX_OUTPUT = 64000  # the output limit of current Claude models (Opus 4.0 and 4.1: 32000)
_SMALLER_OUTPUT = re.compile(r"opus-4-(0|1|2025)")
MIN_BUDGET = 1024  # the smallest budget_tokens the API accepts
NO_RESULT = "No result was provided for this tool call."

_REQUEST_FIELDS = {
    "model", "messages", "system", "max_tokens", "tools", "tool_choice", "temperature",
    "top_p", "top_k", "stop_sequences", "stream",
}  # fmt: skip
# extras["anthropic"] keys re-emitted specially by encode_request, not copied as they are
_SPECIAL = {"thinking", "output_config", "output_format", "metadata", "server_tools"}


def _content(content: Any, where: str) -> list[ir.Part]:
    if isinstance(content, str):
        return [ir.Text(content)] if content else []
    return [decode_block(b, f"{where}[{i}]") for i, b in enumerate(require_list(content, where))]


# -- decode_request ----------------------------------------------------------------------


def decode_request(
    body: dict[str, Any], *, model: str | None = None, stream: bool | None = None
) -> ir.Request:
    """A client's ``/v1/messages`` body as an IR request."""
    body = require_dict(body)
    model = model or req_str(body.get("model"), "model")
    extras = {k: v for k, v in body.items() if k not in _REQUEST_FIELDS}

    system = body.get("system")
    if system is None or isinstance(system, str):
        system_parts = [ir.Text(system)] if system else []
    else:
        system_parts = []
        for i, block in enumerate(require_list(system, "system")):
            part = decode_block(block, f"system[{i}]")
            if not isinstance(part, ir.Text):
                raise InvalidInputError(f"'system[{i}]' must be a text block")
            system_parts.append(part)

    messages = []
    normalised = False
    for i, raw in enumerate(require_list(body.get("messages"), "messages")):
        message = require_dict(raw, f"'messages[{i}]'")
        role = message.get("role")
        if role == "system":
            # Mid-conversation system text (Claude Code's beta for models it does not know):
            # kept as system text, since few upstreams accept it between turns.
            for part in _content(message.get("content"), f"messages[{i}].content"):
                if isinstance(part, ir.Text):
                    system_parts.append(part)
            normalised = True
            continue
        if role not in ("user", "assistant"):
            raise InvalidInputError(
                f"'messages[{i}].role' must be 'user', 'assistant' or 'system', not {role!r}"
            )
        parts = _content(message.get("content"), f"messages[{i}].content")
        messages.append(ir.Message(role, parts, rest(message, {"role", "content"})))

    tools, server_tools = [], []
    for i, raw in enumerate(require_list(body.get("tools"), "tools")):
        tool = require_dict(raw, f"'tools[{i}]'")
        if "input_schema" in tool or tool.get("type") in (None, "custom"):
            schema = tool.get("input_schema", {})
            tools.append(
                ir.Tool(
                    name=req_str(tool.get("name"), f"tools[{i}].name"),
                    description=opt_str(tool.get("description"), f"tools[{i}].description"),
                    parameters=require_dict(schema, f"'tools[{i}].input_schema'"),
                    strict=opt_bool(tool.get("strict"), f"tools[{i}].strict"),
                    extras=rest(tool, {"name", "description", "input_schema", "strict"}),
                )
            )
        else:
            server_tools.append(tool)  # web_search, bash, text_editor … run by Anthropic
    if server_tools:
        extras["server_tools"] = server_tools

    metadata = body.get("metadata")
    user = metadata.get("user_id") if isinstance(metadata, dict) else None
    stop = require_list(body.get("stop_sequences"), "stop_sequences")
    if not all(isinstance(s, str) for s in stop):
        raise InvalidInputError("'stop_sequences' must be an array of strings")
    given_stream = opt_bool(body.get("stream"), "stream")
    return ir.Request(
        model=model,
        messages=messages,
        system=system_parts,
        tools=tools,
        tool_choice=_decode_tool_choice(body.get("tool_choice")),
        stream=bool(given_stream) if stream is None else stream,
        max_tokens=opt_int(body.get("max_tokens"), "max_tokens"),
        temperature=opt_float(body.get("temperature"), "temperature"),
        top_p=opt_float(body.get("top_p"), "top_p"),
        top_k=opt_int(body.get("top_k"), "top_k"),
        stop=stop,
        reasoning=_decode_reasoning(body.get("thinking"), body.get("output_config")),
        response_format=_decode_format(body.get("output_config"), body.get("output_format")),
        stream_usage=True,  # Anthropic streams always carry usage
        user=user if isinstance(user, str) else None,
        extras={A: extras} if extras else {},
        normalised=normalised,
    )


def _decode_tool_choice(value: Any) -> ir.ToolChoice | None:
    if value is None:
        return None
    choice = require_dict(value, "'tool_choice'")
    off = opt_bool(choice.get("disable_parallel_tool_use"), "tool_choice.disable_parallel_tool_use")
    parallel = None if off is None else not off
    kind = choice.get("type")
    if kind == "auto":
        return ir.ToolChoice("auto", parallel=parallel)
    if kind == "any":
        return ir.ToolChoice("required", parallel=parallel)
    if kind == "none":
        return ir.ToolChoice("none", parallel=parallel)
    if kind == "tool":
        return ir.ToolChoice("tool", req_str(choice.get("name"), "tool_choice.name"), parallel)
    raise InvalidInputError("'tool_choice.type' must be one of auto, any, tool, none")


def _decode_reasoning(thinking: Any, output_config: Any) -> ir.ReasoningConfig | None:
    effort = None
    if output_config is not None:
        config = require_dict(output_config, "'output_config'")
        effort = opt_str(config.get("effort"), "output_config.effort")
    if thinking is None:
        return ir.ReasoningConfig(effort=effort) if effort else None
    thinking = require_dict(thinking, "'thinking'")
    kind = req_str(thinking.get("type"), "thinking.type")
    if kind == "enabled":
        budget = opt_int(thinking.get("budget_tokens"), "thinking.budget_tokens")
        return ir.ReasoningConfig(effort=effort, budget=budget, enabled=True)
    if kind == "adaptive":
        return ir.ReasoningConfig(effort=effort, enabled=True, adaptive=True)
    if kind == "disabled":
        return ir.ReasoningConfig(effort=effort, enabled=False)
    return ir.ReasoningConfig(effort=effort, enabled=True)  # newer kinds: kept in extras


def _decode_format(output_config: Any, output_format: Any) -> ir.ResponseFormat | None:
    given = output_config.get("format") if isinstance(output_config, dict) else None
    given = given if given is not None else output_format
    if given is None:
        return None
    fmt = require_dict(given, "'output_config.format'")
    if fmt.get("type") != "json_schema":
        raise InvalidInputError("'output_config.format.type' must be 'json_schema'")
    schema = require_dict(fmt.get("schema"), "'output_config.format.schema'")
    return ir.ResponseFormat("json_schema", schema=schema)


# -- encode_request ----------------------------------------------------------------------


def encode_request(request: ir.Request) -> dict[str, Any]:
    """The ``/v1/messages`` body to send an Anthropic upstream for ``request``."""
    own = mine(request.extras)
    body: dict[str, Any] = {"model": request.model}
    system = [b for t in request.system if (b := encode_block(t, "user")) is not None]
    instruction = _format_instruction(request.response_format, own)
    if instruction:
        system.append({"type": "text", "text": instruction})
    if system:
        body["system"] = system
    body["messages"] = _messages(request.messages)

    tools = [_tool(t) for t in request.tools if t.name]
    tools += [t for t in own.get("server_tools") or [] if isinstance(t, dict)]
    if tools:
        body["tools"] = tools
    choice = request.tool_choice
    forced = bool(tools) and choice is not None and choice.mode in ("required", "tool")
    if tools and choice is not None:
        body["tool_choice"] = _tool_choice(choice)

    thinking, output_config = _reasoning(request.reasoning, own)
    thinking_on = thinking is not None and thinking["type"] != "disabled"
    if thinking_on and (forced or _unsigned_tool_turn(body["messages"])):
        thinking, thinking_on = None, False  # refused with a forced tool, or by a tool turn

    max_tokens = request.max_tokens
    if thinking is not None and thinking["type"] == "enabled":
        cap = 32000 if _SMALLER_OUTPUT.search(request.model) else MAX_OUTPUT
        max_tokens, thinking["budget_tokens"] = _fit(max_tokens, thinking["budget_tokens"], cap)
    if max_tokens is None:
        max_tokens = ADAPTIVE_MAX_TOKENS if thinking_on else DEFAULT_MAX_TOKENS
    body["max_tokens"] = max_tokens
    if thinking is not None:
        body["thinking"] = thinking

    fmt = request.response_format
    if fmt is not None and fmt.type == "json_schema" and not instruction:
        native = {"type": "json_schema", "schema": fmt.schema or {}}
        if "output_format" in own:
            body["output_format"] = native
        else:
            output_config["format"] = native
    if output_config:
        body["output_config"] = output_config

    if request.temperature is not None and not thinking_on:
        body["temperature"] = request.temperature
    if request.top_p is not None and (not thinking_on or request.top_p >= 0.95):
        body["top_p"] = request.top_p
    if request.top_k is not None and not thinking_on:
        body["top_k"] = request.top_k
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    if request.stream:
        body["stream"] = True
    metadata = own.get("metadata")
    if metadata is None and request.user:
        metadata = {"user_id": request.user}
    if metadata is not None:
        body["metadata"] = metadata
    for key, value in own.items():
        if key not in _SPECIAL and key not in body:
            body[key] = value
    return body


def _fit(max_tokens: int | None, budget: int, cap: int) -> tuple[int, int]:
    """``(max_tokens, budget_tokens)`` the API accepts: budget ≥ 1024 and < max_tokens."""
    budget = max(MIN_BUDGET, budget)
    if max_tokens is None:
        max_tokens = min(budget + DEFAULT_MAX_TOKENS, cap)
    if budget >= max_tokens:  # max_tokens counts thinking too: think within it
        budget = max(MIN_BUDGET, max_tokens // 2)
        if budget >= max_tokens:
            max_tokens += budget
    return max_tokens, budget


def _reasoning(
    config: ir.ReasoningConfig | None, own: dict[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """``thinking`` (or None) and ``output_config`` for the upstream."""
    given_config = own.get("output_config")
    output_config = dict(given_config) if isinstance(given_config, dict) else {}
    native_effort = output_config.pop("effort", None) is not None
    output_config.pop("format", None)
    if config is None:
        return None, output_config
    given = own.get("thinking")
    given = given if isinstance(given, dict) else {}
    effort = config.effort
    thinking: dict[str, Any] | None = None
    if config.enabled is False or effort == "none" or (config.budget == 0 and not config.adaptive):
        thinking = {"type": "disabled"}
    elif config.adaptive:
        thinking = {"type": "adaptive"}
    elif config.budget is None and effort is None and given.get("type") not in (None, "enabled"):
        thinking = dict(given)  # a kind this module does not know, passed through
    elif config.budget is not None or config.enabled or (effort and not native_effort):
        budget = config.budget if config.budget is not None else EFFORT_BUDGET.get(effort or "", 0)
        medium = EFFORT_BUDGET["medium"]  # also for Gemini's -1 (dynamic)
        thinking = {"type": "enabled", "budget_tokens": budget if budget > 0 else medium}
    if thinking is not None and given.get("type") == thinking["type"]:
        thinking = {**given, **thinking}  # keep fields such as "display"
    if effort and effort != "none" and (config.adaptive or native_effort):
        output_config["effort"] = "low" if effort == "minimal" else effort
    return thinking, output_config


def _format_instruction(fmt: ir.ResponseFormat | None, own: dict[str, Any]) -> str | None:
    if fmt is None or fmt.type == "text":
        return None
    config = own.get("output_config")
    native = "output_format" in own or (isinstance(config, dict) and "format" in config)
    if fmt.type == "json_schema" and native:
        return None
    text = "Respond with a single valid JSON object only, with no other text before or after it."
    if fmt.type == "json_schema" and fmt.schema:
        schema = orjson.dumps(fmt.schema).decode()
        text += f" The JSON must conform to this JSON schema:\n{schema}"
    return text


def _tool(tool: ir.Tool) -> dict[str, Any]:
    schema = dict(tool.parameters) or {"type": "object"}
    if schema.get("type") == "object" and "properties" not in schema:
        schema["properties"] = {}
    out: dict[str, Any] = {"name": tool.name}
    if tool.description is not None:
        out["description"] = tool.description
    out["input_schema"] = schema
    if tool.strict is not None:
        out["strict"] = tool.strict
    return {**mine(tool.extras), **out}


def _tool_choice(choice: ir.ToolChoice) -> dict[str, Any]:
    kinds = {"auto": "auto", "required": "any", "tool": "tool", "none": "none"}
    out: dict[str, Any] = {"type": kinds[choice.mode]}
    if choice.mode == "tool":
        out["name"] = choice.name or ""
    if choice.parallel is not None and choice.mode != "none":
        out["disable_parallel_tool_use"] = not choice.parallel
    return out


def _unsigned_tool_turn(messages: list[dict[str, Any]]) -> bool:
    """Whether the last assistant turn calls tools without starting with its thinking."""
    turns = (m["content"] for m in reversed(messages) if m["role"] == "assistant")
    last: list[dict[str, Any]] = next(turns, [])
    if not any(b.get("type") == "tool_use" for b in last):
        return False
    return last[0].get("type") not in ("thinking", "redacted_thinking")


def _missing(call_id: str) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": call_id, "content": NO_RESULT, "is_error": True}


def _messages(messages: list[ir.Message]) -> list[dict[str, Any]]:
    """Alternating turns, every tool_use answered in the very next user turn."""
    merged: list[tuple[str, list[dict[str, Any]], dict[str, Any]]] = []
    for message in messages:
        blocks = [b for p in message.parts if (b := encode_block(p, message.role)) is not None]
        if not blocks:
            continue
        if merged and merged[-1][0] == message.role:
            merged[-1][1].extend(blocks)
            merged[-1][2].update(mine(message.extras))
        else:
            merged.append((message.role, blocks, dict(mine(message.extras))))

    out: list[dict[str, Any]] = []

    def append(role: str, blocks: list[dict[str, Any]], extras: dict[str, Any]) -> None:
        if not blocks:
            return
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({**extras, "role": role, "content": blocks})

    pending: list[str] = []  # tool_use ids of the last assistant turn
    for role, blocks, extras in merged:
        if role == "assistant":
            append(role, blocks, extras)
            pending += [b["id"] for b in blocks if b.get("type") == "tool_use"]
            continue
        answers: dict[str, dict[str, Any]] = {}
        others = []
        for block in blocks:
            if block.get("type") != "tool_result":
                others.append(block)
            elif block.get("tool_use_id") in pending:  # others are orphans: dropped
                answers.setdefault(block["tool_use_id"], block)
        results = [answers.get(i) or _missing(i) for i in dict.fromkeys(pending)]
        pending = []
        append(role, results + others, extras)
    if pending:
        append("user", [_missing(i) for i in dict.fromkeys(pending)], {})
    if not out:
        out.append({"role": "user", "content": [{"type": "text", "text": "Continue."}]})
    last = out[-1]["content"][-1]
    if out[-1]["role"] == "assistant" and last.get("type") == "text":
        last["text"] = last["text"].rstrip()  # the API refuses trailing space in a prefill
    return out


# -- complete answers --------------------------------------------------------------------


def decode_response(body: dict[str, Any]) -> ir.Response:
    """An upstream's complete ``message`` as an IR response."""
    body = require_dict(body, "the response body")
    content = require_list(body.get("content"), "content")
    extras = {k: v for k, v in body.items() if k not in _MESSAGE_FIELDS}
    reason, usage = body.get("stop_reason"), body.get("usage")
    if isinstance(reason, str) and reason not in STOP_TO.values():
        extras["stop_reason"] = reason  # pause_turn … have no IR stop of their own
    if isinstance(usage, dict) and (more := rest(usage, _USAGE_FIELDS)):
        extras["usage"] = more[A]
    return ir.Response(
        id=as_str(body.get("id")) or new_id("msg_"),
        model=as_str(body.get("model")) or "",
        parts=[decode_block(b, f"content[{i}]") for i, b in enumerate(content)],
        stop=stop_from(reason),
        stop_sequence=opt_str(body.get("stop_sequence"), "stop_sequence"),
        usage=usage_from(usage) or ir.Usage(),
        extras={A: extras} if extras else {},
    )


def encode_response(response: ir.Response) -> dict[str, Any]:
    """A complete ``message`` for an Anthropic client."""
    extras = mine(response.extras)
    parts = [  # thinking text that came with opaque data (Responses summary + encrypted
        # content): the text as a thinking block, then the data, as the stream encoder does
        q
        for p in signatures.carry_call_signatures(response.parts)
        for q in (
            (ir.Reasoning(p.text, p.signature), ir.Reasoning(redacted=p.redacted, extras=p.extras))
            if isinstance(p, ir.Reasoning) and p.text and p.redacted is not None
            else (p,)
        )
    ]
    blocks = (encode_block(p, "assistant", upstream=False) for p in parts)
    content = [b for b in blocks if b is not None]
    reason = stop_to(response.stop, any(b.get("type") == "tool_use" for b in content))
    given = extras.get("stop_reason")
    if isinstance(given, str) and stop_from(given) is response.stop:
        reason = given
    more = extras.get("usage")
    body: dict[str, Any] = {
        "id": response.id,
        "type": "message",
        "role": "assistant",
        "model": response.model,
        "content": content,
        "stop_reason": reason,
        "stop_sequence": response.stop_sequence,
        "usage": {**(more if isinstance(more, dict) else {}), **usage_to(response.usage)},
    }
    return {**{k: v for k, v in extras.items() if k not in ("stop_reason", "usage")}, **body}


# -- helpers for the other Anthropic endpoints -------------------------------------------


def count_tokens_estimate(request: ir.Request) -> int:
    """An offline, deterministic estimate for ``/v1/messages/count_tokens`` (~4 chars/token)."""
    return estimate_tokens(request, image_tokens=1600, turn_chars=12)


def models_list(model_ids: list[str]) -> dict[str, Any]:
    """The ``GET /v1/models`` answer Anthropic clients expect for ``model_ids``."""
    data = [
        {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
        for m in model_ids
    ]
    return {
        "data": data,
        "has_more": False,
        "first_id": model_ids[0] if model_ids else None,
        "last_id": model_ids[-1] if model_ids else None,
    }
