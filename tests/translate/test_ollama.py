"""Ollama chat requests ↔ IR: what real clients send, tool-call matching, encoding, errors.

Golden bodies come from the real `ollama` Python client (captured by a tiny aiohttp server)
and from the shapes in docs/reference/clients.md; a Hypothesis round trip checks that an
Ollama body survives Ollama → IR → Ollama with every field it defines.
"""

from __future__ import annotations

import base64
import string
from typing import Any

import ollama
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from omni import ir
from omni.errors import InvalidInputError
from omni.translate import ollama as codec
from omni.translate.codec import codec as codec_of

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n0000").decode()


def add_two_numbers(a: int, b: int) -> int:
    """
    Add two numbers together.

    Args:
      a: First number to add
      b: Second number to add

    Returns:
      int: The sum of a and b
    """
    return a + b


async def _client_body(aiohttp_server: Any, **kwargs: Any) -> dict[str, Any]:
    """The body the real `ollama` client sends for `chat(**kwargs)`."""
    seen: list[dict[str, Any]] = []

    async def chat(request: web.Request) -> web.Response:
        seen.append(await request.json())
        answer = {"model": "m", "message": {"role": "assistant", "content": "x"}, "done": True}
        return web.json_response(answer)

    app = web.Application()
    app.router.add_post("/api/chat", chat)
    server = await aiohttp_server(app)
    client = ollama.AsyncClient(host=f"http://127.0.0.1:{server.port}")
    try:
        await client.chat(**kwargs)
    finally:
        await client.close()  # type: ignore[no-untyped-call]
    return seen[0]


def test_registered_in_the_codec_registry() -> None:
    assert codec_of(ir.Dialect.OLLAMA) is codec
    assert codec.STREAM_CONTENT_TYPE == "application/x-ndjson"


async def test_real_client_body_decodes(aiohttp_server: Any) -> None:
    body = await _client_body(
        aiohttp_server,
        model="llama3.2",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "add", "images": [b"\x89PNG\r\n\x1a\n0000"]},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"function": {"name": "add_two_numbers", "arguments": {"a": 1, "b": 2}}}
                ],
            },
            {"role": "tool", "content": "3", "tool_name": "add_two_numbers"},
        ],
        tools=[add_two_numbers],
        options={"temperature": 0.5, "num_ctx": 4096, "num_predict": 64, "stop": ["\n\n"]},
        think=True,
        format="json",
        keep_alive="5m",
    )
    assert body["stream"] is False and "content" not in body["messages"][2]
    request = codec.decode_request(body)
    assert request == ir.Request(
        model="llama3.2",
        system=[ir.Text("Be brief.")],
        messages=[
            ir.Message("user", [ir.Text("add"), ir.Image(data=PNG, media_type="image/png")]),
            ir.Message(
                "assistant",
                [
                    ir.ToolCall(
                        "call_0",
                        "add_two_numbers",
                        '{"a":1,"b":2}',
                        extras={"ollama": {"synthetic_id": True}},
                    )
                ],
            ),
            ir.Message(
                "user",
                [
                    ir.ToolResult(
                        "call_0",
                        [ir.Text("3")],
                        name="add_two_numbers",
                        extras={"ollama": {"synthetic_id": True}},
                    )
                ],
            ),
        ],
        tools=[
            ir.Tool(
                "add_two_numbers",
                "Add two numbers together.",
                {
                    "type": "object",
                    "required": ["a", "b"],
                    "properties": {
                        "a": {"type": "integer", "description": "First number to add"},
                        "b": {"type": "integer", "description": "Second number to add"},
                    },
                },
            )
        ],
        stream=False,
        max_tokens=64,
        temperature=0.5,
        stop=["\n\n"],
        reasoning=ir.ReasoningConfig(enabled=True, include_thoughts=True),
        response_format=ir.ResponseFormat(type="json_object"),
        extras={"ollama": {"keep_alive": "5m", "options": {"num_ctx": 4096}}},
    )
    again = codec.encode_request(request)
    assert again["messages"][2] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"function": {"name": "add_two_numbers", "arguments": {"a": 1, "b": 2}}}],
    }
    assert again["messages"][3] == {"role": "tool", "content": "3", "tool_name": "add_two_numbers"}
    assert again["options"] == {
        "temperature": 0.5,
        "num_ctx": 4096,
        "num_predict": 64,
        "stop": ["\n\n"],
    }
    assert (again["think"], again["format"], again["keep_alive"]) == (True, "json", "5m")


