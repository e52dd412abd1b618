"""OpenAI Responses API (``/v1/responses``) ↔ IR: requests and complete responses.

What Codex, opencode and the openai SDKs send (``input`` items, ``instructions``, function
tools, ``reasoning``, ``text.format``, ``store:false`` with the full history each turn) is
read into an :class:`~omni.ir.Request` and written for a Responses upstream; response
objects go both ways. Streams live in :mod:`omni.translate.responses_stream`.

``extras["responses"]`` keeps what the IR has no home for: the other top-level fields
(``store``, ``include``, ``prompt_cache_key`` …) by name, the ids and statuses of reasoning
and function-call items on their parts, and under ``_raw`` the client's own
``instructions``/``input``, ``tools``, ``tool_choice``, ``reasoning`` and ``text`` (a
response's ``output``). Encoding reuses each raw group when decoding it again gives the IR
as it is now — nothing changed it — so Responses → Responses loses nothing (hosted tools,
unknown items, developer messages in place); otherwise that group is written from the IR.
A thinking signature from another dialect rides in ``encrypted_content`` as
``omni-sig:<signature>`` and is never sent to a Responses upstream. Pure code, no I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from omni import ir
from omni.errors import InvalidInputError
from omni.translate import _common as c
from omni.translate import responses_stream as wire
from omni.translate import signatures
from omni.translate.responses_stream import STREAM_CONTENT_TYPE, StreamDecoder, StreamEncoder

__all__ = [
    "STREAM_CONTENT_TYPE",
    "StreamDecoder",
    "StreamEncoder",
    "decode_request",
    "decode_response",
    "encode_request",
    "encode_response",
]

Obj = dict[str, Any]
D, SIG, REDACTED = wire.D, wire.SIG_PREFIX, wire.REDACTED_PREFIX
_INPUT, _CHOICE = ("instructions", "input"), ("tool_choice", "parallel_tool_calls")
_SETTINGS = (*_INPUT, "tools", *_CHOICE, "reasoning", "text")  # the raw groups
_FIELDS = {"model", "max_output_tokens", "temperature", "top_p", "stream", "user", *_SETTINGS}


def _rest(obj: Obj, *known: str) -> Obj:
    return {k: v for k, v in obj.items() if k not in known}


def _ex(extras: ir.Extras) -> Obj:
    return extras.get(D, {})


def _req_str(obj: Obj, key: str, where: str) -> str:
    if not isinstance(value := obj.get(key), str):
        raise InvalidInputError(f"'{where}.{key}' is required and must be a string")
    return value


def _items(value: Any, where: str) -> list[tuple[str, Obj]]:
    """The objects of an array, each with its place for error messages."""
    values = enumerate(c.require_list(value, where))
    return [(f"{where}[{i}]", c.require_dict(v, f"'{where}[{i}]'")) for i, v in values]


# -- parts and items --------------------------------------------------------------------


def _content_in(content: Any, where: str) -> list[ir.Text | ir.Image]:
    """Text and image parts (other kinds have no IR home: they stay in the raw input)."""
    if isinstance(content, str):
        return [ir.Text(content)]
    parts: list[ir.Text | ir.Image] = []
    for at, part in _items(content, where):
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text"):
            parts.append(ir.Text(_req_str(part, "text", at)))
        elif kind == "refusal":
            parts.append(ir.Text(_req_str(part, "refusal", at)))
        elif kind == "input_image":
            url = c.opt_str(part.get("image_url"), f"{at}.image_url")
            if url is None and "file_id" not in part:
                raise InvalidInputError(f"'{at}' needs an image_url or a file_id")
            image = ir.Image(detail=c.opt_str(part.get("detail"), f"{at}.detail"))
            if rest := _rest(part, "type", "image_url", "detail"):
                image.extras[D] = rest  # file_id …
            if url is not None and url.startswith("data:") and ";base64," in url:
                header, _, image.data = url[5:].partition(",")
                image.media_type = header.split(";")[0]
            else:
                image.url = url
            parts.append(image)
    return parts


def _part_out(part: ir.Text | ir.Image, role: str, output: bool) -> Obj:
    if isinstance(part, ir.Text):
        if role == "user":
            return {"type": "input_text", "text": part.text}
        lists: Obj = {"annotations": [], "logprobs": []} if output else {}
        return {"type": "output_text", "text": part.text, **lists}
    out: Obj = {"type": "input_image"}
    if part.data is not None:
        out["image_url"] = f"data:{part.media_type or 'image/png'};base64,{part.data}"
    elif part.url is not None:
        out["image_url"] = part.url
    if part.detail is not None:
        out["detail"] = part.detail
    return {**out, **_ex(part.extras)}


def _call_in(item: Obj, where: str) -> ir.ToolCall:
    arguments = item.get("arguments")
    if arguments is not None and not isinstance(arguments, str | dict):
        raise InvalidInputError(f"'{where}.arguments' must be a JSON string")
    return ir.ToolCall(
        id=_req_str(item, "call_id", where),
        name=_req_str(item, "name", where),
        arguments=c.json_text(arguments),
        extras={D: _rest(item, "type", "call_id", "name", "arguments")},
    )


def _reasoning_in(item: Obj, where: str) -> ir.Reasoning:
    """Summary text (or reasoning_text content), encrypted content, and the item's own
    fields in extras — which also mark it as a Responses item, the only kind sent back."""
    text, from_content = wire.reasoning_text(item)
    encrypted = c.opt_str(item.get("encrypted_content"), f"{where}.encrypted_content")
    rest = _rest(item, "type", "encrypted_content")
    if from_content:
        rest.setdefault("summary", [])
    elif rest.get("summary") == wire.summary_of(text):
        del rest["summary"]
    signature, redacted, native = (
        (None, None, True) if encrypted is None else wire.unseal(encrypted)
    )
    return ir.Reasoning(text, signature, redacted, extras={D: rest} if native else {})


def _parts_out(role: str, parts: list[ir.Part], output: bool) -> list[Obj]:
    """Output items (``output``: with ids and statuses) or input items for IR parts."""
    out: list[Obj] = []
    message: Obj | None = None
    for part in parts:
        if isinstance(part, ir.Text | ir.Image):
            if isinstance(part, ir.Image) and role == "assistant":
                continue
            if message is None:
                message = {"type": "message", "role": role, "content": []}
                if output:
                    message = {"id": c.new_id("msg_"), **message, "status": "completed"}
                out.append(message)
            message["content"].append(_part_out(part, role, output))
            continue
        message = None
        if isinstance(part, ir.ToolCall):
            call: Obj = {"id": f"fc_{part.id}", "status": "completed"} if output else {}
            call.update(type="function_call", call_id=part.id, name=part.name)
            out.append({**call, "arguments": part.arguments, **_ex(part.extras)})
        elif isinstance(part, ir.ToolResult):
            item: Obj = {"type": "function_call_output", "call_id": part.call_id}
            if any(isinstance(p, ir.Image) for p in part.content):
                item["output"] = [_part_out(p, "user", False) for p in part.content]
            else:
                item["output"] = part.text
            out.append(item)
        elif isinstance(part, ir.Reasoning) and (output or D in part.extras):
            rest = dict(_ex(part.extras))  # only reasoning of this dialect goes upstream
            item = {"id": c.new_id("rs_")} if output else {}
            item.update(type="reasoning", summary=rest.pop("summary", wire.summary_of(part.text)))
            if part.redacted is not None:
                native = D in part.extras
                item["encrypted_content"] = ("" if native else REDACTED) + part.redacted
            elif part.signature is not None:
                item["encrypted_content"] = SIG + part.signature
            out.append({**item, **rest})
    return out


# -- requests ---------------------------------------------------------------------------


def decode_request(
    body: Any, *, model: str | None = None, stream: bool | None = None
) -> ir.Request:
    """A client's ``/v1/responses`` body as an IR request."""
    body = c.require_dict(body)
    name = model if model is not None else body.get("model")
    if not isinstance(name, str) or not name:
        raise InvalidInputError("'model' is required and must be a string")
    streaming = stream if stream is not None else body.get("stream")
    if streaming is not None and not isinstance(streaming, bool):
        raise InvalidInputError("'stream' must be a boolean")
    system, messages = _decode_input(body.get("instructions"), body.get("input"))
    request = ir.Request(
        model=name,
        messages=messages,
        system=system,
        tools=_decode_tools(body.get("tools")),
        tool_choice=_decode_choice(body.get("tool_choice"), body.get("parallel_tool_calls")),
        stream=bool(streaming),
        max_tokens=c.opt_int(body.get("max_output_tokens"), "max_output_tokens"),
        temperature=c.opt_float(body.get("temperature"), "temperature"),
        top_p=c.opt_float(body.get("top_p"), "top_p"),
        reasoning=_decode_reasoning(body.get("reasoning")),
        response_format=_decode_text(body.get("text")),
        user=c.opt_str(body.get("user"), "user"),
    )
    extras = _rest(body, *_FIELDS)
    if raw := {key: body[key] for key in _SETTINGS if key in body}:
        extras["_raw"] = raw
    if extras:
        request.extras[D] = extras
    return request


