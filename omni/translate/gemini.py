"""Google Gemini ``generateContent`` ⇄ IR: requests and complete responses.

Streams live in :mod:`omni.translate.gemini_stream` (re-exported here). The model and the
stream flag come from the URL (``/v1beta/models/{model}:streamGenerateContent``), so
:func:`decode_request` takes them as arguments. Keys are read in camelCase or snake_case
(the SDKs send camelCase; ``system_instruction`` and friends are accepted too).

Gemini has no tool call ids: a ``functionCall`` without one gets a deterministic id
(``call_<name>_<n>``, numbered in request order) and a ``functionResponse`` is paired with
the earliest unanswered call of the same name in the latest model turn that has one.
Thought parts are reasoning; a ``thoughtSignature`` on a call is the call's signature
(who may receive which signature: :mod:`omni.translate.signatures`).

Whatever has no IR home is kept in ``extras["gemini"]`` (safety settings, cached content,
non-function tools, raw schemas and configs), and a same-dialect hop sends it back
unchanged when the IR still says the same thing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from omni import ir
from omni.errors import InvalidInputError
from omni.translate import gemini_stream as gs
from omni.translate import signatures
from omni.translate._common import (
    EFFORT_BUDGET,
    json_object,
    new_id,
    opt_float,
    opt_int,
    opt_str,
    require_dict,
    require_list,
    split_data_url,
)
from omni.translate.gemini_stream import (
    StreamDecoder,
    StreamEncoder,
    count_tokens_estimate,
    models_list,
)

__all__ = ["STREAM_CONTENT_TYPE", "StreamDecoder", "StreamEncoder", "count_tokens_estimate",
           "decode_request", "decode_response", "encode_request", "encode_response",
           "models_list"]  # fmt: skip

STREAM_CONTENT_TYPE = "text/event-stream"
D = ir.Dialect.GEMINI.value
MAX_BUDGET = 24576  # the largest thinkingBudget every Gemini 2.5 model accepts
_BODY_KEYS = frozenset({"contents", "systemInstruction", "tools", "toolConfig", "generationConfig",
                        "model"})  # fmt: skip
_GEN_KEYS = frozenset({"temperature", "topP", "topK", "maxOutputTokens", "stopSequences", "seed",
                       "thinkingConfig", "responseMimeType", "responseSchema",
                       "responseJsonSchema"})  # fmt: skip


# -- small helpers ------------------------------------------------------------------------


def _ex(obj: ir.Part | ir.Tool | ir.Request | ir.Response | ir.Message) -> dict[str, Any]:
    found = obj.extras.get(D)
    return found if isinstance(found, dict) else {}


# -- parts --------------------------------------------------------------------------------


def _put(extras: dict[str, Any], key: str, value: dict[str, Any]) -> None:
    if value:
        extras[key] = value


def _decode_part(raw: Any, where: str, calls: gs.CallIds) -> ir.Part:
    p = gs.wire_obj(raw, where)
    original = dict(p)
    sig = opt_str(p.pop("thoughtSignature", None), f"{where}.thoughtSignature")
    ex: dict[str, Any] = {}
    part: ir.Part
    if "functionCall" in p:
        fc = gs.wire_obj(p.pop("functionCall"), f"{where}.functionCall")
        name = gs.require_name(fc.pop("name", None), f"{where}.functionCall.name")
        given = opt_str(fc.pop("id", None), f"{where}.functionCall.id")
        arguments = gs.args_json(fc.pop("args", None), f"{where}.functionCall.args")
        ex["id"] = "wire" if given else "synthetic"
        _put(ex, "functionCall", fc)
        part = ir.ToolCall(calls.call(name, given), name, arguments, sig)
    elif "functionResponse" in p:
        fr = gs.wire_obj(p.pop("functionResponse"), f"{where}.functionResponse")
        name = gs.require_name(fr.pop("name", None), f"{where}.functionResponse.name")
        given = opt_str(fr.pop("id", None), f"{where}.functionResponse.id")
        response = fr.pop("response", None)
        text, is_error = gs.result_text(response)
        ex.update({"response": response, **({"id": "wire"} if given else {})})
        _put(ex, "functionResponse", fr)
        part = ir.ToolResult(calls.result(name, given), [ir.Text(text)], is_error, name)
    elif "inlineData" in p:
        blob = gs.wire_obj(p.pop("inlineData"), f"{where}.inlineData")
        data = blob.pop("data", None)
        if not isinstance(data, str):
            raise InvalidInputError(f"'{where}.inlineData.data' must be a base64 string")
        mime = opt_str(blob.pop("mimeType", None), f"{where}.inlineData.mimeType")
        _put(ex, "inlineData", blob)
        part = ir.Image(data=data, media_type=mime)
    elif "fileData" in p:
        file = gs.wire_obj(p.pop("fileData"), f"{where}.fileData")
        uri = gs.require_name(file.pop("fileUri", None), f"{where}.fileData.fileUri")
        mime = opt_str(file.pop("mimeType", None), f"{where}.fileData.mimeType")
        _put(ex, "fileData", file)
        part = ir.Image(url=uri, media_type=mime)
    elif "text" in p or p.get("thought") is True:
        text = opt_str(p.pop("text", None), f"{where}.text") or ""
        if p.get("thought") is True:
            p.pop("thought")
            part = ir.Reasoning(text, signatures.from_gemini(sig) if sig else None)
        else:
            part = ir.Text(text)
            if sig:
                ex["thoughtSignature"] = sig
    else:  # executableCode, codeExecutionResult …: kept whole, shown as text elsewhere
        code = p.get("executableCode") or p.get("codeExecutionResult") or {}
        shown = code.get("code") or code.get("output") if isinstance(code, dict) else None
        return ir.Text(shown if isinstance(shown, str) else "", {D: {"raw": original}})
    if sig and not isinstance(part, ir.ToolCall | ir.Reasoning | ir.Text):
        p["thoughtSignature"] = sig
    _put(ex, "part", p)
    if ex:
        part.extras[D] = ex
    return part


def _encode_part(part: ir.Part, names: dict[str, str], *, to_client: bool) -> list[dict[str, Any]]:
    ex = _ex(part)
    out: dict[str, Any]
    if isinstance(part, ir.Text):
        if isinstance(ex.get("raw"), dict):
            return [ex["raw"]]
        out = {"text": part.text}
        if ex.get("thoughtSignature"):
            out["thoughtSignature"] = ex["thoughtSignature"]
        elif not part.text:
            return []  # Gemini rejects empty text parts
    elif isinstance(part, ir.Reasoning):
        if to_client:
            sig = signatures.for_gemini_client(part.signature)
        else:
            sig = gs.base64_or_none(signatures.for_gemini(part.signature))
        if not sig and not (to_client and part.text):
            return []  # thoughts without a Gemini signature are not sent back to Gemini
        out = {"text": part.text, "thought": True} | ({"thoughtSignature": sig} if sig else {})
    elif isinstance(part, ir.Image):
        inline = split_data_url(part.url) if part.url else None
        if part.data is not None or inline:
            mime, data = inline or (gs.media_type(part), part.data or "")
            out = {"inlineData": {"mimeType": mime, "data": data, **ex.get("inlineData", {})}}
        else:
            file = {"fileUri": part.url, **ex.get("fileData", {})}
            out = {"fileData": {"mimeType": gs.media_type(part), **file}}
    elif isinstance(part, ir.ToolCall):
        call: dict[str, Any] = {"name": part.name, "args": json_object(part.arguments)}
        if ex.get("id") == "wire" or (to_client and ex.get("id") != "synthetic"):
            call["id"] = part.id
        out = {"functionCall": {**call, **ex.get("functionCall", {})}}
        if sig := gs.base64_or_none(part.signature):
            out["thoughtSignature"] = sig
    else:
        raw = ex.get("response")
        text, is_error = (part.text, part.is_error)
        same = "response" in ex and gs.result_text(raw) == (text, is_error)
        response = raw if same else {"error" if is_error else "output": text}
        result = {"name": part.name or names.get(part.call_id) or "function", "response": response}
        if ex.get("id") == "wire":
            result["id"] = part.call_id
        out = {"functionResponse": {**result, **ex.get("functionResponse", {})}}
        images = [i for i in part.content if isinstance(i, ir.Image)]
        return [{**out, **ex.get("part", {})}] + [
            p for i in images for p in _encode_part(i, names, to_client=to_client)
        ]
    return [{**out, **ex.get("part", {})}]


# -- requests -----------------------------------------------------------------------------


def _decode_system(raw: Any) -> tuple[list[ir.Text], dict[str, Any]]:
    if isinstance(raw, str):
        return [ir.Text(raw)], {}
    content = gs.wire_obj(raw, "systemInstruction")
    parts = require_list(content.pop("parts", None), "systemInstruction.parts")
    texts = []
    for i, part in enumerate(parts):
        text = gs.wire_obj(part, f"systemInstruction.parts[{i}]").get("text")
        if not isinstance(text, str):
            raise InvalidInputError(f"'systemInstruction.parts[{i}].text' must be a string")
        texts.append(ir.Text(text))
    return texts, content


def _decode_tools(raw: Any, keep: dict[str, Any]) -> list[ir.Tool]:
    tools: list[ir.Tool] = []
    others: list[Any] = []
    for i, item in enumerate(require_list(raw, "tools")):
        entry = gs.wire_obj(item, f"tools[{i}]")
        decls = require_list(entry.pop("functionDeclarations", None), f"tools[{i}]")
        for j, decl_raw in enumerate(decls):
            where = f"tools[{i}].functionDeclarations[{j}]"
            decl = gs.wire_obj(decl_raw, where)
            name = gs.require_name(decl.pop("name", None), f"{where}.name")
            description = opt_str(decl.pop("description", None), f"{where}.description")
            ex: dict[str, Any] = {}
            params: dict[str, Any] = {}
            for key in ("parametersJsonSchema", "parameters"):
                if decl.get(key) is not None:
                    params, ex["schema"] = gs.schema_in(decl.pop(key), key, where)
                    break
            _put(ex, "declaration", decl)
            tools.append(ir.Tool(name, description, params, extras={D: ex}))
        if entry:
            others.append(entry)
    if others:
        keep["tools"] = others
    return tools


def _decode_choice(raw: dict[str, Any]) -> ir.ToolChoice | None:
    config = raw.get("functionCallingConfig", raw.get("function_calling_config"))
    if not isinstance(config, dict):
        return None
    config = gs.wire_obj(config, "toolConfig.functionCallingConfig")
    mode = config.get("mode")
    names = config.get("allowedFunctionNames")
    if mode == "NONE":
        return ir.ToolChoice("none")
    if mode == "ANY":
        if isinstance(names, list) and len(names) == 1 and isinstance(names[0], str):
            return ir.ToolChoice("tool", names[0])
        return ir.ToolChoice("required")
    return ir.ToolChoice("auto")


def _decode_thinking(raw: Any) -> ir.ReasoningConfig:
    config = gs.wire_obj(raw, "generationConfig.thinkingConfig")
    budget = opt_int(config.get("thinkingBudget"), "generationConfig.thinkingConfig.thinkingBudget")
    level = opt_str(config.get("thinkingLevel"), "generationConfig.thinkingConfig.thinkingLevel")
    include = config.get("includeThoughts")
    if include is not None and not isinstance(include, bool):
        raise InvalidInputError("'generationConfig.thinkingConfig.includeThoughts' must be a bool")
    enabled = False if budget == 0 else (True if budget is not None or level else None)
    return ir.ReasoningConfig(
        effort=level.lower() if level else None,
        budget=budget if budget is not None and budget >= 0 else None,
        enabled=enabled,
        adaptive=budget == -1,
        include_thoughts=include,
    )


def _decode_generation(raw: Any, request: ir.Request, keep: dict[str, Any]) -> None:
    g = gs.wire_obj(raw, "generationConfig")
    w = "generationConfig."
    request.temperature = opt_float(g.get("temperature"), w + "temperature")
    request.top_p = opt_float(g.get("topP"), w + "topP")
    top_k = opt_float(g.get("topK"), w + "topK")
    request.top_k = round(top_k) if top_k is not None else None
    request.max_tokens = opt_int(g.get("maxOutputTokens"), w + "maxOutputTokens")
    request.seed = opt_int(g.get("seed"), w + "seed")
    stop = g.get("stopSequences")
    stops = [stop] if isinstance(stop, str) else require_list(stop, w + "stopSequences")
    if not all(isinstance(s, str) for s in stops):
        raise InvalidInputError("'generationConfig.stopSequences' must be an array of strings")
    request.stop = list(stops)
    if g.get("thinkingConfig") is not None:
        keep["thinkingConfig"] = gs.wire_obj(g["thinkingConfig"], w + "thinkingConfig")
        request.reasoning = _decode_thinking(keep["thinkingConfig"])
    rest = {k: v for k, v in g.items() if k not in _GEN_KEYS}
    mime = opt_str(g.get("responseMimeType"), w + "responseMimeType")
    key = "responseJsonSchema" if g.get("responseJsonSchema") is not None else "responseSchema"
    if mime not in (None, "application/json", "text/plain"):
        rest.update({k: g[k] for k in ("responseMimeType", key) if g.get(k) is not None})
    elif g.get(key) is not None:
        schema, keep["responseSchema"] = gs.schema_in(g[key], key, "generationConfig")
        request.response_format = ir.ResponseFormat("json_schema", schema)
        keep["responseSchema"]["mime"] = mime
    elif mime is not None:
        request.response_format = ir.ResponseFormat("json_object" if "json" in mime else "text")
    _put(keep, "generationConfig", rest)


def _unsigned_thought(part: ir.Part) -> str | None:
    """The text of a thought that has no signature (None for any other part)."""
    if isinstance(part, ir.Reasoning) and not part.signature and not part.extras:
        return part.text
    return None


def _join_thoughts(parts: list[ir.Part]) -> list[ir.Part]:
    """Thought parts streamed piece by piece and closed by another provider's signature
    become one thought again: that provider checks its signature against all of the text."""
    out: list[ir.Part] = []
    for part in parts:
        if isinstance(part, ir.Reasoning) and part.signature:
            text = part.text
            while not signatures.is_geminis(part.signature) and out:
                before = _unsigned_thought(out[-1])
                if before is None:
                    break
                text = before + text
                out.pop()
            out.append(replace(part, text=text))
        else:
            out.append(part)
    return out


def decode_request(
    body: dict[str, Any], *, model: str | None = None, stream: bool | None = None
) -> ir.Request:
    """A client's ``generateContent`` body (model and stream flag from the URL) as IR."""
    top = gs.wire_obj(require_dict(body), "the request body")
    if "contents" not in top and isinstance(top.get("generateContentRequest"), dict):
        top = gs.wire_obj(top["generateContentRequest"], "generateContentRequest")  # :countTokens
    name = model if model is not None else top.get("model")
    if not isinstance(name, str) or not name.removeprefix("models/"):
        raise InvalidInputError("the model is missing: it belongs in the URL, models/{model}")
    if not isinstance(top.get("contents"), list):
        raise InvalidInputError("'contents' must be an array of {role, parts} objects")
    keep: dict[str, Any] = {}
    request = ir.Request(model=name.removeprefix("models/"), stream=bool(stream))
    request.stream_usage = request.stream  # Gemini streams always carry usageMetadata
    calls = gs.CallIds(numbered=True)
    for i, raw in enumerate(top["contents"]):
        content = gs.wire_obj(raw, f"contents[{i}]")
        role = content.pop("role", None) or "user"
        if role not in ("user", "model", "function", "tool", "assistant"):
            raise InvalidInputError(f"'contents[{i}].role' must be 'user' or 'model'")
        if role in ("model", "assistant"):
            calls.turn()
        parts = require_list(content.pop("parts", None), f"contents[{i}].parts")
        message = ir.Message("assistant" if role in ("model", "assistant") else "user")
        message.parts = _join_thoughts(
            [_decode_part(part, f"contents[{i}].parts[{j}]", calls) for j, part in enumerate(parts)]
        )
        if content:
            message.extras[D] = {"content": content}
        request.messages.append(message)
    if top.get("systemInstruction") is not None:
        request.system, rest = _decode_system(top["systemInstruction"])
        _put(keep, "systemInstruction", rest)
    request.tools = _decode_tools(top.get("tools"), keep)
    if top.get("toolConfig") is not None:
        keep["toolConfig"] = gs.wire_obj(top["toolConfig"], "toolConfig")
        request.tool_choice = _decode_choice(keep["toolConfig"])
    _decode_generation(top.get("generationConfig"), request, keep)
    _put(keep, "body", {k: v for k, v in top.items() if k not in _BODY_KEYS})
    if keep:
        request.extras[D] = keep
    return request


