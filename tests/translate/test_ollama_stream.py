"""Ollama chat answers ↔ IR: complete bodies, NDJSON streams both ways, tags and show.

Upstream bytes come from the fake upstream's Ollama encoders; what the encoders write is fed
to the real `ollama` Python client through a tiny aiohttp server, proving that its pydantic
models and its NDJSON reader accept it.
"""

from __future__ import annotations

import dataclasses
import itertools
import string
from collections.abc import Awaitable, Callable
from typing import Any

import ollama
import orjson
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from omni import ir
from omni.translate import ollama as codec
from tests.fakes.dialects_common import Ctx
from tests.fakes.dialects_others import ollama_events, ollama_json
from tests.fakes.upstream import Reply, ToolCall, Usage

CTX = Ctx(model="llama3", request={}, seq=1, created=1_700_000_000)
Serve = Callable[[bytes], Awaitable[ollama.AsyncClient]]


def _same_ids(events: list[ir.Event]) -> list[ir.Event]:
    """Events with the made-up ids replaced, so runs can be compared."""
    out: list[ir.Event] = []
    for event in events:
        if isinstance(event, ir.Start):
            out.append(dataclasses.replace(event, id="start"))
        elif isinstance(event, ir.ToolCallStart) and event.id.startswith("call_"):
            out.append(dataclasses.replace(event, id=f"call#{event.index}"))
        else:
            out.append(event)
    return out


def _decode(data: bytes, cuts: list[int]) -> list[ir.Event]:
    decoder = codec.StreamDecoder()
    events: list[ir.Event] = []
    bounds = [0, *sorted(set(cuts)), len(data)]
    for a, b in itertools.pairwise(bounds):
        events += decoder.feed(data[a:b])
    return _same_ids(events + decoder.close())


def _lines(data: bytes) -> list[dict[str, Any]]:
    assert data.endswith(b"\n")
    return [orjson.loads(line) for line in data.splitlines()]


# -- complete answers -------------------------------------------------------------------


def test_decode_fake_answer() -> None:
    reply = Reply(
        text="Hi ünïcode",
        reasoning="hmm",
        tool_calls=[ToolCall("lookup", '{"q": "x"}', "call_9")],
        usage=Usage(input=12, output=5),
        finish="tool_calls",
    )
    body = ollama_json(reply, CTX)
    response = codec.decode_response(body)
    assert response.model == "llama3" and response.id.startswith("ollama-")
    assert response.parts == [
        ir.Reasoning("hmm"),
        ir.Text("Hi ünïcode"),
        ir.ToolCall("call_9", "lookup", '{"q":"x"}'),
    ]
    assert response.stop is ir.Stop.TOOL_USE
    assert response.usage == ir.Usage(input=12, output=5)
    assert response.created is not None and response.created > 1_600_000_000
    assert set(response.extras["ollama"]) == {
        "created_at",
        "total_duration",
        "load_duration",
        "prompt_eval_duration",
        "eval_duration",
    }
    assert codec.encode_response(response) == body


@pytest.mark.parametrize(
    ("done_reason", "stop"), [("stop", ir.Stop.END), ("length", ir.Stop.MAX_TOKENS)]
)
def test_decode_stop_reasons(done_reason: str, stop: ir.Stop) -> None:
    body = {"message": {"role": "assistant", "content": "x"}, "done": True}
    response = codec.decode_response({**body, "done_reason": done_reason})
    assert (response.stop, response.text, response.usage) == (stop, "x", ir.Usage())


def test_decode_tolerates_odd_answers() -> None:
    body = {
        "message": {"tool_calls": [1, {"function": {"name": "f", "arguments": [1]}}, {}]},
        "created_at": "not a time",
    }
    response = codec.decode_response(body)
    (call,) = response.tool_calls
    assert (call.name, call.arguments, call.id.startswith("call_")) == ("f", "{}", True)
    assert response.created is None and response.model == ""
    assert codec.encode_response(response)["message"]["tool_calls"] == [
        {"function": {"index": 0, "name": "f", "arguments": {}}}
    ]


def test_huge_integers_do_not_crash() -> None:
    body = {"message": {"tool_calls": [{"function": {"name": "f", "arguments": {"n": 2**70}}}]}}
    (call,) = codec.decode_response(body).tool_calls
    assert call.arguments == '{"n":1180591620717411303424}'