async def test_real_client_minimal_body(aiohttp_server: Any) -> None:
    body = await _client_body(
        aiohttp_server, model="llama3.2", messages=[{"role": "user", "content": "hi"}]
    )
    assert body["tools"] == []
    request = codec.decode_request(body)
    assert request.messages == [ir.Message("user", [ir.Text("hi")])]
    assert request.tools == [] and request.stream is False and request.extras == {}


def test_stream_defaults_to_true_and_overrides_win() -> None:
    body = {"model": "a", "messages": []}
    assert codec.decode_request(body).stream is True
    assert codec.decode_request({**body, "stream": False}).stream is False
    overridden = codec.decode_request({**body, "stream": False}, model="b", stream=True)
    assert (overridden.model, overridden.stream) == ("b", True)
    assert codec.decode_request({"messages": []}, model="c").model == "c"


def _call(name: str, call_id: str | None = None, **args: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"function": {"name": name, "arguments": args}}
    return {"id": call_id, **out} if call_id else out


def _results(request: ir.Request) -> list[tuple[str, str | None, bool]]:
    return [
        (p.call_id, p.name, bool(p.extras.get("ollama", {}).get("synthetic_id")))
        for m in request.messages
        for p in m.parts
        if isinstance(p, ir.ToolResult)
    ]


def test_tool_results_match_their_calls() -> None:
    messages = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": "", "tool_calls": [_call("a"), _call("b", "given")]},
        {"role": "tool", "content": "B", "tool_name": "b"},  # same name wins
        {"role": "tool", "content": "A"},  # the oldest unanswered of the latest turn
        {"role": "user", "content": "again"},
        {"role": "assistant", "content": "", "tool_calls": [_call("a"), _call("a")]},
        {"role": "tool", "content": "1", "tool_name": "a"},
        {"role": "tool", "content": "2", "tool_call_id": "call_3"},
        {"role": "tool", "content": "orphan"},
    ]
    request = codec.decode_request({"model": "m", "messages": messages})
    calls = [p.id for m in request.messages for p in m.parts if isinstance(p, ir.ToolCall)]
    assert calls == ["call_0", "given", "call_2", "call_3"]
    assert _results(request) == [
        ("given", "b", True),
        ("call_0", "a", True),
        ("call_2", "a", True),
        ("call_3", "a", False),  # given ids are taken as they are
        ("call_4", None, True),  # nothing left to answer: a fresh id
    ]
    # consecutive tool messages form one user turn
    roles = [(m.role, len(m.parts)) for m in request.messages]
    assert roles == [
        ("user", 1),
        ("assistant", 2),
        ("user", 2),
        ("user", 1),
        ("assistant", 2),
        ("user", 3),
    ]


def test_synthesized_ids_avoid_given_ones() -> None:
    messages = [
        {"role": "assistant", "content": "", "tool_calls": [_call("a"), _call("b", "call_0")]}
    ]
    request = codec.decode_request({"model": "m", "messages": messages})
    assert [p.id for p in request.messages[0].parts if isinstance(p, ir.ToolCall)] == [
        "call_0_",
        "call_0",
    ]


def test_given_ids_and_extras_survive() -> None:
    body: dict[str, Any] = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "s", "x_note": 1},
            {
                "role": "assistant",
                "content": "ok",
                "thinking": "hmm",
                "tool_calls": [
                    {
                        "id": "t1",
                        "type": "function",
                        "function": {"index": 0, "name": "f", "arguments": {"q": 1}},
                    },
                ],
            },
            {"role": "tool", "content": "r", "tool_name": "f", "tool_call_id": "t1"},
            {"role": "developer", "content": "d"},
        ],
        "logprobs": True,
    }
    request = codec.decode_request(body)
    assert request.system == [ir.Text("s", extras={"ollama": {"x_note": 1}}), ir.Text("d")]
    assert request.messages[0].parts == [
        ir.Reasoning("hmm"),
        ir.Text("ok"),
        ir.ToolCall(
            "t1", "f", '{"q":1}', extras={"ollama": {"type": "function", "function": {"index": 0}}}
        ),
    ]
    out = codec.encode_request(request)
    first, assistant, tool, _ = body["messages"]
    assert out["messages"] == [first, {"role": "system", "content": "d"}, assistant, tool]
    assert out["logprobs"] is True