def _decode_input(instructions: Any, value: Any) -> tuple[list[ir.Text], list[ir.Message]]:
    """System texts and messages. Consecutive assistant-side items (reasoning, text, calls)
    share one message, consecutive call outputs another; system and developer messages
    join the instructions; items of other kinds (item_reference, hosted tool calls …) have
    no IR home and stay in the raw input."""
    text = c.opt_str(instructions, "instructions")
    system = [] if text is None else [ir.Text(text)]
    if isinstance(value, str):
        return system, [ir.Message("user", [ir.Text(value)])]
    messages: list[ir.Message] = []
    names: dict[str, str] = {}

    def turn(role: str, alone: bool = False) -> list[ir.Part]:
        last = messages[-1].parts if messages and messages[-1].role == role else None
        results = bool(last) and all(isinstance(p, ir.ToolResult) for p in last or ())
        if alone or last is None or (role == "user" and not results):
            messages.append(ir.Message("user" if role == "user" else "assistant"))
        return messages[-1].parts

    for where, item in _items(value, "input"):
        kind, role = item.get("type", "message" if "role" in item else None), item.get("role")
        if kind == "message" and role in ("system", "developer", "user", "assistant"):
            parts = _content_in(item.get("content"), f"{where}.content")
            texts = [p for p in parts if isinstance(p, ir.Text)]
            if role in ("system", "developer"):
                system.extend(texts)
            elif role == "user" and parts:
                turn("user", alone=True).extend(parts)
            elif role == "assistant" and texts:
                turn("assistant").extend(texts)
        elif kind == "message":
            raise InvalidInputError(f"'{where}.role' must be user, assistant, system or developer")
        elif kind == "function_call":
            call = _call_in(item, where)
            names[call.id] = call.name
            turn("assistant").append(call)
        elif kind == "function_call_output":
            call_id, output = _req_str(item, "call_id", where), item.get("output")
            if not isinstance(output, str | list):
                raise InvalidInputError(f"'{where}.output' must be a string or an array")
            content = _content_in(output, f"{where}.output")
            turn("user").append(ir.ToolResult(call_id, content, name=names.get(call_id)))
        elif kind == "reasoning":
            turn("assistant").append(_reasoning_in(item, where))
        elif not isinstance(kind, str):
            raise InvalidInputError(f"'{where}' needs a 'type' (or a 'role' for a message)")
    return system, messages