def test_encode_answer_from_another_dialect() -> None:
    response = ir.Response(
        id="msg_1",
        model="claude-x",
        parts=[
            ir.Reasoning("think", signature="sig"),
            ir.Text("Let me look."),
            ir.ToolCall("toolu_1", "Read", '{"path": "a.txt"}'),
        ],
        stop=ir.Stop.TOOL_USE,
        usage=ir.Usage(input=30, output=9, cache_read=20),
        created=1_700_000_000,
    )
    assert codec.encode_response(response) == {
        "model": "claude-x",
        "created_at": "2023-11-14T22:13:20.000000Z",
        "message": {
            "role": "assistant",
            "content": "Let me look.",
            "thinking": "think",
            "tool_calls": [
                {
                    "id": "toolu_1",
                    "function": {"index": 0, "name": "Read", "arguments": {"path": "a.txt"}},
                }
            ],
        },
        "done": True,
        "done_reason": "stop",
        "total_duration": 0,
        "load_duration": 0,
        "prompt_eval_count": 30,
        "prompt_eval_duration": 0,
        "eval_count": 9,
        "eval_duration": 0,
    }
    cut = dataclasses.replace(response, parts=[], stop=ir.Stop.MAX_TOKENS, usage=ir.Usage())
    body = codec.encode_response(cut)
    assert body["done_reason"] == "length" and body["message"] == {
        "role": "assistant",
        "content": "",
    }
    assert (body["prompt_eval_count"], body["eval_count"]) == (0, 0)


_names = st.text(string.ascii_letters, min_size=1, max_size=8)
_json = st.dictionaries(
    st.text(max_size=4), st.none() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=5)
)


@st.composite
def _answers(draw: st.DrawFn) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": draw(st.text(max_size=20))}
    if draw(st.booleans()):
        message["thinking"] = draw(st.text(min_size=1, max_size=20))
    calls = []
    for i in range(draw(st.integers(0, 3))):
        function = {"index": i, "name": draw(_names), "arguments": draw(_json)}
        call_id = draw(st.none() | st.text(string.ascii_letters, min_size=1, max_size=6))
        calls.append({"id": call_id, "function": function} if call_id else {"function": function})
    if calls:
        message["tool_calls"] = calls
    counts = st.integers(0, 10**9)
    return {
        "model": draw(_names),
        "created_at": "2025-06-01T12:00:00.123456789Z",
        "message": message,
        "done": True,
        "done_reason": draw(st.sampled_from(["stop", "length", "unload"])),
        **{
            key: draw(counts)
            for key in (
                "total_duration",
                "load_duration",
                "prompt_eval_count",
                "prompt_eval_duration",
                "eval_count",
                "eval_duration",
            )
        },
    }


@settings(max_examples=100, deadline=None)
@given(_answers())
def test_answer_round_trip_keeps_every_field(body: dict[str, Any]) -> None:
    assert codec.encode_response(codec.decode_response(body)) == body


# -- stream decoding --------------------------------------------------------------------

_CALL = ToolCall("get_weather", '{"city": "Paris", "unit": "°C"}', "fc_7")


def _expected(reply: Reply, stop: ir.Stop) -> list[ir.Event]:
    events: list[ir.Event] = [ir.Start("start", "llama3")]
    events += [ir.ReasoningDelta(p) for p in ("h", "mm") if reply.reasoning]
    events += [ir.TextDelta(p) for p in ("Hé", "llo")]
    if reply.tool_calls:
        events += [
            ir.ToolCallStart(0, "fc_7", "get_weather"),
            ir.ToolCallDelta(0, '{"city":"Paris","unit":"°C"}'),
        ]
    return [*events, ir.Finish(stop, ir.Usage(input=11, output=7))]


@pytest.mark.parametrize(
    ("reply", "stop"),
    [
        (Reply(text="Héllo", chunks=2), ir.Stop.END),
        (Reply(text="Héllo", chunks=2, reasoning="hmm", finish="length"), ir.Stop.MAX_TOKENS),
        (Reply(text="Héllo", chunks=2, tool_calls=[_CALL], finish="tool_calls"), ir.Stop.TOOL_USE),
    ],
)
def test_decode_fake_stream_split_everywhere(reply: Reply, stop: ir.Stop) -> None:
    data = b"".join(ollama_events(reply, CTX))
    expected = _expected(reply, stop)
    assert _decode(data, []) == expected
    for cut in range(1, len(data)):
        assert _decode(data, [cut]) == expected, cut


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 2000), max_size=8))
def test_decode_any_splits(cuts: list[int]) -> None:
    reply = Reply(text="Héllo", chunks=2, reasoning="hmm", tool_calls=[_CALL])
    data = b"".join(ollama_events(reply, CTX)).replace(b"\n", b"\r\n")
    cuts = [c % len(data) for c in cuts]
    assert _decode(data, cuts) == _expected(reply, ir.Stop.TOOL_USE)


