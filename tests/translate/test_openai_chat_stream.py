"""OpenAI Chat Completions stream decoder: real streams, split at every byte, give the same
IR events.

Streams come from the fake upstream's encoder (reasoning, text with multi-byte characters,
tool calls, the usage chunk) and from hand-written bytes for what other upstreams do:
``<think>`` tags split across chunks, parallel tool calls with interleaved argument deltas,
usage after the finish reason, CRLF framing and comments, an error chunk, a stream that
ends without ``[DONE]`` or without anything at all.
"""

from __future__ import annotations

import itertools
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omni import ir
from omni.translate import openai_chat
from tests.fakes.dialects_common import Ctx, split_arguments, split_text
from tests.fakes.dialects_openai import chat_events
from tests.fakes.upstream import Reply, ToolCall, Usage


def decode(*pieces: bytes) -> list[ir.Event]:
    decoder = openai_chat.StreamDecoder()
    events: list[ir.Event] = []
    for piece in pieces:
        events += decoder.feed(piece)
    return events + decoder.close()


def every_split(stream: bytes) -> list[ir.Event]:
    """The events of ``stream``, checked equal whether it comes whole, cut in two at any
    byte, or one byte at a time."""
    whole = decode(stream)
    for cut in range(len(stream) + 1):
        assert decode(stream[:cut], stream[cut:]) == whole, f"split at byte {cut}"
    assert decode(*(stream[i : i + 1] for i in range(len(stream)))) == whole
    return whole


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **top: Any) -> bytes:
    body: dict[str, Any] = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "m"}
    if delta is not None:
        body["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish}]
    body.update(top)
    return b"data: " + orjson.dumps(body) + b"\n\n"


def call(index: int | None, arguments: str, id: str | None = None, name: str | None = None) -> Any:
    entry: dict[str, Any] = {"function": {"arguments": arguments}}
    if index is not None:
        entry["index"] = index
    if id is not None:
        entry.update(id=id, type="function")
        entry["function"]["name"] = name
    return {"tool_calls": [entry]}


DONE = b"data: [DONE]\n\n"
START = ir.Start("chatcmpl-1", "m")
USAGE = {
    "prompt_tokens": 30,
    "completion_tokens": 20,
    "total_tokens": 50,
    "prompt_tokens_details": {"cached_tokens": 10},
    "completion_tokens_details": {"reasoning_tokens": 5},
}
IR_USAGE = ir.Usage(input=30, output=20, cache_read=10, reasoning=5)


def test_fake_upstream_stream_with_everything() -> None:
    reply = Reply(
        text="Héllo wörld - 世界 🌍",
        reasoning="Thinking… ✓ done",
        tool_calls=[
            ToolCall("get_weather", '{"city":"Paris"}', id="call_1"),
            ToolCall("get_time", '{"tz":"CET"}', id="call_2"),
        ],
        usage=Usage(input=30, output=20, cache_read=10, reasoning=5),
        finish="tool_calls",
    )
    ctx = Ctx(model="gpt-4o", request={"stream_options": {"include_usage": True}}, seq=1, created=1)
    events = every_split(b"".join(chat_events(reply, ctx)))
    expected: list[ir.Event] = [ir.Start("chatcmpl-fake1", "gpt-4o")]
    expected += [ir.ReasoningDelta(p) for p in split_text("Thinking… ✓ done", 3)]
    expected += [ir.TextDelta(p) for p in split_text("Héllo wörld - 世界 🌍", 3)]
    for index, tool in enumerate(reply.tool_calls):
        expected.append(ir.ToolCallStart(index, tool.id, tool.name))
        expected += [ir.ToolCallDelta(index, p) for p in split_arguments(tool.arguments)]
    expected += [ir.UsageUpdate(IR_USAGE), ir.Finish(ir.Stop.TOOL_USE, IR_USAGE)]
    assert events == expected


def test_fake_upstream_stream_without_usage_chunk() -> None:
    ctx = Ctx(model="gpt-4o", request={}, seq=2, created=1)
    events = every_split(b"".join(chat_events(Reply(text="short", chunks=1, finish="length"), ctx)))
    assert events[1:] == [ir.TextDelta("short"), ir.Finish(ir.Stop.MAX_TOKENS, None)]


def test_think_tags_split_across_chunks() -> None:
    pieces = ["<th", "ink>", "\n", "Let me", " add.\n", "</thi", "nk>", "\n\n", "The sum", " is 4."]
    stream = chunk({"role": "assistant", "content": ""}) + b"".join(
        chunk({"content": p}) for p in pieces
    )
    stream += chunk({}, "stop") + DONE
    assert every_split(stream) == [
        START,
        ir.ReasoningDelta("Let me"),
        ir.ReasoningDelta(" add."),
        ir.TextDelta("The sum"),
        ir.TextDelta(" is 4."),
        ir.Finish(ir.Stop.END, None),
    ]
    # The same answer in one piece reads as the non-streamed decoder reads it.
    whole = openai_chat.decode_response(
        {"choices": [{"message": {"content": "".join(pieces)}, "finish_reason": "stop"}]}
    )
    assert whole.parts == [ir.Reasoning("Let me add."), ir.Text("The sum is 4.")]


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        (["<think>", "all thought"], [ir.ReasoningDelta("all thought")]),
        (["<thinking about it"], [ir.TextDelta("<thinking about it")]),
        (["<thi"], [ir.TextDelta("<thi")]),
        (["  ", "hi"], [ir.TextDelta("  hi")]),
        (["a <think>b</think>"], [ir.TextDelta("a <think>b</think>")]),
    ],
)
def test_think_edge_cases(pieces: list[str], expected: list[ir.Event]) -> None:
    stream = b"".join(chunk({"content": p}) for p in pieces)
    assert every_split(stream) == [START, *expected, ir.Finish(ir.Stop.END, None)]