def _decode_tools(value: Any) -> list[ir.Tool]:
    """Function tools; hosted ones (web_search, local_shell, custom, mcp …) stay raw."""
    tools: list[ir.Tool] = []
    for where, tool in _items(value, "tools"):
        if tool.get("type") != "function":
            continue
        spec = tool["function"] if isinstance(tool.get("function"), dict) else tool
        params, strict = spec.get("parameters"), spec.get("strict")
        if params is not None and not isinstance(params, dict):
            raise InvalidInputError(f"'{where}.parameters' must be an object")
        if strict is not None and not isinstance(strict, bool):
            raise InvalidInputError(f"'{where}.strict' must be a boolean")
        description = c.opt_str(spec.get("description"), f"{where}.description")
        tools.append(ir.Tool(_req_str(spec, "name", where), description, params or {}, strict))
    return tools


def _decode_choice(value: Any, parallel: Any) -> ir.ToolChoice | None:
    if parallel is not None and not isinstance(parallel, bool):
        raise InvalidInputError("'parallel_tool_calls' must be a boolean")
    choice: ir.ToolChoice | None = None
    if value in ("auto", "none", "required"):
        choice = ir.ToolChoice(mode=value)
    elif isinstance(value, dict) and value.get("type") == "function":
        choice = ir.ToolChoice(mode="tool", name=_req_str(value, "name", "tool_choice"))
    elif isinstance(value, dict):  # allowed_tools, a hosted tool, custom, mcp
        choice = ir.ToolChoice(mode="required" if value.get("mode") == "required" else "auto")
    elif value is not None:
        raise InvalidInputError("'tool_choice' must be auto, none, required or an object")
    if parallel is not None:
        choice = choice or ir.ToolChoice()
        choice.parallel = parallel
    return choice


