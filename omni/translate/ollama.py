"""Ollama chat (``POST /api/chat``) ↔ the IR: requests, complete answers and streams.

Requests carry ``messages`` with roles ``system`` (hoisted into the IR system prompt),
``user``, ``assistant`` (``thinking``, ``tool_calls`` with arguments as objects) and
``tool`` (results, matched to their call by ``tool_call_id`` or else by ``tool_name`` and
order); images are bare base64 strings; sampling lives in ``options`` (``num_predict`` is
the output limit), ``format`` is ``"json"`` or a JSON schema and ``think`` a bool or an
effort word. ``stream`` defaults to true. Fields with no IR home (``keep_alive``,
``num_ctx``…) are kept in ``extras["ollama"]`` so an Ollama-to-Ollama hop loses nothing.
Tool calls without ids get ``call_<n>`` (by order) and a flag so they go out without one.

Answers, complete and streamed (NDJSON), are in :mod:`omni.translate.ollama_stream` and
re-exported here. Also here: the bodies of ``GET /api/tags`` and ``POST /api/show``.
"""

from __future__ import annotations

from typing import Any, Literal

from omni import ir
from omni.errors import InvalidInputError
from omni.translate._common import (
    opt_float,
    opt_int,
    opt_str,
    require_dict,
    require_list,
    split_data_url,
)
from omni.translate.ollama_stream import (
    DIALECT,
    STREAM_CONTENT_TYPE,
    SYNTHETIC,
    StreamDecoder,
    StreamEncoder,
    decode_response,
    encode_response,
    fields,
    read_call,
    rfc3339,
    write_call,
)

__all__ = [
    "STREAM_CONTENT_TYPE",
    "StreamDecoder",
    "StreamEncoder",
    "decode_request",
    "decode_response",
    "encode_request",
    "encode_response",
    "show",
    "tags",
]

_SYSTEM_KEYS = frozenset({"role", "content"})
_MESSAGE_KEYS = {
    "system": _SYSTEM_KEYS,
    "developer": _SYSTEM_KEYS,
    "user": frozenset({"role", "content", "images"}),
    "assistant": frozenset({"role", "content", "images", "thinking", "tool_calls"}),
    "tool": frozenset({"role", "content", "images", "tool_name", "tool_call_id"}),
}
_REQUEST_KEYS = frozenset({"model", "messages", "tools", "stream", "format", "options", "think"})
_OPTION_KEYS = frozenset({"temperature", "top_p", "top_k", "num_predict", "stop", "seed"})
# Reasoning effort → Ollama's think levels (other efforts send ``true``).
_EFFORTS = {
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "high",
    "max": "high",
}
_MAGIC = (
    ("iVBORw0KGgo", "image/png"),
    ("/9j/", "image/jpeg"),
    ("R0lGOD", "image/gif"),
    ("UklGR", "image/webp"),
)


def _wrap(extra: dict[str, Any]) -> ir.Extras:
    return {DIALECT: extra} if extra else {}


def _flagged(extras: ir.Extras) -> bool:
    return bool((extras.get(DIALECT) or {}).get(SYNTHETIC))


# -- requests: decoding -----------------------------------------------------------------


class _Calls:
    """The assistant tool calls of one request: ids for those without, and the matching
    of ``tool`` messages to the calls they answer."""

    def __init__(self, messages: list[Any]) -> None:
        self._taken = {
            call["id"]
            for m in messages
            if isinstance(m, dict) and isinstance(m.get("tool_calls"), list)
            for call in m["tool_calls"]
            if isinstance(call, dict) and isinstance(call.get("id"), str)
        }
        self._count = 0
        self._turn = 0
        self._pending: list[tuple[int, ir.ToolCall]] = []
        self._names: dict[str, str] = {}

    def next_id(self) -> str:
        """``call_<n>``, n the position of the call in the request (kept unique)."""
        made = f"call_{self._count}"
        self._count += 1
        while made in self._taken:
            made += "_"
        self._taken.add(made)
        return made

    def add(self, calls: list[ir.ToolCall]) -> None:
        self._turn += 1
        self._pending += [(self._turn, call) for call in calls]
        self._names |= {call.id: call.name for call in calls}

    def answer(self, call_id: str | None, name: str | None) -> tuple[str, bool, str | None]:
        """The id of the call a result answers, whether it was inferred rather than given,
        and the call's name."""
        pending = self._pending
        if call_id:
            self._pending = [entry for entry in pending if entry[1].id != call_id]
            return call_id, False, name or self._names.get(call_id)
        # Latest turn first; within a turn the oldest call first; same name preferred.
        order = sorted(range(len(pending)), key=lambda i: (-pending[i][0], i))
        if not order:
            return self.next_id(), True, name
        pick = next((i for i in order if name and pending[i][1].name == name), order[0])
        call = pending.pop(pick)[1]
        return call.id, True, name or call.name