def test_reasoning_fields_and_text() -> None:
    stream = (
        chunk({"role": "assistant", "reasoning_content": "deep"})
        + chunk({"reasoning": "er"})
        + chunk({"content": "ok", "reasoning_content": None})
        + chunk({}, "stop", usage=USAGE)
        + DONE
    )
    assert every_split(stream) == [
        START,
        ir.ReasoningDelta("deep"),
        ir.ReasoningDelta("er"),
        ir.TextDelta("ok"),
        ir.UsageUpdate(IR_USAGE),
        ir.Finish(ir.Stop.END, IR_USAGE),
    ]


def test_parallel_tool_calls_with_interleaved_arguments() -> None:
    stream = (
        chunk({"role": "assistant", "content": None})
        + chunk(call(0, "", "call_a", "get_weather"))
        + chunk(call(1, "", "call_b", "get_time"))
        + chunk(call(0, '{"city"'))
        + chunk(call(1, '{"tz"'))
        + chunk(call(0, ':"Paris"}'))
        + chunk(call(1, ':"CET"}'))
        + chunk({}, "tool_calls")
        + chunk(choices=[], usage=USAGE)
        + DONE
    )
    assert every_split(stream) == [
        START,
        ir.ToolCallStart(0, "call_a", "get_weather"),
        ir.ToolCallStart(1, "call_b", "get_time"),
        ir.ToolCallDelta(0, '{"city"'),
        ir.ToolCallDelta(1, '{"tz"'),
        ir.ToolCallDelta(0, ':"Paris"}'),
        ir.ToolCallDelta(1, ':"CET"}'),
        ir.UsageUpdate(IR_USAGE),
        ir.Finish(ir.Stop.TOOL_USE, IR_USAGE),
    ]


def test_tool_calls_without_index_and_upstream_indexes_renumbered() -> None:
    stream = (
        chunk(call(None, '{"a":', "call_x", "f"))
        + chunk(call(None, "1}"))
        + chunk(call(None, "{}", "call_y", "g"))
        + chunk(call(5, "", "call_z", "h"))
        + chunk(call(5, "{}"))
        + chunk({}, "stop")  # some upstreams say "stop" after tool calls
    )
    assert every_split(stream) == [
        START,
        ir.ToolCallStart(0, "call_x", "f"),
        ir.ToolCallDelta(0, '{"a":'),
        ir.ToolCallDelta(0, "1}"),
        ir.ToolCallStart(1, "call_y", "g"),
        ir.ToolCallDelta(1, "{}"),
        ir.ToolCallStart(2, "call_z", "h"),
        ir.ToolCallDelta(2, "{}"),
        ir.Finish(ir.Stop.TOOL_USE, None),
    ]


