"""Gemini ``streamGenerateContent?alt=sse`` streams, and the wire pieces
:mod:`omni.translate.gemini` shares with them: usage and finish reasons both ways,
camelCase/snake_case objects, schemas, made-up call ids, thought-signature checks,
``:countTokens`` estimates and model lists.

- :class:`StreamDecoder` turns an upstream's SSE (each ``data:`` a whole
  ``GenerateContentResponse``, split anywhere) into IR events: thought parts become
  reasoning, ``functionCall`` parts a tool-call start plus one delta with the whole JSON
  arguments (Gemini has no call ids, so they are made up), ``usageMetadata`` usage
  updates, and the chunk with a ``finishReason`` the finish.
- :class:`StreamEncoder` writes what google-genai and gemini-cli accept: ``data:`` lines
  only, no ``event:`` and never a ``[DONE]`` terminator; each text or thought delta is one
  chunk, a tool call is one ``functionCall`` part sent once its arguments are complete,
  and the last chunk carries ``finishReason`` and ``usageMetadata``.

Usage in Gemini's words: ``candidatesTokenCount`` leaves out ``thoughtsTokenCount``, while
the IR's ``output`` includes reasoning; ``promptTokenCount`` includes cached tokens, as the
IR's ``input`` does.
"""

from __future__ import annotations

import binascii
import re
from typing import Any

import orjson

from omni import ir
from omni.errors import InvalidInputError
from omni.translate import errors, signatures
from omni.translate._common import SSEParser, estimate_tokens, json_object, json_text, new_id

D = ir.Dialect.GEMINI.value

FINISH_TO_STOP: dict[str, ir.Stop] = {
    **dict.fromkeys(("STOP", "FINISH_REASON_UNSPECIFIED", "OTHER"), ir.Stop.END),
    "MAX_TOKENS": ir.Stop.MAX_TOKENS,
    **dict.fromkeys(("SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
                     "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "LANGUAGE"),
                    ir.Stop.CONTENT_FILTER),
    **dict.fromkeys(("MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS"),
                    ir.Stop.ERROR),
}  # fmt: skip
STOP_TO_FINISH: dict[ir.Stop, str] = {
    ir.Stop.END: "STOP", ir.Stop.STOP_SEQUENCE: "STOP", ir.Stop.TOOL_USE: "STOP",
    ir.Stop.MAX_TOKENS: "MAX_TOKENS", ir.Stop.CONTENT_FILTER: "SAFETY", ir.Stop.REFUSAL: "SAFETY",
    ir.Stop.ERROR: "OTHER",
}  # fmt: skip
_DROP_KEYS = frozenset({"$schema", "additionalProperties"})
_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})
_LITERALS = frozenset({"enum", "default", "const", "example", "examples"})
_MAGIC = {"iVBOR": "image/png", "/9j/": "image/jpeg", "R0lGOD": "image/gif", "UklGR": "image/webp"}
_EXTENSIONS = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
               "webp": "image/webp", "pdf": "application/pdf", "heic": "image/heic"}  # fmt: skip
_URLSAFE = str.maketrans("-_", "+/")
_BLOCK_STOP = ir.Stop.CONTENT_FILTER  # promptFeedback.blockReason: the prompt was refused


def stop_from(reason: Any, has_calls: bool) -> ir.Stop:
    """The IR stop for a ``finishReason`` (Gemini says STOP even when it calls tools)."""
    stop = FINISH_TO_STOP.get(reason, ir.Stop.END) if isinstance(reason, str) else ir.Stop.END
    return ir.Stop.TOOL_USE if has_calls and stop is ir.Stop.END else stop


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_from(meta: Any) -> ir.Usage | None:
    """IR usage from ``usageMetadata`` (None when there is none)."""
    if not isinstance(meta, dict):
        return None
    candidates = _int(meta.get("candidatesTokenCount"))
    thoughts = _int(meta.get("thoughtsTokenCount"))
    output = (
        None if candidates is None and thoughts is None else (candidates or 0) + (thoughts or 0)
    )
    return ir.Usage(
        input=_int(meta.get("promptTokenCount")),
        output=output,
        cache_read=_int(meta.get("cachedContentTokenCount")),
        reasoning=thoughts,
    )