def _media_type(data: str) -> str:
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), "image/png")


def _images(value: Any, where: str) -> list[ir.Image]:
    images = []
    for j, item in enumerate(require_list(value, f"{where}.images")):
        if not isinstance(item, str):
            raise InvalidInputError(f"'{where}.images[{j}]' must be a base64 string")
        split = split_data_url(item)
        if split is not None:
            images.append(ir.Image(data=split[1], media_type=split[0]))
        else:
            images.append(ir.Image(data=item, media_type=_media_type(item)))
    return images


def _decode_messages(request: ir.Request, messages: list[Any]) -> None:
    calls = _Calls(messages)
    after_tool = False
    for i, raw in enumerate(messages):
        where = f"messages[{i}]"
        message = require_dict(raw, f"'{where}'")
        role = message.get("role")
        if not isinstance(role, str) or role not in _MESSAGE_KEYS:
            raise InvalidInputError(f"'{where}.role' must be system, user, assistant or tool")
        content = opt_str(message.get("content"), f"{where}.content") or ""
        extra = {k: v for k, v in message.items() if k not in _MESSAGE_KEYS[role]}
        if role in ("system", "developer"):
            request.system.append(ir.Text(content, extras=_wrap(extra)))
            continue
        parts: list[ir.Part] = []
        if role == "assistant":
            thinking = opt_str(message.get("thinking"), f"{where}.thinking")
            if thinking:
                parts.append(ir.Reasoning(thinking))
        if content:
            parts.append(ir.Text(content))
        parts += _images(message.get("images"), where)
        if role == "tool":
            name = opt_str(message.get("tool_name"), f"{where}.tool_name")
            given = opt_str(message.get("tool_call_id"), f"{where}.tool_call_id")
            call_id, inferred, name = calls.answer(given, name)
            if inferred:
                extra[SYNTHETIC] = True
            content_parts = [p for p in parts if isinstance(p, ir.Text | ir.Image)]
            result = ir.ToolResult(call_id, content_parts, name=name, extras=_wrap(extra))
            if after_tool:
                request.messages[-1].parts.append(result)
            else:
                request.messages.append(ir.Message("user", [result]))
            after_tool = True
            continue
        after_tool = False
        if role == "assistant":
            raw_calls = require_list(message.get("tool_calls"), f"{where}.tool_calls")
            made = [
                read_call(obj, f"{where}.tool_calls[{j}]", True, calls.next_id())
                for j, obj in enumerate(raw_calls)
            ]
            new_calls = [call for call in made if call is not None]
            calls.add(new_calls)
            parts += new_calls
        speaker: Literal["user", "assistant"] = "assistant" if role == "assistant" else "user"
        request.messages.append(ir.Message(speaker, parts, extras=_wrap(extra)))


def _tool(raw: Any, where: str) -> ir.Tool:
    tool = require_dict(raw, f"'{where}'")
    function = require_dict(tool.get("function"), f"'{where}.function'")
    name = function.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"'{where}.function.name' must be a non-empty string")
    parameters = function.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise InvalidInputError(f"'{where}.function.parameters' must be a JSON schema object")
    strict = function.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise InvalidInputError(f"'{where}.function.strict' must be a boolean")
    extra = {k: v for k, v in tool.items() if k not in ("type", "function")}
    if tool.get("type", "function") != "function":
        extra["type"] = tool["type"]
    known = ("name", "description", "parameters", "strict")
    rest = {k: v for k, v in function.items() if k not in known}
    if rest:
        extra["function"] = rest
    return ir.Tool(
        name=name,
        description=opt_str(function.get("description"), f"{where}.function.description"),
        parameters=parameters or {},
        strict=strict,
        extras=_wrap(extra),
    )