def _encode_contents(messages: list[ir.Message]) -> list[dict[str, Any]]:
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    foreign: set[int] = set()  # id() of the functionCall parts of calls from another dialect
    for message in messages:
        parts: list[dict[str, Any]] = []
        carried: str | None = None  # a call's signature a foreign client kept on its thinking
        for part in message.parts:
            if isinstance(part, ir.Reasoning) and signatures.call_signature(part.signature):
                carried = signatures.call_signature(part.signature)
                continue
            if isinstance(part, ir.ToolCall):
                names[part.id] = part.name
                call = replace(part, signature=carried) if carried and not part.signature else part
                carried = None
                encoded = _encode_part(call, names, to_client=False)
                if D not in call.extras:
                    foreign.update(id(p) for p in encoded)
                parts += encoded
                continue
            parts += _encode_part(part, names, to_client=False)
        if not parts:
            continue  # Gemini rejects contents without parts
        role = "model" if message.role == "assistant" else "user"
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"] += parts  # nor does it take two turns of one role in a row
        else:
            contents.append({**_ex(message).get("content", {}), "role": role, "parts": parts})
    for content in contents:  # the first call of a turn must be signed (Gemini 3, thinking)
        first = next((p for p in content["parts"] if "functionCall" in p), None)
        if first is not None and id(first) in foreign and not first.get("thoughtSignature"):
            first["thoughtSignature"] = signatures.SKIP_VALIDATOR
    return contents