def test_decode_tool_call_without_id_and_last_line_without_newline() -> None:
    lines = [
        {
            "model": "m",
            "message": {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"function": {"name": "f", "arguments": {}}}],
            },
            "done": False,
        },
        {"model": "m", "message": {"role": "assistant", "content": ""}, "done": True},
    ]
    data = b"\n\n".join(orjson.dumps(line) for line in lines)
    decoder = codec.StreamDecoder()
    events = decoder.feed(data) + decoder.close()
    assert _same_ids(events) == [
        ir.Start("start", "m"),
        ir.ToolCallStart(0, "call#0", "f"),
        ir.ToolCallDelta(0, "{}"),
        ir.Finish(ir.Stop.TOOL_USE),
    ]


@pytest.mark.parametrize(
    ("data", "tail"),
    [
        (b'{"error":"model \\"x\\" not found"}\n', ir.Failure(502, 'model "x" not found')),
        (
            b'{"message":{"role":"assistant","content":"a"},"done":false}\n{"error":"boom"}\n',
            ir.Failure(502, "boom"),
        ),
        (
            b'{"message":{"role":"assistant","content":"a"},"done":false}\n{not json\n',
            ir.Failure(502, "the upstream sent a malformed NDJSON line"),
        ),
        (b'{"message":{"role":"assistant","content":"a"},"done":false}\n', ir.Finish(ir.Stop.END)),
        (b"", ir.Failure(502, "the upstream closed the stream without an answer")),
        (b"[1]\n", ir.Failure(502, "the upstream sent a malformed NDJSON line")),
    ],
)
def test_decode_broken_streams(data: bytes, tail: ir.Event) -> None:
    decoder = codec.StreamDecoder()
    events = decoder.feed(data)
    if data and isinstance(tail, ir.Failure):  # nothing counts after the end
        events += decoder.feed(b'{"message":{"content":"late"},"done":true}\n')
    events += decoder.close()
    assert events[-1] == tail
    assert sum(isinstance(e, ir.Finish | ir.Failure) for e in events) == 1
    assert decoder.feed(b'{"done":true}\n') == [] and decoder.close() == []


# -- stream encoding --------------------------------------------------------------------

_EVENTS: list[ir.Event] = [
    ir.Start("r1", "qwen3", ir.Usage(input=20)),
    ir.ReasoningDelta("let me "),
    ir.ReasoningDelta(signature="sig"),
    ir.ReasoningDelta("see"),
    ir.TextDelta("Hel"),
    ir.TextDelta(""),
    ir.TextDelta("lo"),
    ir.ToolCallStart(0, "toolu_1", "Read"),
    ir.ToolCallDelta(0, '{"pa'),
    ir.ToolCallDelta(0, 'th": "a"}'),
    ir.ToolCallStart(1, "toolu_2", "Bash"),
    ir.ToolCallDelta(1, '{"command": "ls"}'),
    ir.UsageUpdate(ir.Usage(output=3)),
    ir.Finish(ir.Stop.TOOL_USE, ir.Usage(output=9)),
]


def _encode(events: list[ir.Event]) -> bytes:
    encoder = codec.StreamEncoder("qwen3", "r1")
    return b"".join(encoder.encode(e) for e in events)


def test_encoder_writes_valid_ndjson() -> None:
    lines = _lines(_encode(_EVENTS))
    assert all(line["message"]["role"] == "assistant" for line in lines)
    assert all(line["model"] == "qwen3" and line["created_at"].endswith("Z") for line in lines)
    assert [line["done"] for line in lines] == [False] * 5 + [True]
    assert [line["message"].get("thinking") for line in lines[:2]] == ["let me ", "see"]
    assert "".join(line["message"]["content"] for line in lines) == "Hello"
    assert lines[4]["message"]["tool_calls"] == [
        {"id": "toolu_1", "function": {"index": 0, "name": "Read", "arguments": {"path": "a"}}},
        {"id": "toolu_2", "function": {"index": 1, "name": "Bash", "arguments": {"command": "ls"}}},
    ]
    last = lines[-1]
    assert (last["done_reason"], last["prompt_eval_count"], last["eval_count"]) == ("stop", 20, 9)
    assert {"total_duration", "load_duration", "prompt_eval_duration", "eval_duration"} <= set(last)


def test_encoder_flushes_tool_calls_before_text_and_ends_once() -> None:
    encoder = codec.StreamEncoder("m", "r")
    assert encoder.encode(ir.ToolCallStart(0, "c1", "f")) == b""
    assert encoder.encode(ir.ToolCallDelta(0, "{}")) == b""
    first = _lines(encoder.encode(ir.TextDelta("after")))
    assert [line["message"].get("tool_calls") is not None for line in first] == [True, False]
    encoder.encode(ir.ToolCallStart(1, "c2", "g"))
    end = _lines(encoder.encode(ir.Finish(ir.Stop.MAX_TOKENS)))
    assert end[0]["message"]["tool_calls"][0]["function"]["index"] == 1
    assert end[-1]["done_reason"] == "length" and end[-1]["eval_count"] == 0
    assert encoder.encode(ir.TextDelta("more")) == b""
    assert encoder.encode(ir.Failure(500, "x")) == b""