def _options(request: ir.Request, value: Any, extra: dict[str, Any]) -> None:
    if value is None:
        return
    options = require_dict(value, "'options'")
    rest = {k: v for k, v in options.items() if k not in _OPTION_KEYS}
    request.temperature = opt_float(options.get("temperature"), "options.temperature")
    request.top_p = opt_float(options.get("top_p"), "options.top_p")
    request.top_k = opt_int(options.get("top_k"), "options.top_k")
    request.seed = opt_int(options.get("seed"), "options.seed")
    limit = opt_int(options.get("num_predict"), "options.num_predict")
    if limit is not None and limit < 0:  # -1 endless, -2 fill the context: no IR home
        rest["num_predict"] = limit
    else:
        request.max_tokens = limit
    stop = options.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    stop = require_list(stop, "options.stop")
    if not all(isinstance(s, str) for s in stop):
        raise InvalidInputError("'options.stop' must be an array of strings")
    request.stop = stop
    if rest:
        extra["options"] = rest


def _format(value: Any) -> ir.ResponseFormat | None:
    if value is None or value == "":
        return None
    if value == "json":
        return ir.ResponseFormat(type="json_object")
    if isinstance(value, dict):
        return ir.ResponseFormat(type="json_schema", schema=value)
    raise InvalidInputError("'format' must be \"json\" or a JSON schema object")


def _think(value: Any) -> ir.ReasoningConfig | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return ir.ReasoningConfig(enabled=value, include_thoughts=True if value else None)
    if isinstance(value, str) and value:
        return ir.ReasoningConfig(effort=value, enabled=True, include_thoughts=True)
    raise InvalidInputError('\'think\' must be a boolean or "low", "medium" or "high"')


def decode_request(
    body: dict[str, Any], *, model: str | None = None, stream: bool | None = None
) -> ir.Request:
    """An Ollama ``/api/chat`` body as an IR request (raises InvalidInputError if malformed)."""
    body = require_dict(body)
    name = model if model is not None else body.get("model")
    if not isinstance(name, str) or not name:
        raise InvalidInputError("'model' is required and must be a non-empty string")
    wants_stream = body.get("stream")
    if wants_stream is not None and not isinstance(wants_stream, bool):
        raise InvalidInputError("'stream' must be a boolean")
    if stream is None:
        stream = True if wants_stream is None else wants_stream
    request = ir.Request(model=name, stream=stream)
    extra = {k: v for k, v in body.items() if k not in _REQUEST_KEYS}
    _decode_messages(request, require_list(body.get("messages"), "messages"))
    tools = require_list(body.get("tools"), "tools")
    request.tools = [_tool(tool, f"tools[{i}]") for i, tool in enumerate(tools)]
    _options(request, body.get("options"), extra)
    request.response_format = _format(body.get("format"))
    request.reasoning = _think(body.get("think"))
    request.extras = _wrap(extra)
    return request


# -- requests: encoding -----------------------------------------------------------------


def _image_data(image: ir.Image) -> str | None:
    if image.data:
        return image.data
    split = split_data_url(image.url) if image.url else None
    return split[1] if split else None


def _content(parts: list[ir.Part]) -> tuple[str, list[str]]:
    """The text (URL images noted inline) and the base64 images of some parts."""
    texts: list[str] = []
    images: list[str] = []
    for part in parts:
        if isinstance(part, ir.Text):
            texts.append(part.text)
        elif isinstance(part, ir.Image):
            data = _image_data(part)
            if data:
                images.append(data)
            elif part.url:
                texts.append(f"[image: {part.url}]")
    return "\n\n".join(t for t in texts if t), images


def _plain(role: str, parts: list[ir.Part], extras: ir.Extras) -> dict[str, Any]:
    content, images = _content(parts)
    out: dict[str, Any] = {"role": role, "content": content}
    if images:
        out["images"] = images
    if role == "assistant":
        thinking = "".join(p.text for p in parts if isinstance(p, ir.Reasoning))
        if thinking:
            out["thinking"] = thinking
        calls = [write_call(p) for p in parts if isinstance(p, ir.ToolCall)]
        if calls:
            out["tool_calls"] = calls
    return out | fields(extras)


