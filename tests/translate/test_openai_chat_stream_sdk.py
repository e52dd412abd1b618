"""OpenAI Chat Completions stream encoder: valid streams, proven with the official SDK.

The encoded bytes are checked against the rules of clients.md §2 (``data:`` lines only, every
chunk with ``object`` and ``choices[].index``, the role chunk first, the finish chunk, the
usage chunk only when asked, ``[DONE]`` last, an error event ending a failed stream), fed
back through the decoder (Hypothesis), and served from a tiny aiohttp server on 127.0.0.1
to ``openai.AsyncOpenAI``: raw ``stream=True`` iteration and the
``client.chat.completions.stream()`` helper, with ``include_usage`` on and off.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import openai
import orjson
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from omni import ir
from omni.translate import openai_chat
from tests.fakes.dialects_common import Ctx
from tests.fakes.dialects_openai import chat_events
from tests.fakes.upstream import Reply, ToolCall

USAGE = ir.Usage(input=30, output=20, cache_read=10, reasoning=5)
EVENTS: list[ir.Event] = [
    ir.Start("ignored", "ignored"),
    ir.ReasoningDelta("Let me think"),
    ir.ReasoningDelta("", signature="sig"),
    ir.TextDelta("Hello, "),
    ir.TextDelta("wörld 🌍"),
    ir.ToolCallStart(0, "call_a", "get_weather"),
    ir.ToolCallStart(1, "call_b", "get_time"),
    ir.ToolCallDelta(0, '{"city":'),
    ir.ToolCallDelta(1, '{"tz":"CET"}'),
    ir.ToolCallDelta(0, '"Paris"}'),
    ir.UsageUpdate(USAGE),
    ir.Finish(ir.Stop.TOOL_USE),
]
TOOLS: Any = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
]


def encode(events: list[ir.Event], include_usage: bool = False) -> bytes:
    encoder = openai_chat.StreamEncoder("gpt-test", "chatcmpl-test", include_usage=include_usage)
    return b"".join(encoder.encode(e) for e in events)


def frames(stream: bytes) -> list[Any]:
    """The ``data:`` payloads of ``stream``, JSON-parsed (``"[DONE]"`` kept as text); every
    event must be exactly one ``data:`` line."""
    assert stream.endswith(b"\n\n")
    out: list[Any] = []
    for event in stream[:-2].split(b"\n\n"):
        assert event.startswith(b"data: ") and b"\n" not in event, event
        data = event[6:]
        out.append("[DONE]" if data == b"[DONE]" else orjson.loads(data))
    return out


def check_chunks(items: list[Any]) -> None:
    for item in items:
        if item == "[DONE]" or "error" in item:
            continue
        assert item["object"] == "chat.completion.chunk"
        assert (item["id"], item["model"]) == ("chatcmpl-test", "gpt-test")
        assert isinstance(item["created"], int)
        assert all(isinstance(choice["index"], int) for choice in item["choices"])
    first = items[0]
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}


@pytest.mark.parametrize("include_usage", [True, False])
def test_encoded_stream_follows_the_sdk_rules(include_usage: bool) -> None:
    items = frames(encode(EVENTS, include_usage))
    check_chunks(items)
    assert items[-1] == "[DONE]"
    deltas = [i["choices"][0]["delta"] for i in items if isinstance(i, dict) and i["choices"]]
    assert deltas[1:4] == [
        {"reasoning_content": "Let me think"},
        {"content": "Hello, "},
        {"content": "wörld 🌍"},
    ]
    assert deltas[4]["tool_calls"] == [
        {"index": 0, "id": "call_a", "type": "function",
         "function": {"name": "get_weather", "arguments": ""}}
    ]  # fmt: skip
    finish = [i for i in items if isinstance(i, dict) and i["choices"]][-1]["choices"][0]
    assert (finish["delta"], finish["finish_reason"]) == ({}, "tool_calls")
    usage = [i for i in items if isinstance(i, dict) and "usage" in i]
    if include_usage:
        assert items[-2]["choices"] == [] and usage == [items[-2]]
        assert items[-2]["usage"] == {
            "prompt_tokens": 30,
            "completion_tokens": 20,
            "total_tokens": 50,
            "prompt_tokens_details": {"cached_tokens": 10},
            "completion_tokens_details": {"reasoning_tokens": 5},
        }
    else:
        assert usage == []


def test_start_is_synthesized_and_failure_ends_the_stream() -> None:
    encoder = openai_chat.StreamEncoder("gpt-test", "chatcmpl-test")
    stream = encoder.encode(ir.TextDelta("par")) + encoder.encode(ir.Failure(429, "slow down"))
    items = frames(stream)
    check_chunks(items)
    assert items[1]["choices"][0]["delta"] == {"content": "par"}
    assert items[2] == {
        "error": {
            "message": "slow down",
            "type": "rate_limit_error",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    assert encoder.encode(ir.TextDelta("more")) == b""
    assert encoder.encode(ir.Finish(ir.Stop.END)) == b""
    first = frames(openai_chat.StreamEncoder("m", "r").encode(ir.Failure(502, "down", "x")))
    assert first[-1]["error"]["code"] == "x"


def test_usage_from_start_or_finish() -> None:
    events: list[ir.Event] = [
        ir.Start("r", "m", usage=ir.Usage(input=7)),
        ir.Finish(ir.Stop.MAX_TOKENS),
    ]
    items = frames(encode(events, include_usage=True))
    assert items[-3]["choices"][0]["finish_reason"] == "length"
    assert items[-2]["usage"]["prompt_tokens"] == 7
    items = frames(encode([ir.Finish(ir.Stop.END, ir.Usage(1, 2))], include_usage=True))
    assert items[-2]["usage"]["total_tokens"] == 3


# -- encoder → decoder ------------------------------------------------------------------

PIECE = st.text(st.characters(codec="utf-8", exclude_characters="<"), min_size=1, max_size=8)


@st.composite
def answers(draw: st.DrawFn) -> list[ir.Event]:
    events: list[ir.Event] = [ir.Start("x", "y")]
    events += [ir.ReasoningDelta(t) for t in draw(st.lists(PIECE, max_size=3))]
    events += [ir.TextDelta(t) for t in draw(st.lists(PIECE, max_size=3))]
    calls = draw(st.integers(0, 3))
    events += [ir.ToolCallStart(i, f"call_{i}", f"fn{i}") for i in range(calls)]
    for index in draw(st.lists(st.integers(0, calls - 1), max_size=6)) if calls else []:
        events.append(ir.ToolCallDelta(index, draw(PIECE)))
    stops = [ir.Stop.TOOL_USE, ir.Stop.MAX_TOKENS] if calls else list(ir.Stop)
    count = st.integers(0, 10**6)
    usage = ir.Usage(draw(count), draw(count), draw(count), None, draw(st.integers(0, 9)))
    return [*events, ir.Finish(draw(st.sampled_from(stops)), usage)]


def _merged(events: list[ir.Event]) -> list[ir.Event]:
    out: list[ir.Event] = []
    for event in events:
        last = out[-1] if out else None
        if isinstance(event, ir.TextDelta) and isinstance(last, ir.TextDelta):
            out[-1] = ir.TextDelta(last.text + event.text)
        elif isinstance(event, ir.ReasoningDelta) and isinstance(last, ir.ReasoningDelta):
            out[-1] = ir.ReasoningDelta(last.text + event.text)
        else:
            out.append(event)
    return out


_SAME_STOP = {ir.Stop.STOP_SEQUENCE: ir.Stop.END, ir.Stop.ERROR: ir.Stop.END}
_SAME_STOP[ir.Stop.REFUSAL] = ir.Stop.CONTENT_FILTER


@settings(max_examples=100, deadline=None)
@given(answers())
def test_encoder_output_decodes_to_the_same_events(events: list[ir.Event]) -> None:
    decoder = openai_chat.StreamDecoder()
    decoded = decoder.feed(encode(events, include_usage=True)) + decoder.close()
    finish = events[-1]
    assert isinstance(finish, ir.Finish)
    stop = _SAME_STOP.get(finish.stop, finish.stop)
    expected = [
        ir.Start("chatcmpl-test", "gpt-test"),
        *events[1:-1],
        ir.UsageUpdate(finish.usage or ir.Usage()),
        ir.Finish(stop, finish.usage),
    ]
    assert _merged(decoded) == _merged(expected)


# -- the official SDK -------------------------------------------------------------------

Serve = Callable[[bytes], Awaitable[openai.AsyncOpenAI]]


@pytest.fixture
async def serve(aiohttp_server: Any) -> Any:
    """Serves fixed stream bytes at /v1/chat/completions; yields an SDK client for them."""
    clients: list[openai.AsyncOpenAI] = []

    async def start(payload: bytes) -> openai.AsyncOpenAI:
        async def handler(request: web.Request) -> web.Response:
            body = await request.json()
            assert body["stream"] is True
            return web.Response(body=payload, content_type=openai_chat.STREAM_CONTENT_TYPE)

        app = web.Application()
        app.router.add_post("/v1/chat/completions", handler)
        server = await aiohttp_server(app, host="127.0.0.1")
        url = str(server.make_url("/v1"))
        client = openai.AsyncOpenAI(base_url=url, api_key="test", max_retries=0)
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


ASK: Any = [{"role": "user", "content": "weather and time in Paris?"}]


@pytest.mark.parametrize("include_usage", [True, False])
async def test_sdk_raw_stream(serve: Serve, include_usage: bool) -> None:
    client = await serve(encode(EVENTS, include_usage))
    stream = await client.chat.completions.create(
        model="gpt-test",
        messages=ASK,
        stream=True,
        stream_options={"include_usage": include_usage},
    )
    text, reasoning, usages, finishes = "", "", [], []
    arguments: dict[int, list[str]] = {}
    async for part in stream:
        assert (part.id, part.model, part.object) == (
            "chatcmpl-test",
            "gpt-test",
            "chat.completion.chunk",
        )
        if part.usage is not None:
            usages.append(part.usage)
        for choice in part.choices:
            text += choice.delta.content or ""
            reasoning += getattr(choice.delta, "reasoning_content", None) or ""
            for call in choice.delta.tool_calls or []:
                entry = arguments.setdefault(call.index, ["", ""])
                entry[0] += (call.function.name or "") if call.function else ""
                entry[1] += (call.function.arguments or "") if call.function else ""
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
    assert (text, reasoning) == ("Hello, wörld 🌍", "Let me think")
    assert arguments == {0: ["get_weather", '{"city":"Paris"}'], 1: ["get_time", '{"tz":"CET"}']}
    assert finishes == ["tool_calls"]
    if include_usage:
        (usage,) = usages
        assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (30, 20, 50)
        assert usage.prompt_tokens_details and usage.prompt_tokens_details.cached_tokens == 10
        assert usage.completion_tokens_details
        assert usage.completion_tokens_details.reasoning_tokens == 5
    else:
        assert usages == []


@pytest.mark.parametrize("include_usage", [True, False])
async def test_sdk_stream_helper_final_completion(serve: Serve, include_usage: bool) -> None:
    client = await serve(encode(EVENTS, include_usage))
    kinds: list[str] = []
    async with client.chat.completions.stream(
        model="gpt-test",
        messages=ASK,
        tools=TOOLS,
        stream_options={"include_usage": include_usage},
    ) as stream:
        async for event in stream:
            kinds.append(event.type)
        final = await stream.get_final_completion()
    assert "content.delta" in kinds and "content.done" in kinds
    assert kinds.count("tool_calls.function.arguments.done") == 2
    message = final.choices[0].message
    assert message.content == "Hello, wörld 🌍"
    assert final.choices[0].finish_reason == "tool_calls"
    calls = [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []]
    assert calls == [
        ("call_a", "get_weather", '{"city":"Paris"}'),
        ("call_b", "get_time", '{"tz":"CET"}'),
    ]
    if include_usage:
        assert final.usage is not None and final.usage.total_tokens == 50
    else:
        assert final.usage is None


async def test_sdk_helper_on_a_translated_fake_upstream_stream(serve: Serve) -> None:
    """Fake upstream bytes → StreamDecoder → StreamEncoder → the SDK helper."""
    reply = Reply(
        text="It is 18C in Paris.",
        reasoning="Look it up",
        tool_calls=[ToolCall("get_weather", '{"city":"Paris"}', id="call_9")],
        finish="tool_calls",
    )
    ctx = Ctx(model="up", request={"stream_options": {"include_usage": True}}, seq=1, created=1)
    decoder = openai_chat.StreamDecoder()
    encoder = openai_chat.StreamEncoder("gpt-test", "chatcmpl-test", include_usage=True)
    payload = b""
    for piece in chat_events(reply, ctx):
        payload += b"".join(encoder.encode(e) for e in decoder.feed(piece))
    payload += b"".join(encoder.encode(e) for e in decoder.close())
    client = await serve(payload)
    async with client.chat.completions.stream(
        model="gpt-test", messages=ASK, tools=TOOLS
    ) as stream:
        final = await stream.get_final_completion()
    assert final.choices[0].message.content == "It is 18C in Paris."
    (call,) = final.choices[0].message.tool_calls or []
    assert (call.id, call.function.name, call.function.arguments) == (
        "call_9",
        "get_weather",
        '{"city":"Paris"}',
    )
    assert final.usage is not None and final.usage.prompt_tokens == 11


async def test_sdk_raises_the_error_event(serve: Serve) -> None:
    events: list[ir.Event] = [ir.TextDelta("partial"), ir.Failure(502, "upstream broke")]
    client = await serve(encode(events))
    stream = await client.chat.completions.create(model="gpt-test", messages=ASK, stream=True)
    seen = ""
    with pytest.raises(openai.APIError, match="upstream broke"):
        async for part in stream:
            seen += part.choices[0].delta.content or ""
    assert seen == "partial"
    client = await serve(encode(events))
    with pytest.raises(openai.APIError, match="upstream broke"):
        async with client.chat.completions.stream(model="gpt-test", messages=ASK) as helper:
            await helper.get_final_completion()