def test_crlf_framing_comments_event_names_and_garbage() -> None:
    stream = (
        b": OPENROUTER PROCESSING\r\n\r\n"
        + chunk({"content": "a"}).replace(b"\n", b"\r\n")
        + b"data: {this is not json\n\n"
        + b"event: message\n"
        + chunk({"content": "b"})
        + chunk(choices=[{"index": 1, "delta": {"content": "x"}}])  # n > 1: not followed
        + chunk({}, "content_filter").replace(b"\n", b"\r\n")
        + b"data: [DONE]\r\n\r\n"
        + chunk({"content": "after the end"})
    )
    assert every_split(stream) == [
        START,
        ir.TextDelta("a"),
        ir.TextDelta("b"),
        ir.Finish(ir.Stop.CONTENT_FILTER, None),
    ]


def test_error_chunk_is_a_failure_and_ends_the_stream() -> None:
    error = {
        "message": "Rate limit reached",
        "type": "rate_limit_error",
        "code": "rate_limit_exceeded",
    }
    stream = chunk({"content": "par"}) + b"data: " + orjson.dumps({"error": error}) + b"\n\n"
    stream += chunk({"content": "ignored"}) + DONE
    assert every_split(stream) == [
        START,
        ir.TextDelta("par"),
        ir.Failure(502, "Rate limit reached", "rate_limit_exceeded"),
    ]
    only = b'data: {"error": "overloaded"}\n\n'
    assert every_split(only) == [ir.Failure(502, "overloaded", None)]


def test_stream_ending_without_done() -> None:
    finished = chunk({"content": "hi"}) + chunk({}, "length", usage=USAGE)
    assert every_split(finished) == [
        START,
        ir.TextDelta("hi"),
        ir.UsageUpdate(IR_USAGE),
        ir.Finish(ir.Stop.MAX_TOKENS, IR_USAGE),
    ]
    # Cut mid-answer, and the last event not even terminated by a blank line.
    cut = chunk({"content": "<think>hm"}) + chunk({"content": "m"})[:-2]
    assert every_split(cut) == [
        START,
        ir.ReasoningDelta("hm"),
        ir.ReasoningDelta("m"),
        ir.Finish(ir.Stop.END, None),
    ]


@pytest.mark.parametrize("stream", [b"", b": keep-alive\n\n", b"data: {broken", DONE])
def test_stream_without_an_answer_fails_or_finishes_empty(stream: bytes) -> None:
    events = every_split(stream)
    if stream == DONE:
        assert events == [ir.Finish(ir.Stop.END, None)]
    else:
        assert len(events) == 1 and isinstance(events[0], ir.Failure)
        assert events[0].status == 502


def test_nothing_after_the_end() -> None:
    decoder = openai_chat.StreamDecoder()
    assert decoder.feed(chunk({"content": "x"}) + DONE)[-1] == ir.Finish(ir.Stop.END, None)
    assert decoder.feed(chunk({"content": "y"})) == []
    assert decoder.close() == []


LONG = (
    chunk({"role": "assistant", "content": ""})
    + chunk({"reasoning_content": "Überlegung: 2·2"})
    + chunk({"content": "Résultat : 4 ✓ — 🎉"})
    + chunk(call(0, '{"q":"日本"}', "call_1", "search"))
    + chunk({}, "tool_calls")
    + chunk(choices=[], usage=USAGE)
    + DONE
)
LONG_EVENTS = decode(LONG)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, len(LONG)), max_size=25))
def test_any_multi_split_gives_the_same_events(cuts: list[int]) -> None:
    points = [0, *sorted(cuts), len(LONG)]
    pieces = [LONG[a:b] for a, b in itertools.pairwise(points)]
    assert decode(*pieces) == LONG_EVENTS
    assert LONG_EVENTS[-1] == ir.Finish(ir.Stop.TOOL_USE, IR_USAGE)


def test_null_id_and_model_are_tolerated() -> None:
    events = decode(b'data: {"id":null,"model":null,"choices":[{"delta":{"content":"x"}}]}\n\n')
    start = events[0]
    assert isinstance(start, ir.Start) and start.model == ""
    assert start.id.startswith("chatcmpl-")  # synthesized, so it differs on every decode
    assert events[1:] == [ir.TextDelta("x"), ir.Finish(ir.Stop.END, None)]