def _result(result: ir.ToolResult, names: dict[str, str]) -> dict[str, Any]:
    content, images = _content(list(result.content))
    out: dict[str, Any] = {"role": "tool", "content": content}
    if images:
        out["images"] = images
    name = result.name or names.get(result.call_id)
    if name:
        out["tool_name"] = name
    if not _flagged(result.extras):
        out["tool_call_id"] = result.call_id
    return out | fields(result.extras)


def _encode_messages(request: ir.Request) -> list[dict[str, Any]]:
    out = [{"role": "system", "content": t.text} | fields(t.extras) for t in request.system]
    names = {p.id: p.name for m in request.messages for p in m.parts if isinstance(p, ir.ToolCall)}
    for message in request.messages:
        if message.role == "assistant":
            out.append(_plain("assistant", message.parts, message.extras))
            continue
        run: list[ir.Part] = []
        start = len(out)
        for part in message.parts:
            if isinstance(part, ir.ToolResult):
                if run:
                    out.append(_plain("user", run, message.extras))
                    run = []
                out.append(_result(part, names))
            else:
                run.append(part)
        if run or len(out) == start:
            out.append(_plain("user", run, message.extras))
    return out


def _think_wire(reasoning: ir.ReasoningConfig) -> bool | str:
    if reasoning.enabled is False or reasoning.effort == "none" or reasoning.budget == 0:
        return False
    return _EFFORTS.get(reasoning.effort or "", True)


def encode_request(request: ir.Request) -> dict[str, Any]:
    """The ``/api/chat`` body to send an Ollama upstream."""
    extra = dict(request.extras.get(DIALECT) or {})
    body: dict[str, Any] = {
        "model": request.model,
        "messages": _encode_messages(request),
        "stream": request.stream,
    }
    choice = request.tool_choice
    if request.tools and not (choice is not None and choice.mode == "none"):
        body["tools"] = [_encode_tool(tool) for tool in request.tools]
    options: dict[str, Any] = {}
    for key, value in (
        ("temperature", request.temperature),
        ("top_p", request.top_p),
        ("top_k", request.top_k),
        ("num_predict", request.max_tokens),
        ("seed", request.seed),
    ):
        if value is not None:
            options[key] = value
    if request.stop:
        options["stop"] = list(request.stop)
    options |= extra.pop("options", None) or {}
    if options:
        body["options"] = options
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_object":
        body["format"] = "json"
    elif fmt is not None and fmt.type == "json_schema":
        body["format"] = fmt.schema or {"type": "object"}
    if request.reasoning is not None:
        body["think"] = _think_wire(request.reasoning)
    return body | extra


def _encode_tool(tool: ir.Tool) -> dict[str, Any]:
    extra = fields(tool.extras)
    function: dict[str, Any] = {"name": tool.name}
    if tool.description is not None:
        function["description"] = tool.description
    function["parameters"] = tool.parameters or {"type": "object", "properties": {}}
    if tool.strict is not None:
        function["strict"] = tool.strict
    function |= extra.pop("function", None) or {}
    return {"type": "function", "function": function} | extra


# -- model listing ----------------------------------------------------------------------


def _details() -> dict[str, Any]:
    return {
        "parent_model": "",
        "format": "",
        "family": "",
        "families": [],
        "parameter_size": "",
        "quantization_level": "",
    }


def tags(model_ids: list[str]) -> dict[str, Any]:
    """The ``GET /api/tags`` body listing ``model_ids`` (``name`` and ``model`` both set)."""
    now = rfc3339()
    return {
        "models": [
            {
                "name": m,
                "model": m,
                "modified_at": now,
                "size": 0,
                "digest": "",
                "details": _details(),
            }
            for m in model_ids
        ]
    }


def show(model_id: str) -> dict[str, Any]:
    """A minimal valid ``POST /api/show`` body for ``model_id``."""
    return {
        "modelfile": f"FROM {model_id}\n",
        "parameters": "",
        "template": "",
        "details": _details(),
        "model_info": {},
        "capabilities": ["completion", "tools"],
        "modified_at": rfc3339(),
    }