def usage_payload(usage: ir.Usage) -> dict[str, Any]:
    """``usageMetadata`` for IR usage (counts the IR does not know are left out)."""
    prompt, output = usage.input or 0, usage.output or 0
    meta: dict[str, Any] = {"promptTokenCount": prompt}
    if usage.output is not None:
        meta["candidatesTokenCount"] = max(0, output - (usage.reasoning or 0))
    meta["totalTokenCount"] = prompt + output
    if usage.cache_read is not None:
        meta["cachedContentTokenCount"] = usage.cache_read
    if usage.reasoning is not None:
        meta["thoughtsTokenCount"] = usage.reasoning
    return meta


def failure_from(error: Any) -> ir.Failure:
    """A Failure for a Gemini ``error`` object (``{"code","message","status"}``)."""
    if not isinstance(error, dict):
        return ir.Failure(502, str(error or "upstream error"))
    code = _int(error.get("code"))
    status = code if code is not None and 400 <= code <= 599 else 502
    name = error.get("status")
    return ir.Failure(
        status,
        str(error.get("message") or "upstream error"),
        name if isinstance(name, str) else None,
    )


def base64_or_none(signature: str | None) -> str | None:
    """The signature if it is base64 (Gemini and google-genai take bytes), else None."""
    if not signature:
        return None
    try:
        binascii.a2b_base64(signature.translate(_URLSAFE), strict_mode=True)
    except binascii.Error:
        return None
    return signature


def frame(obj: dict[str, Any]) -> bytes:
    """One SSE event the way Gemini frames them (CRLF, data only)."""
    return b"data: " + orjson.dumps(obj) + b"\r\n\r\n"


# -- wire objects and schemas -----------------------------------------------------------


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def wire_obj(value: Any, where: str) -> dict[str, Any]:
    """An object of the wire format with its keys in camelCase ({} for null)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInputError(f"'{where}' must be an object")
    return {_camel(k) if "_" in k else k: v for k, v in value.items()}


def require_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"'{where}' must be a non-empty string")
    return value


def args_json(value: Any, where: str) -> str:
    try:
        return orjson.dumps(value if value is not None else {}).decode()
    except (orjson.JSONEncodeError, TypeError) as exc:
        raise InvalidInputError(f"'{where}' cannot be encoded as JSON: {exc}") from exc


def _walk(value: Any, clean: bool) -> Any:
    if isinstance(value, list):
        return [_walk(v, clean) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if clean and key in _DROP_KEYS:
            continue
        if key == "type" and not clean:
            lower = [t.lower() if isinstance(t, str) else t for t in _listed(item)]
            out[key] = lower if isinstance(item, list) else lower[0]
        elif key in _SCHEMA_MAPS and isinstance(item, dict):
            out[key] = {name: _walk(schema, clean) for name, schema in item.items()}
        else:
            out[key] = item if key in _LITERALS else _walk(item, clean)
    return out


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def json_schema(value: Any) -> Any:
    """A Gemini schema as JSON schema: ``"type": "OBJECT"`` → ``"object"``."""
    return _walk(value, clean=False)


def clean_schema(value: Any) -> Any:
    """JSON schema Gemini's ``parameters`` accepts: ``$schema``/``additionalProperties`` go."""
    return _walk(value, clean=True)


