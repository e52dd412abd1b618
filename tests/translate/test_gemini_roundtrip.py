"""Gemini → IR → Gemini keeps every field: Hypothesis-built requests and responses."""

from __future__ import annotations

import base64
import copy
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omni import ir
from omni.translate import gemini

Obj = dict[str, Any]

names = st.text(alphabet="abcxyz_.", min_size=1, max_size=6)
texts = st.text(min_size=1, max_size=12)
sigs = st.binary(min_size=1, max_size=9).map(lambda b: base64.b64encode(b).decode())
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
json_objects = st.dictionaries(st.text(max_size=6), json_values, max_size=3)
mimes = st.sampled_from(["image/png", "image/jpeg", "application/pdf", "audio/wav"])


def _optional(draw: st.DrawFn, key: str, strategy: st.SearchStrategy[Any]) -> Obj:
    return {key: draw(strategy)} if draw(st.booleans()) else {}


@st.composite
def schemas(draw: st.DrawFn, gemini_types: bool = True) -> Obj:
    kinds = ["STRING", "INTEGER", "string", "number", "boolean"] if gemini_types else ["string"]
    props: Obj = draw(
        st.dictionaries(names, st.builds(lambda t: {"type": t}, st.sampled_from(kinds)), max_size=3)
    )
    schema: Obj = {
        "type": draw(st.sampled_from(["OBJECT", "object"] if gemini_types else ["object"]))
    }
    with_properties, with_required = draw(st.booleans()), draw(st.booleans())
    if props or with_properties:
        schema["properties"] = props
    if props and with_required:
        schema["required"] = sorted(props)[:1]
    return schema | _optional(draw, "description", texts)


@st.composite
def user_parts(draw: st.DrawFn) -> Obj:
    kind = draw(st.sampled_from(["text", "inline", "file", "response"]))
    if kind == "text":
        return {"text": draw(texts)}
    if kind == "inline":
        return {"inlineData": {"mimeType": draw(mimes), "data": draw(sigs)}}
    if kind == "file":
        uri = "gs://bucket/" + draw(names)
        return {"fileData": {"mimeType": draw(mimes), "fileUri": uri}}
    response: Obj = {"name": draw(names), "response": draw(json_objects)}
    return {"functionResponse": response | _optional(draw, "id", names)}


@st.composite
def model_parts(draw: st.DrawFn, to_client: bool = False) -> Obj:
    kind = draw(st.sampled_from(["text", "thought", "call"]))
    sig = _optional(draw, "thoughtSignature", sigs)
    if kind == "text":
        return {"text": draw(texts)} | sig
    if kind == "thought":
        return {"text": draw(texts), "thought": True} | (
            sig if to_client else {"thoughtSignature": draw(sigs)}
        )
    call: Obj = {"name": draw(names), "args": draw(json_objects)}
    return {"functionCall": call | _optional(draw, "id", names)} | sig


@st.composite
def generation_configs(draw: st.DrawFn) -> Obj:
    config: Obj = {}
    config |= _optional(draw, "temperature", st.floats(0, 2))
    config |= _optional(draw, "topP", st.floats(0, 1))
    config |= _optional(draw, "topK", st.integers(1, 100))
    config |= _optional(draw, "maxOutputTokens", st.integers(1, 65536))
    config |= _optional(draw, "stopSequences", st.lists(texts, min_size=1, max_size=3))
    config |= _optional(draw, "seed", st.integers(0, 2**31))
    config |= _optional(draw, "candidateCount", st.integers(1, 4))
    config |= _optional(draw, "presencePenalty", st.floats(-2, 2))
    thinking = st.fixed_dictionaries(
        {},
        optional={
            "thinkingBudget": st.sampled_from([-1, 0, 128, 1024, 24576]),
            "includeThoughts": st.booleans(),
            "thinkingLevel": st.sampled_from(["LOW", "MEDIUM", "HIGH", "MINIMAL"]),
        },
    )
    config |= _optional(draw, "thinkingConfig", thinking)
    output = draw(st.sampled_from(["none", "json", "schema", "json_schema", "text", "enum"]))
    json: Obj = {"responseMimeType": "application/json"}
    outputs: dict[str, Obj] = {
        "none": {},
        "json": json,
        "schema": json | {"responseSchema": draw(schemas())},
        "json_schema": json | {"responseJsonSchema": draw(schemas(gemini_types=False))},
        "text": {"responseMimeType": "text/plain"},
        "enum": {"responseMimeType": "text/x.enum", "responseSchema": {"type": "STRING"}},
    }
    config |= outputs[output]
    return config