def _encode_choice(choice: ir.ToolChoice) -> dict[str, Any]:
    mode = {"auto": "AUTO", "none": "NONE", "required": "ANY", "tool": "ANY"}[choice.mode]
    config: dict[str, Any] = {"mode": mode}
    if choice.mode == "tool" and choice.name:
        config["allowedFunctionNames"] = [choice.name]
    return {"functionCallingConfig": config}


def _encode_thinking(config: ir.ReasoningConfig) -> dict[str, Any]:
    if config.enabled is False or config.effort == "none" or config.budget == 0:
        return {"thinkingBudget": 0}
    budget = config.budget
    if budget is None and config.effort:
        budget = EFFORT_BUDGET.get(config.effort)
    if budget is None and config.adaptive:
        budget = -1
    out: dict[str, Any] = {} if budget is None else {"thinkingBudget": min(budget, MAX_BUDGET)}
    out["includeThoughts"] = config.include_thoughts is not False
    return out


def _encode_generation(request: ir.Request, keep: dict[str, Any]) -> dict[str, Any]:
    g: dict[str, Any] = dict(keep.get("generationConfig") or {})
    fields = {"maxOutputTokens": request.max_tokens, "temperature": request.temperature,
              "topP": request.top_p, "topK": request.top_k, "seed": request.seed}  # fmt: skip
    g.update({k: v for k, v in fields.items() if v is not None})
    if request.stop:
        g["stopSequences"] = list(request.stop)
    fmt = request.response_format
    origin = keep.get("responseSchema")
    if fmt is not None and fmt.type == "json_schema":
        key, schema = gs.schema_out(fmt.schema or {}, origin, "responseSchema")
        mime = origin.get("mime", "") if isinstance(origin, dict) else "application/json"
        g.update({"responseMimeType": mime, key: schema} if mime else {key: schema})
    elif fmt is not None:
        g["responseMimeType"] = "application/json" if fmt.type == "json_object" else "text/plain"
    if request.reasoning is not None:
        raw = keep.get("thinkingConfig")
        same = raw is not None and _decode_thinking(raw) == request.reasoning
        g["thinkingConfig"] = raw if same else _encode_thinking(request.reasoning)
    return g