def _decode_reasoning(value: Any) -> ir.ReasoningConfig | None:
    if value is None:
        return None
    value = c.require_dict(value, "'reasoning'")
    effort = c.opt_str(value.get("effort"), "reasoning.effort")
    summary = value.get("summary") or value.get("generate_summary")
    thoughts = True if isinstance(summary, str) and summary != "none" else None
    enabled = False if effort == "none" else None
    return ir.ReasoningConfig(effort, enabled=enabled, include_thoughts=thoughts)


def _decode_text(value: Any) -> ir.ResponseFormat | None:
    if value is None or (fmt := c.require_dict(value, "'text'").get("format")) is None:
        return None
    kind = c.require_dict(fmt, "'text.format'").get("type")
    schema, strict = fmt.get("schema"), fmt.get("strict")
    if kind not in ("text", "json_object", "json_schema"):
        raise InvalidInputError("'text.format.type' must be text, json_object or json_schema")
    if not isinstance(schema, dict) and (schema is not None or kind == "json_schema"):
        raise InvalidInputError("'text.format.schema' must be an object (json_schema needs one)")
    if strict is not None and not isinstance(strict, bool):
        raise InvalidInputError("'text.format.strict' must be a boolean")
    return ir.ResponseFormat(kind, schema, c.opt_str(fmt.get("name"), "text.format.name"), strict)


def encode_request(request: ir.Request) -> dict[str, Any]:
    """An IR request as a ``/v1/responses`` body for an upstream."""
    ex = _ex(request.extras)
    raw: Obj = ex.get("_raw", {})
    body: Obj = {"model": request.model}

    def group(keys: tuple[str, ...], decode: Callable[..., Any], now: Any) -> bool:
        """Whether the raw group still says what the IR says; then it is written as is."""
        if decode(*(raw.get(key) for key in keys)) != now:
            return False
        body.update({key: raw[key] for key in keys if key in raw})
        return True

    if not group(_INPUT, _decode_input, (request.system, request.messages)):
        if request.system:
            body["instructions"] = request.system_text
        messages = request.messages
        body["input"] = [i for m in messages for i in _parts_out(m.role, m.parts, output=False)]
    if not group(("tools",), _decode_tools, request.tools):
        hosted = [t for _, t in _items(raw.get("tools"), "tools") if t.get("type") != "function"]
        if tools := [_tool_out(tool) for tool in request.tools] + hosted:
            body["tools"] = tools
    choice = request.tool_choice
    if not group(_CHOICE, _decode_choice, choice) and choice is not None:
        if choice.mode == "tool" and choice.name is not None:
            body["tool_choice"] = {"type": "function", "name": choice.name}
        else:
            body["tool_choice"] = "required" if choice.mode == "tool" else choice.mode
        if choice.parallel is not None:
            body["parallel_tool_calls"] = choice.parallel
    if not group(("reasoning",), _decode_reasoning, request.reasoning):
        body["reasoning"] = _reasoning_out(request.reasoning)
    if not group(("text",), _decode_text, request.response_format):
        body["text"] = _text_out(request.response_format, raw.get("text"))
    body.update(max_output_tokens=request.max_tokens, temperature=request.temperature)
    body.update(top_p=request.top_p, user=request.user, stream=request.stream)
    body.update(_rest(ex, "_raw"))
    return {k: v for k, v in body.items() if v is not None or k in raw or k in ex}


