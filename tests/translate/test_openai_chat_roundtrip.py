"""OpenAI Chat Completions round trips under Hypothesis: dialect → IR → dialect.

The strategies build valid Chat Completions requests (every message role, content parts,
tool calls and results, tools and tool choice, every option, unknown fields) and answers
(text, reasoning, refusals, tool calls, finish reasons, usage with details, extra fields).
After ``encode(decode(body))`` the body must equal the original after :func:`normal_request`
or :func:`normal_response`, which apply exactly the rewrites the codec makes on purpose:

Requests
  1. ``stream: false`` is left out; a streaming request always asks the upstream for usage
     (``stream_options.include_usage: true``) so the gateway can count tokens.
  2. ``stop`` given as one string is sent as a one-element list.
  3. ``parallel_tool_calls`` beside tools and no ``tool_choice`` gets ``tool_choice: "auto"``.
  4. A user, assistant or tool content array made only of plain text parts is sent as one
     string (system and developer arrays are kept as given).
  5. Assistant content that is empty or null becomes null beside tool calls and ``""``
     without them.

Answers
  1. ``content`` is ``""`` when there is nothing else in the message and null beside tool
     calls or a refusal; ``refusal`` is always present (null when there is none).
  2. The finish reason ``stop`` beside tool calls reads ``tool_calls``; a missing one ``stop``.
  3. Usage always has both details objects and ``total_tokens`` = prompt + completion.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from omni.translate import openai_chat

Obj = dict[str, Any]

# No "<" in generated text: a leading "<think>" tag is a deliberate rewrite, tested apart.
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="<"), max_size=12)
WORDS = st.text(st.characters(codec="utf-8", exclude_characters="<"), min_size=1, max_size=12)
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
NAME = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10)
CALL_ID = st.text(ALNUM, min_size=1, max_size=10).map("call_".__add__)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAME, inner, max_size=3),
    max_leaves=6,
)
SCHEMA = st.fixed_dictionaries(
    {
        "type": st.just("object"),
        "properties": st.dictionaries(
            NAME,
            st.fixed_dictionaries({"type": st.sampled_from(["string", "integer"])}),
            max_size=3,
        ),
    },
    optional={"required": st.lists(NAME, max_size=2), "additionalProperties": st.just(False)},
)
ARGUMENTS = st.dictionaries(NAME, JSON, max_size=3).map(lambda value: orjson.dumps(value).decode())
CACHE = {"type": "ephemeral"}
SIGNED = {"google": {"thought_signature": "c2ln"}}  # Gemini's OpenAI endpoint, on tool calls


def _part(kind: str, **fields: Any) -> Obj:
    return {"type": kind, **fields}


TEXT_PART = st.builds(lambda t: _part("text", text=t), TEXT)
CACHED_PART = st.builds(lambda t: _part("text", text=t, cache_control=CACHE), TEXT)
IMAGE_PART = st.builds(
    lambda url, detail: _part(
        "image_url", image_url={"url": url, **({"detail": detail} if detail else {})}
    ),
    st.sampled_from(["https://img.test/a.png", "data:image/jpeg;base64,/9j/4AAQ"]),
    st.sampled_from([None, "low", "high", "auto"]),
)
OTHER_PART = st.sampled_from(
    [
        _part("input_audio", input_audio={"data": "UklGRg==", "format": "wav"}),
        _part("file", file={"file_id": "file-abc"}),
    ]
)
USER_CONTENT = TEXT | st.lists(
    st.one_of(TEXT_PART, CACHED_PART, IMAGE_PART, OTHER_PART), min_size=1, max_size=4
)
SYSTEM_CONTENT = TEXT | st.lists(TEXT_PART | CACHED_PART, min_size=1, max_size=3)
NAME_FIELD = st.fixed_dictionaries({}, optional={"name": NAME})


@st.composite
def system_message(draw: st.DrawFn) -> Obj:
    role = draw(st.sampled_from(["system", "developer"]))
    return {"role": role, "content": draw(SYSTEM_CONTENT), **draw(NAME_FIELD)}


@st.composite
def user_message(draw: st.DrawFn) -> Obj:
    return {"role": "user", "content": draw(USER_CONTENT), **draw(NAME_FIELD)}


@st.composite
def assistant_turn(draw: st.DrawFn) -> list[Obj]:
    """An assistant message, then a tool message for some of its calls."""
    message: Obj = {"role": "assistant"}
    refusal_part = st.builds(lambda t: _part("refusal", refusal=t), TEXT)
    message["content"] = draw(
        st.none() | TEXT | st.lists(TEXT_PART | refusal_part, min_size=1, max_size=2)
    )
    reasoning = draw(st.sampled_from([None, "reasoning_content", "reasoning"]))
    if reasoning:
        message[reasoning] = draw(WORDS)
    message.update(draw(st.fixed_dictionaries({}, optional={"name": NAME, "refusal": st.none()})))
    ids = draw(st.lists(CALL_ID, max_size=3, unique=True))
    if ids:
        message["tool_calls"] = [
            {"id": i, "type": "function",
             "function": {"name": draw(NAME), "arguments": draw(ARGUMENTS)},
             **draw(st.fixed_dictionaries({}, optional={"extra_content": st.just(SIGNED)}))}
            for i in ids
        ]  # fmt: skip
    answers = draw(st.lists(st.sampled_from(ids), unique=True)) if ids else []
    tool_content = TEXT | st.lists(TEXT_PART, min_size=1, max_size=2)
    results = [{"role": "tool", "tool_call_id": i, "content": draw(tool_content)} for i in answers]
    return [message, *results]


@st.composite
def messages(draw: st.DrawFn) -> list[Obj]:
    turns = draw(
        st.lists(
            st.one_of(system_message().map(lambda m: [m]), user_message().map(lambda m: [m]))
            | assistant_turn(),
            max_size=6,
        )
    )
    return [m for turn in turns for m in turn]


FUNCTION_TOOL = st.builds(
    lambda name, extra: {"type": "function", "function": {"name": name, **extra}},
    NAME,
    st.fixed_dictionaries(
        {"parameters": SCHEMA},
        optional={"description": TEXT, "strict": st.booleans()},
    ),
)
CUSTOM_TOOL = st.builds(lambda name: {"type": "custom", "custom": {"name": name}}, NAME)
RESPONSE_FORMAT = st.one_of(
    st.just({"type": "text"}),
    st.just({"type": "json_object"}),
    st.builds(
        lambda name, schema, extra: {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema, **extra},
        },
        NAME,
        SCHEMA,
        st.fixed_dictionaries({}, optional={"strict": st.booleans(), "description": TEXT}),
    ),
)
UNKNOWN = st.fixed_dictionaries(
    {},
    optional={
        "n": st.integers(1, 3),
        "logprobs": st.booleans(),
        "top_logprobs": st.integers(0, 5),
        "presence_penalty": st.floats(-2, 2),
        "frequency_penalty": st.floats(-2, 2),
        "logit_bias": st.dictionaries(
            st.integers(0, 99999).map(str), st.integers(-100, 100), max_size=2
        ),
        "metadata": st.dictionaries(NAME, TEXT, max_size=2),
        "store": st.booleans(),
        "service_tier": st.sampled_from(["auto", "default", "flex"]),
        "prompt_cache_key": NAME,
        "modalities": st.just(["text"]),
        "verbosity": st.sampled_from(["low", "medium", "high"]),
    },
)
OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "temperature": st.floats(0, 2),
        "top_p": st.floats(0, 1),
        "seed": st.integers(-(2**31), 2**31),
        "stop": TEXT | st.lists(WORDS, min_size=1, max_size=4),
        "user": NAME,
        "reasoning_effort": st.sampled_from(["none", "minimal", "low", "medium", "high", "xhigh"]),
        "response_format": RESPONSE_FORMAT,
    },
)


@st.composite
def requests(draw: st.DrawFn) -> Obj:
    body: Obj = {"model": draw(NAME), "messages": draw(messages())}
    tools: list[Obj] = draw(st.lists(FUNCTION_TOOL | CUSTOM_TOOL, max_size=3))
    if tools:
        body["tools"] = tools
        names = [t["function"]["name"] for t in tools if t["type"] == "function"]
        choices: list[Any] = ["auto", "none", "required", None]
        choices += [{"type": "function", "function": {"name": n}} for n in names]
        choices.append({"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}})
        choice = draw(st.sampled_from(choices))
        if choice is not None:
            body["tool_choice"] = choice
        body.update(
            draw(st.fixed_dictionaries({}, optional={"parallel_tool_calls": st.booleans()}))
        )
    limits = draw(
        st.sampled_from(
            [
                (),
                ("max_tokens",),
                ("max_completion_tokens",),
                ("max_tokens", "max_completion_tokens"),
            ]
        )
    )
    for key in limits:
        body[key] = draw(st.integers(1, 200_000))
    body.update(draw(OPTIONS))
    stream = draw(st.sampled_from([None, False, True]))
    if stream is not None:
        body["stream"] = stream
    if stream:
        body.update(
            draw(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "stream_options": st.fixed_dictionaries(
                            {},
                            optional={
                                "include_usage": st.booleans(),
                                "include_obfuscation": st.booleans(),
                            },
                        )
                    },
                )
            )
        )
    body.update(draw(UNKNOWN))
    return body


def _plain_text(content: Any) -> bool:
    return isinstance(content, list) and all(
        isinstance(p, dict) and p.get("type") == "text" and set(p) == {"type", "text"}
        for p in content
    )


def normal_request(body: Obj) -> Obj:
    """``body`` with the rewrites of the module docstring applied."""
    body = copy.deepcopy(body)
    if body.get("stream"):
        body["stream_options"] = {**body.get("stream_options", {}), "include_usage": True}
    else:
        body.pop("stream", None)
    if isinstance(body.get("stop"), str):
        body["stop"] = [body["stop"]]
    if body.get("tools") and "parallel_tool_calls" in body:
        body.setdefault("tool_choice", "auto")
    for message in body["messages"]:
        if message["role"] in ("user", "assistant", "tool") and _plain_text(message["content"]):
            message["content"] = "".join(p["text"] for p in message["content"])
        if message["role"] == "assistant" and not message["content"]:
            message["content"] = None if message.get("tool_calls") else ""
    return body


@settings(max_examples=150, deadline=None)
@given(requests())
def test_request_round_trip(body: Obj) -> None:
    request = openai_chat.decode_request(copy.deepcopy(body))
    assert openai_chat.encode_request(request) == normal_request(body)
    # …and the IR is a fixed point: decoding what was encoded gives the same request.
    again = openai_chat.decode_request(openai_chat.encode_request(request))
    assert openai_chat.encode_request(again) == openai_chat.encode_request(request)


# -- answers ----------------------------------------------------------------------------

DETAIL = st.integers(0, 10_000)


@st.composite
def usages(draw: st.DrawFn) -> Obj:
    prompt, completion = draw(DETAIL), draw(DETAIL)
    usage: Obj = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": draw(st.integers(0, prompt))},
        "completion_tokens_details": {"reasoning_tokens": draw(st.integers(0, completion))},
    }
    if draw(st.booleans()):
        usage["cache_creation_input_tokens"] = draw(st.integers(1, 1000))
    return usage


@st.composite
def answers(draw: st.DrawFn) -> Obj:
    message: Obj = {"role": "assistant", "content": draw(st.none() | TEXT)}
    message["refusal"] = draw(st.none() | WORDS)
    if draw(st.booleans()):
        message["reasoning_content"] = draw(WORDS)
    ids = draw(st.lists(CALL_ID, max_size=3, unique=True))
    if ids:
        message["tool_calls"] = [
            {"id": i, "type": "function",
             "function": {"name": draw(NAME), "arguments": draw(ARGUMENTS)}}
            for i in ids
        ]  # fmt: skip
    message.update(draw(st.fixed_dictionaries({}, optional={"annotations": st.just([])})))
    finish = draw(st.sampled_from(["stop", "length", "tool_calls", "content_filter", None]))
    choice = {
        "index": 0,
        "message": message,
        "logprobs": draw(st.none() | st.just({"content": []})),
        "finish_reason": finish,
    }
    body: Obj = {
        "id": draw(st.text(ALNUM, min_size=1, max_size=12).map("chatcmpl-".__add__)),
        "object": "chat.completion",
        "created": draw(st.integers(1, 2**31)),
        "model": draw(NAME),
        "choices": [choice],
        "usage": draw(usages()),
    }
    extra = {"system_fingerprint": st.just("fp_x"), "service_tier": st.just("default")}
    body.update(draw(st.fixed_dictionaries({}, optional=extra)))
    return body


def normal_response(body: Obj) -> Obj:
    body = copy.deepcopy(body)
    choice = body["choices"][0]
    message = choice["message"]
    busy = message.get("tool_calls") or message.get("refusal")
    message["content"] = message["content"] or (None if busy else "")
    if choice["finish_reason"] in ("stop", None) and message.get("tool_calls"):
        choice["finish_reason"] = "tool_calls"
    choice["finish_reason"] = choice["finish_reason"] or "stop"
    return body


@settings(max_examples=150, deadline=None)
@given(answers())
def test_response_round_trip(body: Obj) -> None:
    response = openai_chat.decode_response(copy.deepcopy(body))
    assert openai_chat.encode_response(response) == normal_response(body)
    assert openai_chat.decode_response(openai_chat.encode_response(response)) == response