@st.composite
def requests(draw: st.DrawFn) -> Obj:
    turns = draw(st.integers(1, 5))
    contents = [
        {
            "role": "user" if i % 2 == 0 else "model",
            "parts": draw(
                st.lists(user_parts() if i % 2 == 0 else model_parts(), min_size=1, max_size=4)
            ),
        }
        for i in range(turns)
    ]
    body: Obj = {"contents": contents}
    if draw(st.booleans()):
        system: Obj = {
            "parts": draw(st.lists(st.builds(lambda t: {"text": t}, texts), min_size=1, max_size=2))
        }
        body["systemInstruction"] = system | _optional(draw, "role", st.just("user"))
    tools: list[Obj] = []
    declarations = draw(
        st.lists(
            st.builds(
                lambda name, extra: {"name": name} | extra,
                names,
                st.fixed_dictionaries(
                    {},
                    optional={"description": texts, "behavior": st.just("NON_BLOCKING")},
                ),
            ),
            max_size=3,
        )
    )
    for declaration in declarations:
        key = draw(st.sampled_from(["parameters", "parametersJsonSchema", None]))
        if key:
            declaration[key] = draw(schemas(gemini_types=key == "parameters"))
    if declarations:
        tools.append({"functionDeclarations": declarations})
    if draw(st.booleans()):
        tools.append({"googleSearch": {}})
    if tools:
        body["tools"] = tools
    if draw(st.booleans()):
        calling: Obj = {"mode": draw(st.sampled_from(["AUTO", "ANY", "NONE", "VALIDATED"]))}
        calling |= _optional(draw, "allowedFunctionNames", st.lists(names, min_size=1, max_size=2))
        body["toolConfig"] = {"functionCallingConfig": calling}
    generation = draw(generation_configs())
    if generation:
        body["generationConfig"] = generation
    body |= _optional(
        draw,
        "safetySettings",
        st.just([{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}]),
    )
    body |= _optional(draw, "cachedContent", st.just("cachedContents/abc"))
    return body


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_request_round_trip(body: Obj) -> None:
    request = gemini.decode_request(copy.deepcopy(body), model="models/gemini-2.5-flash")
    assert request.model == "gemini-2.5-flash"
    ids = [p.id for m in request.messages for p in m.parts if isinstance(p, ir.ToolCall)]
    assert len(set(ids)) == len(ids) or any("id" in c for c in _calls(body))
    assert all(r.name for m in request.messages for r in m.parts if isinstance(r, ir.ToolResult))
    assert gemini.count_tokens_estimate(request) >= 1
    assert gemini.encode_request(request) == body


def _calls(body: Obj) -> list[Obj]:
    parts = [p for c in body["contents"] for p in c["parts"]]
    return [p["functionCall"] for p in parts if "functionCall" in p]


@st.composite
def usage_metadata(draw: st.DrawFn) -> Obj:
    prompt, candidates = draw(st.integers(0, 10**6)), draw(st.integers(0, 10**5))
    meta: Obj = {"promptTokenCount": prompt, "candidatesTokenCount": candidates}
    thoughts = draw(st.one_of(st.none(), st.integers(0, 10**5)))
    cached = draw(st.one_of(st.none(), st.integers(0, prompt)))
    total = prompt + candidates + (thoughts or 0)
    meta["totalTokenCount"] = draw(st.sampled_from([total, total + 3]))  # + tool-use prompt
    if thoughts is not None:
        meta["thoughtsTokenCount"] = thoughts
    if cached is not None:
        meta["cachedContentTokenCount"] = cached
    meta |= _optional(
        draw, "promptTokensDetails", st.just([{"modality": "TEXT", "tokenCount": prompt}])
    )
    return meta


@st.composite
def responses(draw: st.DrawFn) -> Obj:
    candidate: Obj = {
        "content": {
            "role": "model",
            "parts": draw(st.lists(model_parts(to_client=True), max_size=5)),
        },
        "finishReason": draw(
            st.sampled_from(
                [
                    "STOP",
                    "MAX_TOKENS",
                    "SAFETY",
                    "RECITATION",
                    "OTHER",
                    "LANGUAGE",
                    "MALFORMED_FUNCTION_CALL",
                    "BLOCKLIST",
                    "SPII",
                ]
            )
        ),
        "index": 0,
    }
    candidate |= _optional(
        draw,
        "safetyRatings",
        st.just([{"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"}]),
    )
    candidate |= _optional(draw, "avgLogprobs", st.floats(-5, 0))
    body: Obj = {
        "candidates": [candidate],
        "usageMetadata": draw(usage_metadata()),
        "modelVersion": draw(names),
        "responseId": draw(names),
    }
    return body | _optional(draw, "createTime", st.just("2026-11-26T00:00:00Z"))


@settings(max_examples=60, deadline=None)
@given(responses())
def test_response_round_trip(body: Obj) -> None:
    response = gemini.decode_response(copy.deepcopy(body))
    meta = body["usageMetadata"]
    assert response.usage.input == meta["promptTokenCount"]
    assert response.usage.output == meta["candidatesTokenCount"] + meta.get("thoughtsTokenCount", 0)
    assert response.stop is not ir.Stop.TOOL_USE or response.tool_calls
    assert gemini.encode_response(response) == body


@settings(max_examples=30, deadline=None)
@given(responses())
def test_response_through_the_stream_says_the_same(body: Obj) -> None:
    """A complete response streamed as one chunk decodes to the same parts and stop."""
    response = gemini.decode_response(copy.deepcopy(body))
    decoder = gemini.StreamDecoder()
    events = decoder.feed(b"data: " + orjson.dumps(body) + b"\r\n\r\n")
    events += decoder.close()
    finish = events[-1]
    assert isinstance(finish, ir.Finish)
    assert finish.stop is response.stop
    assert finish.usage == response.usage
    text = "".join(e.text for e in events if isinstance(e, ir.TextDelta))
    assert text == response.text
    starts = [e.name for e in events if isinstance(e, ir.ToolCallStart)]
    assert starts == [c.name for c in response.tool_calls]