def schema_in(raw: Any, key: str, where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(JSON schema for the IR, origin to keep in extras) for a schema read under ``key``."""
    if not isinstance(raw, dict):
        raise InvalidInputError(f"'{where}.{key}' must be an object")
    schema = json_schema(raw)
    return schema, ({"key": key} if schema == raw else {"key": key, "raw": raw})


def schema_out(schema: dict[str, Any], origin: Any, default: str) -> tuple[str, Any]:
    """(key, schema) to send: as received when it came from Gemini, else cleaned."""
    if isinstance(origin, dict) and isinstance(origin.get("key"), str):
        raw = origin.get("raw")
        return origin["key"], raw if raw is not None and json_schema(raw) == schema else schema
    return default, clean_schema(schema)


def media_type(image: ir.Image) -> str:
    if image.media_type:
        return image.media_type
    if image.data:
        for magic, kind in _MAGIC.items():
            if image.data.startswith(magic):
                return kind
    ext = (image.url or "").rsplit("?", 1)[0].rsplit(".", 1)[-1].lower()
    return _EXTENSIONS.get(ext, "image/jpeg")


def result_text(response: Any) -> tuple[str, bool]:
    """(text, is_error) of a ``functionResponse.response``."""
    if isinstance(response, dict) and len(response) == 1:
        ((key, value),) = response.items()
        if key in ("output", "error", "result", "content"):
            text = value if isinstance(value, str) else orjson.dumps(value).decode()
            return text, key == "error"
    if isinstance(response, str):
        return response, False
    return orjson.dumps(response if response is not None else {}).decode(), False


class CallIds:
    """Ids for function calls (Gemini has none), and which call each response answers.

    Made-up ids are ``call_<name>_<n>`` when ``numbered`` (stable across the turns of a
    conversation, which keeps upstream prompt caches warm), else random. A response
    without an id answers the earliest unanswered call of its name in the latest model
    turn that has one.
    """

    def __init__(self, numbered: bool) -> None:
        self._numbered = numbered
        self._count = 0
        self._turns: list[list[tuple[str, str, bool]]] = []  # unanswered (id, name, made up)

    def turn(self) -> None:
        self._turns.append([])

    def _new(self, name: str) -> str:
        self._count += 1
        if not self._numbered:
            return new_id("call_")
        return f"call_{re.sub(r'[^A-Za-z0-9_-]', '_', name)}_{self._count}"

    def call(self, name: str, given: str | None) -> str:
        call_id = given or self._new(name)
        if not self._turns:
            self.turn()
        self._turns[-1].append((call_id, name, not given))
        return call_id

    def result(self, name: str, given: str | None) -> str:
        for turn in reversed(self._turns):
            found = [i for i, c in enumerate(turn) if (c[0] == given if given else c[1] == name)]
            if found:  # without an id, calls with made-up ids are the likelier match
                found.sort(key=lambda i: not turn[i][2])
                return turn.pop(found[0])[0]
        return given or self._new(name)


# -- decoding -----------------------------------------------------------------------------


class StreamDecoder:
    """Upstream Gemini SSE (``alt=sse``) → IR events."""

    def __init__(self) -> None:
        self._sse = SSEParser()
        self._started = False
        self._finished = False
        self._calls = 0
        self._usage: ir.Usage | None = None

    def feed(self, chunk: bytes) -> list[ir.Event]:
        return self._events(self._sse.feed(chunk))

    def close(self) -> list[ir.Event]:
        events = self._events(self._sse.close())
        if not self._finished:
            self._finished = True
            if self._started:
                events.append(ir.Finish(stop_from(None, self._calls > 0), self._usage))
            else:
                events.append(ir.Failure(502, "the upstream closed the stream without an answer"))
        return events

    def _events(self, raw: list[tuple[str | None, bytes]]) -> list[ir.Event]:
        out: list[ir.Event] = []
        for _, data in raw:
            if self._finished:
                break
            if data.strip() == b"[DONE]":
                continue  # not Gemini's, but some proxies add it; the end comes at close
            try:
                obj = orjson.loads(data)
            except orjson.JSONDecodeError:
                continue  # a malformed event is skipped, the stream goes on
            if isinstance(obj, list):  # a JSON-array chunk: several responses at once
                for item in obj:
                    if isinstance(item, dict) and not self._finished:
                        self._chunk(item, out)
            elif isinstance(obj, dict):
                self._chunk(obj, out)
        return out

    def _chunk(self, obj: dict[str, Any], out: list[ir.Event]) -> None:
        if "error" in obj and "candidates" not in obj:
            out.append(failure_from(obj["error"]))
            self._finished = True
            return
        usage = usage_from(obj.get("usageMetadata"))
        if not self._started:
            self._started = True
            self._usage = usage
            rid, model = obj.get("responseId"), obj.get("modelVersion")
            rid = rid if isinstance(rid, str) and rid else new_id("gemini-")
            out.append(ir.Start(rid, model if isinstance(model, str) else "", usage))
        candidates = obj.get("candidates")
        candidate = _first(candidates)
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        for part in parts if isinstance(parts, list) else []:
            if isinstance(part, dict):
                self._part(part, out)
        if usage is not None and usage != self._usage:
            self._usage = usage
            out.append(ir.UsageUpdate(usage))
        reason = candidate.get("finishReason")
        feedback = obj.get("promptFeedback")
        if reason:
            out.append(ir.Finish(stop_from(reason, self._calls > 0), self._usage))
            self._finished = True
        elif not candidates and isinstance(feedback, dict) and feedback.get("blockReason"):
            out.append(ir.Finish(_BLOCK_STOP, self._usage))
            self._finished = True

    def _part(self, part: dict[str, Any], out: list[ir.Event]) -> None:
        signature = part.get("thoughtSignature")
        sig = signature if isinstance(signature, str) and signature else None
        call = part.get("functionCall")
        if isinstance(call, dict):
            name, given = call.get("name"), call.get("id")
            index, self._calls = self._calls, self._calls + 1
            call_id = given if isinstance(given, str) and given else new_id("call_")
            out.append(ir.ToolCallStart(index, call_id, str(name or ""), sig))
            out.append(ir.ToolCallDelta(index, json_text(call.get("args") or {})))
            return
        text = part.get("text")
        text = text if isinstance(text, str) else ""
        if part.get("thought") is True:
            if text or sig:
                out.append(ir.ReasoningDelta(text, signatures.from_gemini(sig) if sig else None))
        elif text:
            out.append(ir.TextDelta(text))


def _first(candidates: Any) -> dict[str, Any]:
    """The candidate with index 0 (or the first one); {} when there is none."""
    if not isinstance(candidates, list):
        return {}
    found = [c for c in candidates if isinstance(c, dict)]
    for candidate in found:
        if candidate.get("index", 0) == 0:
            return candidate
    return found[0] if found else {}


# -- encoding -----------------------------------------------------------------------------


class StreamEncoder:
    """IR events → Gemini SSE for a client (google-genai, gemini-cli, opencode)."""

    def __init__(self, model: str, response_id: str) -> None:
        self._ids = {"modelVersion": model, "responseId": response_id}
        self._calls: dict[int, tuple[str, str, str | None, list[str]]] = {}
        self._usage: ir.Usage | None = None
        self._ended = False

    def _chunk(
        self, parts: list[dict[str, Any]], finish: str | None = None, usage: ir.Usage | None = None
    ) -> bytes:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if finish is not None:
            candidate["finishReason"] = finish
        obj: dict[str, Any] = {"candidates": [candidate]}
        if usage is not None:
            obj["usageMetadata"] = usage_payload(usage)
        return frame({**obj, **self._ids})

    def _call_parts(self) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        for call_id, name, sig, pieces in self._calls.values():
            call = {"name": name, "args": json_object("".join(pieces)), "id": call_id}
            parts.append({"functionCall": call, **({"thoughtSignature": sig} if sig else {})})
        self._calls.clear()
        return parts

    def _flush(self) -> bytes:
        return self._chunk(self._call_parts()) if self._calls else b""

    def encode(self, event: ir.Event) -> bytes:
        if self._ended:
            return b""
        if isinstance(event, ir.ToolCallStart):
            self._calls[event.index] = (event.id, event.name, base64_or_none(event.signature), [])
            return b""
        if isinstance(event, ir.ToolCallDelta):
            call = self._calls.get(event.index)
            if call is not None:
                call[3].append(event.arguments)
            return b""
        if isinstance(event, ir.Start | ir.UsageUpdate):
            self._usage = event.usage or self._usage
            return b""
        if isinstance(event, ir.TextDelta):
            return self._flush() + (self._chunk([{"text": event.text}]) if event.text else b"")
        if isinstance(event, ir.ReasoningDelta):
            out = self._flush()
            sig = signatures.for_gemini_client(event.signature)
            if event.text or sig:
                part: dict[str, Any] = {"text": event.text, "thought": True}
                if sig:
                    part["thoughtSignature"] = sig
                out += self._chunk([part])
            return out
        self._ended = True
        if isinstance(event, ir.Finish):
            parts = self._call_parts() or [{"text": ""}]
            usage = event.usage or self._usage
            return self._chunk(parts, STOP_TO_FINISH.get(event.stop, "STOP"), usage)
        self._calls.clear()
        return errors.error_event(ir.Dialect.GEMINI, event.status, event.message, event.code)


# -- countTokens and model lists ----------------------------------------------------------


def count_tokens_estimate(request: ir.Request) -> int:
    """An offline token estimate for ``:countTokens`` (Gemini counts 258 tokens an image)."""
    return estimate_tokens(request, image_tokens=258)


def models_list(model_ids: list[str]) -> dict[str, Any]:
    """``GET /v1beta/models``: every model the gateway serves, Gemini-style."""
    methods = ["generateContent", "streamGenerateContent", "countTokens"]
    models = []
    for model_id in model_ids:
        bare = model_id.removeprefix("models/")
        models.append(
            {"name": f"models/{bare}", "displayName": bare, "supportedGenerationMethods": methods}
        )
    return {"models": models}