@pytest.mark.parametrize(
    ("think", "expected"),
    [
        (False, ir.ReasoningConfig(enabled=False)),
        (True, ir.ReasoningConfig(enabled=True, include_thoughts=True)),
        ("low", ir.ReasoningConfig(effort="low", enabled=True, include_thoughts=True)),
    ],
)
def test_think_decodes(think: object, expected: ir.ReasoningConfig) -> None:
    assert codec.decode_request({"model": "m", "think": think}).reasoning == expected


@pytest.mark.parametrize(
    ("reasoning", "think"),
    [
        (ir.ReasoningConfig(enabled=False, effort="high"), False),
        (ir.ReasoningConfig(effort="none"), False),
        (ir.ReasoningConfig(budget=0), False),
        (ir.ReasoningConfig(effort="medium"), "medium"),
        (ir.ReasoningConfig(effort="minimal"), "low"),
        (ir.ReasoningConfig(effort="max"), "high"),
        (ir.ReasoningConfig(budget=31999), True),
        (ir.ReasoningConfig(adaptive=True), True),
    ],
)
def test_think_encodes(reasoning: ir.ReasoningConfig, think: object) -> None:
    assert codec.encode_request(ir.Request("m", reasoning=reasoning))["think"] == think


def test_options_and_format() -> None:
    schema = {"type": "object", "properties": {"age": {"type": "integer"}}}
    body = {
        "model": "m",
        "format": schema,
        "options": {"top_p": 0.9, "top_k": 40, "seed": 7, "stop": "END", "num_predict": -1},
    }
    request = codec.decode_request(body)
    assert request.response_format == ir.ResponseFormat(type="json_schema", schema=schema)
    assert (request.top_p, request.top_k, request.seed, request.stop) == (0.9, 40, 7, ["END"])
    assert request.max_tokens is None  # -1 (no limit) has no IR home
    assert request.extras == {"ollama": {"options": {"num_predict": -1}}}
    out = codec.encode_request(request)
    assert out["format"] == schema
    assert out["options"] == {
        "top_p": 0.9,
        "top_k": 40,
        "seed": 7,
        "stop": ["END"],
        "num_predict": -1,
    }
    assert codec.decode_request({"model": "m", "format": ""}).response_format is None


def test_encode_from_another_dialect() -> None:
    """An IR request as an OpenAI or Anthropic client would give it."""
    request = ir.Request(
        model="qwen3",
        system=[ir.Text("one"), ir.Text("two")],
        messages=[
            ir.Message(
                "user",
                [
                    ir.Text("look"),
                    ir.Image(url="https://example.com/cat.png"),
                    ir.Image(url=f"data:image/png;base64,{PNG}"),
                    ir.Text("and this"),
                ],
            ),
            ir.Message(
                "assistant",
                [
                    ir.Reasoning("think", signature="sig"),
                    ir.Reasoning(redacted="opaque"),
                    ir.Text("calling"),
                    ir.ToolCall("toolu_1", "Bash", '{"command": "ls"}'),
                ],
            ),
            ir.Message(
                "user",
                [
                    ir.ToolResult("toolu_1", [ir.Text("a.txt")], is_error=True),
                    ir.Text("thanks"),
                ],
            ),
        ],
        tools=[ir.Tool("Bash", None, {})],
        tool_choice=ir.ToolChoice("none"),
        stream=True,
        max_tokens=1000,
        response_format=ir.ResponseFormat(type="json_schema", schema={"type": "object"}),
        reasoning=ir.ReasoningConfig(budget=2048),
    )
    assert codec.encode_request(request) == {
        "model": "qwen3",
        "stream": True,
        "messages": [
            {"role": "system", "content": "one"},
            {"role": "system", "content": "two"},
            {
                "role": "user",
                "content": "look\n\n[image: https://example.com/cat.png]\n\nand this",
                "images": [PNG],
            },
            {
                "role": "assistant",
                "content": "calling",
                "thinking": "think",
                "tool_calls": [
                    {"id": "toolu_1", "function": {"name": "Bash", "arguments": {"command": "ls"}}}
                ],
            },
            {"role": "tool", "content": "a.txt", "tool_name": "Bash", "tool_call_id": "toolu_1"},
            {"role": "user", "content": "thanks"},
        ],
        "options": {"num_predict": 1000},
        "format": {"type": "object"},
        "think": True,
    }
    request.tool_choice = ir.ToolChoice("auto")
    assert codec.encode_request(request)["tools"] == [
        {
            "type": "function",
            "function": {"name": "Bash", "parameters": {"type": "object", "properties": {}}},
        }
    ]