def encode_request(request: ir.Request) -> dict[str, Any]:
    """The ``generateContent`` body for a Gemini upstream (model and stream go in the URL)."""
    keep = _ex(request)
    body: dict[str, Any] = {"contents": _encode_contents(request.messages)}
    system = [{"text": t.text} for t in request.system if t.text]
    if system:
        body["systemInstruction"] = {**keep.get("systemInstruction", {}), "parts": system}
    tools: list[dict[str, Any]] = []
    decls = []
    for tool in request.tools:
        ex = _ex(tool)
        decl: dict[str, Any] = {"name": tool.name}
        if tool.description is not None:
            decl["description"] = tool.description
        key, schema = gs.schema_out(tool.parameters, ex.get("schema"), "parameters")
        empty = schema.get("type") in ("object", None) and not schema.get("properties")
        if "schema" in ex or not empty:  # Gemini rejects objects without properties
            decl[key] = schema
        decls.append({**decl, **ex.get("declaration", {})})
    if decls:
        tools.append({"functionDeclarations": decls})
    tools += keep.get("tools", [])
    if tools:
        body["tools"] = tools
    if request.tool_choice is not None:
        raw = keep.get("toolConfig")
        same = isinstance(raw, dict) and _decode_choice(raw) == request.tool_choice
        body["toolConfig"] = raw if same else _encode_choice(request.tool_choice)
    generation = _encode_generation(request, keep)
    if generation:
        body["generationConfig"] = generation
    return {**body, **keep.get("body", {})}