def _tool_out(tool: ir.Tool) -> Obj:
    out: Obj = {"type": "function", "name": tool.name}
    if tool.description is not None:
        out["description"] = tool.description
    parameters = tool.parameters or {"type": "object", "properties": {}}
    return {**out, "parameters": parameters, "strict": bool(tool.strict)}  # OpenAI: true if unsaid


def _reasoning_out(config: ir.ReasoningConfig | None) -> Obj | None:
    if config is None:
        return None
    out: Obj = {}
    effort = config.effort
    if effort is None and config.budget is not None and config.enabled is not False:
        effort = c.budget_effort(config.budget)
    if effort is not None:
        out["effort"] = "xhigh" if effort == "max" else effort
    if config.include_thoughts:
        out["summary"] = "auto"
    return out or None


def _text_out(fmt: ir.ResponseFormat | None, raw: Any) -> Obj | None:
    rest = _rest(raw, "format") if isinstance(raw, dict) else {}  # verbosity …
    if fmt is None:
        return rest or None
    wire_format: Obj = {"type": fmt.type}
    if fmt.type == "json_schema":
        wire_format.update(name=fmt.name or "response", schema=fmt.schema or {})
        if fmt.strict is not None:
            wire_format["strict"] = fmt.strict
    return {**rest, "format": wire_format}


# -- complete responses -----------------------------------------------------------------


def _decode_output(value: Any) -> list[ir.Part]:
    parts: list[ir.Part] = []
    for where, item in _items(value, "output"):
        kind = item.get("type")
        if kind == "message":
            texts = _content_in(item.get("content"), f"{where}.content")
            parts.extend(p for p in texts if isinstance(p, ir.Text))
        elif kind == "function_call":
            parts.append(_call_in(item, where))
        elif kind == "reasoning":
            parts.append(_reasoning_in(item, where))
    return parts


def decode_response(body: Any) -> ir.Response:
    """An upstream's response object as an IR response."""
    body = c.require_dict(body, "the response body")
    parts = _decode_output(body.get("output"))
    status = body.get("status")
    calls = any(isinstance(p, ir.ToolCall) for p in parts)
    rest = _rest(body, "id", "object", "created_at", "model", "output", "usage", "status")
    rest = _rest(rest, "incomplete_details", "output_text")
    if status != "failed":
        rest.pop("error", None)
    rest["_raw"] = {"output": body.get("output")}
    rid, model, created = body.get("id"), body.get("model"), body.get("created_at")
    return ir.Response(
        id=rid if isinstance(rid, str) else c.new_id("resp_"),
        model=model if isinstance(model, str) else "",
        parts=parts,
        stop=wire.stop_from_wire(status, body.get("incomplete_details"), calls),
        usage=wire.usage_from_wire(body.get("usage")),
        created=int(created) if isinstance(created, int | float) else None,
        extras={D: rest},
    )


def encode_response(response: ir.Response) -> dict[str, Any]:
    """An IR response as the response object a Responses client expects."""
    ex = _rest(_ex(response.extras), "_raw")
    raw = _ex(response.extras).get("_raw", {}).get("output")
    status, details = wire.status_of(response.stop)
    error = None
    if status == "failed":
        error = ex.get("error") or {"code": "server_error", "message": "the upstream failed"}
    if not isinstance(raw, list) or _decode_output(raw) != response.parts:
        raw = _parts_out("assistant", signatures.carry_call_signatures(response.parts), True)
    created = response.created if response.created is not None else int(time.time())
    usage = wire.usage_to_wire(response.usage)
    rid, model = response.id, response.model
    return wire.response_object(rid, model, created, status, raw, usage, ex, details, error)