def test_empty_user_turn_still_encodes() -> None:
    out = codec.encode_request(ir.Request("m", messages=[ir.Message("user")]))
    assert out["messages"] == [{"role": "user", "content": ""}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "request body"),
        ({}, "model"),
        ({"model": 3}, "model"),
        ({"model": "m", "stream": "yes"}, "stream"),
        ({"model": "m", "messages": {}}, "messages"),
        ({"model": "m", "messages": ["hi"]}, "messages[0]"),
        ({"model": "m", "messages": [{"content": "x"}]}, "messages[0].role"),
        ({"model": "m", "messages": [{"role": "bot", "content": "x"}]}, "messages[0].role"),
        ({"model": "m", "messages": [{"role": "user", "content": 1}]}, "messages[0].content"),
        ({"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]}, "content"),
        ({"model": "m", "messages": [{"role": "user", "images": "x"}]}, "messages[0].images"),
        ({"model": "m", "messages": [{"role": "user", "images": [1]}]}, "images[0]"),
        ({"model": "m", "messages": [{"role": "assistant", "thinking": 1}]}, "thinking"),
        ({"model": "m", "messages": [{"role": "assistant", "tool_calls": {}}]}, "tool_calls"),
        ({"model": "m", "messages": [{"role": "assistant", "tool_calls": [1]}]}, "tool_calls[0]"),
        (
            {"model": "m", "messages": [{"role": "assistant", "tool_calls": [{"function": {}}]}]},
            "tool_calls[0].function.name",
        ),
        (
            {
                "model": "m",
                "messages": [{"role": "assistant", "tool_calls": [{**_call("f"), "id": 5}]}],
            },
            "tool_calls[0].id",
        ),
        (
            {
                "model": "m",
                "messages": [
                    {
                        "role": "assistant",
                        "tool_calls": [{"function": {"name": "f", "arguments": 1}}],
                    }
                ],
            },
            "arguments",
        ),
        ({"model": "m", "messages": [{"role": "tool", "tool_name": 1}]}, "tool_name"),
        ({"model": "m", "messages": [{"role": "tool", "tool_call_id": 1}]}, "tool_call_id"),
        ({"model": "m", "tools": {}}, "tools"),
        ({"model": "m", "tools": [{"type": "function"}]}, "tools[0].function"),
        ({"model": "m", "tools": [{"function": {"name": ""}}]}, "tools[0].function.name"),
        ({"model": "m", "tools": [{"function": {"name": "f", "parameters": []}}]}, "parameters"),
        ({"model": "m", "tools": [{"function": {"name": "f", "description": 1}}]}, "description"),
        ({"model": "m", "tools": [{"function": {"name": "f", "strict": "y"}}]}, "strict"),
        ({"model": "m", "options": []}, "options"),
        ({"model": "m", "options": {"temperature": "hot"}}, "options.temperature"),
        ({"model": "m", "options": {"top_k": 1.5}}, "options.top_k"),
        ({"model": "m", "options": {"num_predict": True}}, "options.num_predict"),
        ({"model": "m", "options": {"stop": [1]}}, "options.stop"),
        ({"model": "m", "format": "xml"}, "format"),
        ({"model": "m", "think": 1}, "think"),
    ],
)
def test_malformed_bodies(body: Any, field: str) -> None:
    with pytest.raises(InvalidInputError, match=field.replace("[", r"\[").replace("]", r"\]")):
        codec.decode_request(body)