def test_encoder_failure_ends_the_stream() -> None:
    encoder = codec.StreamEncoder("m", "r")
    head = encoder.encode(ir.TextDelta("a"))
    encoder.encode(ir.ToolCallStart(0, "c1", "f"))  # cut short: never sent
    tail = encoder.encode(ir.Failure(429, "rate limited"))
    assert _lines(head + tail)[-1] == {"error": "rate limited"}
    assert encoder.encode(ir.Finish(ir.Stop.END)) == b""


def test_encoder_output_decodes_to_the_same_events() -> None:
    events = _decode(_encode(_EVENTS), [])
    assert events == [
        ir.Start("start", "qwen3"),
        ir.ReasoningDelta("let me "),
        ir.ReasoningDelta("see"),
        ir.TextDelta("Hel"),
        ir.TextDelta("lo"),
        ir.ToolCallStart(0, "toolu_1", "Read"),
        ir.ToolCallDelta(0, '{"path":"a"}'),
        ir.ToolCallStart(1, "toolu_2", "Bash"),
        ir.ToolCallDelta(1, '{"command":"ls"}'),
        ir.Finish(ir.Stop.TOOL_USE, ir.Usage(input=20, output=9)),
    ]


# -- the real ollama client -------------------------------------------------------------


@pytest.fixture
async def serve(aiohttp_server: Any) -> Any:
    """Serve fixed bytes on /api/chat (plus tags and show) to a real `ollama` client."""
    clients: list[ollama.AsyncClient] = []

    async def start(data: bytes, content_type: str = codec.STREAM_CONTENT_TYPE) -> Any:
        async def chat(request: web.Request) -> web.Response:
            return web.Response(body=data, content_type=content_type)

        async def tags(request: web.Request) -> web.Response:
            return web.json_response(codec.tags(["llama3:latest", "gpt-4o"]))

        async def show(request: web.Request) -> web.Response:
            return web.json_response(codec.show((await request.json())["model"]))

        app = web.Application()
        app.router.add_post("/api/chat", chat)
        app.router.add_get("/api/tags", tags)
        app.router.add_post("/api/show", show)
        server = await aiohttp_server(app)
        client = ollama.AsyncClient(host=f"http://127.0.0.1:{server.port}")
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()  # type: ignore[no-untyped-call]


async def test_client_reads_the_encoded_stream(serve: Any) -> None:
    client = await serve(_encode(_EVENTS))
    parts = [part async for part in await client.chat("qwen3", [], stream=True)]
    assert "".join(p.message.content or "" for p in parts) == "Hello"
    assert "".join(p.message.thinking or "" for p in parts) == "let me see"
    calls = [c for p in parts for c in p.message.tool_calls or []]
    assert [(c.function.name, dict(c.function.arguments)) for c in calls] == [
        ("Read", {"path": "a"}),
        ("Bash", {"command": "ls"}),
    ]
    last = parts[-1]
    assert (last.done, last.done_reason, last.prompt_eval_count, last.eval_count) == (
        True,
        "stop",
        20,
        9,
    )


async def test_client_raises_on_a_stream_error(serve: Any) -> None:
    client = await serve(_encode([ir.TextDelta("a"), ir.Failure(503, "overloaded")]))
    seen = []
    with pytest.raises(ollama.ResponseError, match="overloaded"):
        async for part in await client.chat("m", [], stream=True):
            seen.append(part.message.content)
    assert seen == ["a"]


async def test_client_reads_the_encoded_answer(serve: Any) -> None:
    response = ir.Response(
        id="r",
        model="m",
        parts=[ir.Text("hi"), ir.ToolCall("c1", "f", '{"x": 1}')],
        stop=ir.Stop.TOOL_USE,
        usage=ir.Usage(input=3, output=2),
    )
    client = await serve(orjson.dumps(codec.encode_response(response)), "application/json")
    answer = await client.chat("m", [{"role": "user", "content": "x"}])
    assert (answer.message.role, answer.message.content, answer.done) == ("assistant", "hi", True)
    assert answer.message.tool_calls is not None
    assert dict(answer.message.tool_calls[0].function.arguments) == {"x": 1}
    assert (answer.prompt_eval_count, answer.eval_count) == (3, 2)


async def test_client_reads_tags_and_show(serve: Any) -> None:
    client = await serve(b"")
    listed = await client.list()
    assert [m.model for m in listed.models] == ["llama3:latest", "gpt-4o"]
    assert listed.models[0].details is not None and listed.models[0].size == 0
    shown = await client.show("gpt-4o")
    assert shown.capabilities == ["completion", "tools"] and shown.modelinfo == {}
    tags = codec.tags(["a"])["models"][0]
    assert tags["name"] == tags["model"] == "a"