# -- responses ----------------------------------------------------------------------------


def decode_response(body: dict[str, Any]) -> ir.Response:
    """An upstream's ``GenerateContentResponse`` as IR (the first candidate)."""
    top = gs.wire_obj(require_dict(body, "the response body"), "the response body")
    candidates = require_list(top.pop("candidates", None), "candidates")
    candidate = gs.wire_obj(candidates[0] if candidates else {}, "candidates[0]")
    content = gs.wire_obj(candidate.pop("content", None), "candidates[0].content")
    calls = gs.CallIds(numbered=False)
    calls.turn()
    parts = [
        _decode_part(p, f"candidates[0].content.parts[{i}]", calls)
        for i, p in enumerate(require_list(content.pop("parts", None), "content.parts"))
    ]
    has_calls = any(isinstance(p, ir.ToolCall) for p in parts)
    reason = candidate.pop("finishReason", None)
    feedback = top.get("promptFeedback")
    stop = gs.stop_from(reason, has_calls)
    if not candidates and isinstance(feedback, dict) and feedback.get("blockReason"):
        stop = ir.Stop.CONTENT_FILTER
    meta = top.pop("usageMetadata", None)
    usage = gs.usage_from(meta) or ir.Usage()
    rid, model = top.pop("responseId", None), top.pop("modelVersion", None)
    keep: dict[str, Any] = {"finishReason": reason} if isinstance(reason, str) else {}
    if isinstance(meta, dict):
        payload = gs.usage_payload(usage)
        _put(keep, "usageMetadata", {k: v for k, v in meta.items() if payload.get(k) != v})
    _put(keep, "content", {k: v for k, v in content.items() if k != "role"})
    _put(keep, "candidate", candidate)
    if candidates[1:]:
        keep["candidates"] = candidates[1:]
    _put(keep, "body", top)
    return ir.Response(
        id=rid if isinstance(rid, str) and rid else new_id("gemini-"),
        model=model if isinstance(model, str) else "",
        parts=parts,
        stop=stop,
        usage=usage,
        extras={D: keep} if keep else {},
    )


def encode_response(response: ir.Response) -> dict[str, Any]:
    """A ``GenerateContentResponse`` that google-genai parses (``.text``, function calls)."""
    keep = _ex(response)
    parts = [p for part in response.parts for p in _encode_part(part, {}, to_client=True)]
    reason = keep.get("finishReason")
    if (
        not isinstance(reason, str)
        or gs.stop_from(reason, bool(response.tool_calls)) != response.stop
    ):
        reason = gs.STOP_TO_FINISH.get(response.stop, "STOP")
    content = {**keep.get("content", {}), "role": "model", "parts": parts}
    candidate = {
        "content": content,
        "finishReason": reason,
        "index": 0,
        **keep.get("candidate", {}),
    }
    usage = {**gs.usage_payload(response.usage), **keep.get("usageMetadata", {})}
    return {
        "candidates": [candidate, *keep.get("candidates", [])],
        "usageMetadata": usage,
        "modelVersion": response.model,
        "responseId": response.id,
        **keep.get("body", {}),
    }
