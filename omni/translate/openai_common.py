"""Pieces of OpenAI Chat Completions shared by its request/response and stream modules.

Usage objects and finish reasons both ways, ``<think>`` splitting, and the request
settings that map one to one onto the IR (tools, tool choice, stop, reasoning effort,
response format). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from omni.errors import InvalidInputError
from omni.ir import Dialect, ReasoningConfig, ResponseFormat, Stop, Tool, ToolChoice, Usage
from omni.translate._common import budget_effort, opt_str, require_dict, require_list

D = Dialect.OPENAI_CHAT.value

USAGE_MARK = b'"usage"'
# A usage object, not the ``"usage": null`` OpenAI puts in every chunk of a stream that
# asked for usage: only events that match are parsed.
USAGE_OBJECT = re.compile(rb'"usage"\s*:\s*\{')

FINISH_TO_STOP = {
    "stop": Stop.END,
    "length": Stop.MAX_TOKENS,
    "tool_calls": Stop.TOOL_USE,
    "function_call": Stop.TOOL_USE,
    "content_filter": Stop.CONTENT_FILTER,
}
STOP_TO_FINISH = {
    Stop.END: "stop",
    Stop.STOP_SEQUENCE: "stop",
    Stop.MAX_TOKENS: "length",
    Stop.TOOL_USE: "tool_calls",
    Stop.CONTENT_FILTER: "content_filter",
    Stop.REFUSAL: "content_filter",
    Stop.ERROR: "stop",
}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_from(obj: Any) -> Usage | None:
    """The usage of a ``chat.completion`` or ``chat.completion.chunk`` object, if it has one."""
    if not isinstance(obj, dict):
        return None
    usage = obj.get("usage")
    if not isinstance(usage, dict):
        return None
    prompt_details = usage.get("prompt_tokens_details")
    completion_details = usage.get("completion_tokens_details")
    cached = prompt_details.get("cached_tokens") if isinstance(prompt_details, dict) else None
    return Usage(
        input=_int(usage.get("prompt_tokens")),
        output=_int(usage.get("completion_tokens")),
        cache_read=_int(cached if cached is not None else usage.get("prompt_cache_hit_tokens")),
        cache_write=_int(usage.get("cache_creation_input_tokens")),
        reasoning=_int(completion_details.get("reasoning_tokens"))
        if isinstance(completion_details, dict)
        else None,
    )


def usage_from_body(body: bytes) -> Usage | None:
    """Usage from a non-streamed response body (``None`` if it is not JSON or has none)."""
    if USAGE_MARK not in body:
        return None
    try:
        return usage_from(orjson.loads(body))
    except orjson.JSONDecodeError:
        return None


def usage_payload(usage: Usage) -> dict[str, Any]:
    """The OpenAI ``usage`` object for IR usage."""
    prompt, completion = usage.input or 0, usage.output or 0
    payload: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read or 0},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning or 0},
    }
    if usage.cache_write:
        payload["cache_creation_input_tokens"] = usage.cache_write
    return payload


# -- request settings -----------------------------------------------------------------


def split_think(text: str) -> tuple[str | None, str]:
    """``<think>…</think>rest`` → (thinking, rest); (None, text) when there is no such tag."""
    stripped = text.lstrip()
    if not stripped.startswith("<think>"):
        return None, text
    end = stripped.find("</think>")
    if end < 0:  # cut short (max tokens): all of it was thinking
        return stripped[7:].strip("\n"), ""
    return stripped[7:end].strip("\n"), stripped[end + 8 :].lstrip("\n")


def decode_tool_choice(raw: Any, parallel: Any) -> tuple[ToolChoice | None, Any]:
    """``tool_choice`` (and ``parallel_tool_calls``) as IR, plus a shape the IR cannot hold
    (``allowed_tools``, ``custom``), which the caller keeps in extras."""
    par = parallel if isinstance(parallel, bool) else None
    if raw is None:
        return (ToolChoice(parallel=par) if par is not None else None), None
    if raw in ("auto", "none", "required"):
        return ToolChoice(mode=raw, parallel=par), None
    if not isinstance(raw, dict) or not isinstance(raw.get("type", "function"), str):
        raise InvalidInputError("'tool_choice' must be auto, none, required or an object")
    if raw.get("type", "function") != "function":
        return (ToolChoice(parallel=par) if par is not None else None), raw
    fn = raw.get("function")
    name = fn.get("name") if isinstance(fn, dict) else raw.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInputError("'tool_choice.function.name' must be a non-empty string")
    return ToolChoice(mode="tool", name=name, parallel=par), None


def decode_function_call(raw: Any) -> ToolChoice | None:
    """The legacy ``function_call`` setting: ``auto``, ``none`` or ``{"name": …}``."""
    if raw is None or raw in ("auto", "none"):
        return ToolChoice(mode=raw) if raw else None
    name = raw.get("name") if isinstance(raw, dict) else None
    if not isinstance(name, str) or not name:
        raise InvalidInputError("'function_call' must be auto, none or {\"name\": …}")
    return ToolChoice(mode="tool", name=name)


def decode_stop(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and all(isinstance(s, str) for s in raw):
        return list(raw)
    raise InvalidInputError("'stop' must be a string or an array of strings")


def decode_effort(raw: Any) -> ReasoningConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidInputError("'reasoning_effort' must be a string")
    if raw == "none":
        return ReasoningConfig(effort=raw, enabled=False)
    return ReasoningConfig(effort=raw)


def encode_effort(config: ReasoningConfig | None) -> str | None:
    if config is None:
        return None
    if config.enabled is False:
        return "none" if config.effort == "none" else None
    if config.effort:
        return config.effort
    if config.budget is not None:
        return budget_effort(config.budget)
    return "medium" if config.enabled or config.adaptive else None


def decode_format(raw: Any) -> ResponseFormat | None:
    if raw is None:
        return None
    raw = require_dict(raw, "'response_format'")
    kind = raw.get("type")
    if kind == "json_schema":
        spec = require_dict(raw.get("json_schema") or {}, "'response_format.json_schema'")
        schema = spec.get("schema")
        if schema is not None and not isinstance(schema, dict):
            raise InvalidInputError("'response_format.json_schema.schema' must be an object")
        return ResponseFormat(
            type="json_schema",
            schema=schema,
            name=opt_str(spec.get("name"), "response_format.json_schema.name"),
            strict=spec.get("strict") if isinstance(spec.get("strict"), bool) else None,
        )
    if kind in ("text", "json_object"):
        return ResponseFormat(type=kind)
    raise InvalidInputError("'response_format.type' must be text, json_object or json_schema")


def encode_format(fmt: ResponseFormat) -> dict[str, Any]:
    if fmt.type != "json_schema":
        return {"type": fmt.type}
    spec: dict[str, Any] = {"name": fmt.name or "response", "schema": fmt.schema or {}}
    if fmt.strict is not None:
        spec["strict"] = fmt.strict
    return {"type": "json_schema", "json_schema": spec}


def decode_tools(raw: Any, where: str) -> list[Tool]:
    """``tools`` (or the deprecated ``functions``); non-function tools kept whole in extras."""
    tools = []
    for i, entry in enumerate(require_list(raw, where)):
        item = require_dict(entry, f"'{where}[{i}]'")
        if where == "functions":  # the deprecated list of bare function objects
            item, at = {"type": "function", "function": item}, f"{where}[{i}]"
        else:
            at = f"{where}[{i}].function"
        if item.get("type", "function") != "function":
            tools.append(Tool(name="", extras={D: item}))  # custom, web_search, …
            continue
        fn = require_dict(item.get("function"), f"'{at}'")
        name = fn.get("name")
        if not isinstance(name, str) or not name:
            raise InvalidInputError(f"'{at}.name' must be a non-empty string")
        params = fn.get("parameters")
        if params is not None and not isinstance(params, dict):
            raise InvalidInputError(f"'{at}.parameters' must be a JSON schema object")
        tools.append(
            Tool(
                name=name,
                description=opt_str(fn.get("description"), f"{at}.description"),
                parameters=params or {},
                strict=fn.get("strict") if isinstance(fn.get("strict"), bool) else None,
            )
        )
    return tools


def encode_tool(tool: Tool) -> dict[str, Any]:
    if not tool.name:
        return dict(tool.extras[D])
    fn: dict[str, Any] = {"name": tool.name, "parameters": tool.parameters or {"type": "object"}}
    if tool.description is not None:
        fn["description"] = tool.description
    if tool.strict is not None:
        fn["strict"] = tool.strict
    return {"type": "function", "function": fn}