# -- Hypothesis: Ollama → IR → Ollama keeps every field ---------------------------------

_names = st.text(string.ascii_letters + "_", min_size=1, max_size=8)
_texts = st.text(max_size=12)
_some_text = st.text(min_size=1, max_size=12)
_scalars = st.none() | st.booleans() | st.integers(-9, 99) | st.text(max_size=6)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
_args = st.dictionaries(st.text(max_size=5), _json, max_size=3)
_images = st.lists(
    st.binary(min_size=1, max_size=9).map(lambda b: base64.b64encode(b).decode()),
    min_size=1,
    max_size=2,
)
_schema = st.dictionaries(_names, st.just({"type": "string"}), max_size=2).map(
    lambda props: {"type": "object", "properties": props}
)


@st.composite
def _turn(draw: st.DrawFn, counter: list[int]) -> list[dict[str, Any]]:
    """An assistant message with tool calls and the tool messages answering them."""
    calls = []
    for _ in range(draw(st.integers(1, 3))):
        counter[0] += 1
        call: dict[str, Any] = {"function": {"name": draw(_names), "arguments": draw(_args)}}
        if draw(st.booleans()):
            call = {"id": f"id_{counter[0]}", **call}
        calls.append(call)
    assistant: dict[str, Any] = {"role": "assistant", "content": draw(_texts), "tool_calls": calls}
    if draw(st.booleans()):
        assistant["thinking"] = draw(_some_text)
    results = []
    for call in calls:
        result = {"role": "tool", "content": draw(_texts), "tool_name": call["function"]["name"]}
        if "id" in call and draw(st.booleans()):
            result["tool_call_id"] = call["id"]
        if draw(st.booleans()):
            result["images"] = draw(_images)
        results.append(result)
    return [assistant, *results]


@st.composite
def _requests(draw: st.DrawFn) -> dict[str, Any]:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": draw(_texts)} for _ in range(draw(st.integers(0, 2)))
    ]
    counter = [0]
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["user", "assistant", "turn"]))
        if kind == "turn":
            messages += draw(_turn(counter))
            continue
        message: dict[str, Any] = {"role": kind, "content": draw(_texts)}
        if kind == "user" and draw(st.booleans()):
            message["images"] = draw(_images)
        if kind == "assistant" and draw(st.booleans()):
            message["thinking"] = draw(_some_text)
        if draw(st.booleans()):
            message["x_custom"] = draw(_json)
        messages.append(message)
    body: dict[str, Any] = {"model": draw(_names), "messages": messages}
    if draw(st.booleans()):
        body["stream"] = draw(st.booleans())
    tools = draw(
        st.lists(
            st.builds(
                lambda n, d, p: {
                    "type": "function",
                    "function": {
                        "name": n,
                        **({"description": d} if d is not None else {}),
                        "parameters": p,
                    },
                },
                _names,
                st.none() | _texts,
                _schema,
            ),
            max_size=2,
        )
    )
    if tools:
        body["tools"] = tools
    options = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "temperature": st.floats(0, 2),
                "top_p": st.floats(0, 1),
                "top_k": st.integers(1, 100),
                "num_predict": st.integers(-2, 4096),
                "stop": st.lists(_some_text, min_size=1, max_size=2),
                "seed": st.integers(0, 2**31),
                "num_ctx": st.integers(256, 32768),
            },
        )
    )
    if options:
        body["options"] = options
    optional = {
        "format": st.just("json") | _schema.filter(bool),
        "think": st.booleans() | st.sampled_from(["low", "medium", "high"]),
        "keep_alive": st.sampled_from(["5m", 0, -1]),
        "logprobs": st.booleans(),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            body[key] = draw(strategy)
    return body


@settings(max_examples=150, deadline=None)
@given(_requests())
def test_round_trip_keeps_every_field(body: dict[str, Any]) -> None:
    expected = {"stream": True, **body}
    assert codec.encode_request(codec.decode_request(body)) == expected
