"""The Anthropic stream encoder: IR events to SSE that Claude Code and the SDK accept.

``accumulate`` checks the rules the SDK's ``messages.stream()`` helper relies on (clients.md
§2) while building the final message the way the SDK does; where the ``anthropic`` package
is importable the real SDK parses the same bytes too.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omni import ir
from omni.translate import anthropic as an
from omni.translate._common import SSEParser
from tests.fakes.dialects_common import Ctx
from tests.fakes.dialects_others import anthropic_events, anthropic_json
from tests.fakes.upstream import Reply, ToolCall, Usage

Obj = dict[str, Any]


def accumulate(data: bytes) -> Obj:
    """The final message of an encoded stream, asserting every stream rule on the way."""
    assert not data.startswith(b":") and b"\n:" not in data  # no SSE comments
    parser = SSEParser()
    events = [(name, orjson.loads(raw)) for name, raw in parser.feed(data) + parser.close()]
    message: Obj | None = None
    open_index: int | None = None
    buffers: dict[int, str] = {}
    ended = False
    for name, obj in events:
        assert not ended, "nothing may follow message_stop or error"
        assert name == obj["type"], "every event needs its event: line"
        kind = obj["type"]
        if kind == "error":
            assert set(obj["error"]) == {"type", "message"}
            ended = True
            if message is not None:
                message["error"] = obj["error"]
            continue
        if message is None:
            assert kind == "message_start"
            message = copy.deepcopy(obj["message"])
            assert message["content"] == [] and message["stop_reason"] is None
            assert {"input_tokens", "output_tokens"} <= set(message["usage"])
            continue
        if kind == "content_block_start":
            assert open_index is None, "blocks are sequential"
            assert obj["index"] == len(message["content"])
            open_index = obj["index"]
            message["content"].append(copy.deepcopy(obj["content_block"]))
        elif kind == "content_block_delta":
            assert open_index is not None and obj["index"] == open_index
            block, delta = message["content"][open_index], obj["delta"]
            field = {
                "text_delta": ("text", "text"),
                "thinking_delta": ("thinking", "thinking"),
                "signature_delta": ("thinking", "signature"),
                "input_json_delta": ("tool_use", "partial_json"),
            }[delta["type"]]
            assert block["type"] == field[0]
            if delta["type"] == "input_json_delta":
                buffers[open_index] = buffers.get(open_index, "") + delta["partial_json"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            else:
                block[field[1]] += delta[field[1]]
        elif kind == "content_block_stop":
            assert obj["index"] == open_index
            open_index = None
        elif kind == "message_delta":
            assert open_index is None
            message["stop_reason"] = obj["delta"]["stop_reason"]
            message["stop_sequence"] = obj["delta"]["stop_sequence"]
            message["usage"].update(obj["usage"])
            assert "output_tokens" in obj["usage"]
        elif kind == "message_stop":
            assert open_index is None and message["stop_reason"] is not None
            ended = True
        else:
            assert kind == "ping", kind
    assert message is not None and ended, "the stream must end"
    for index, text in buffers.items():  # random test arguments need not be JSON
        try:
            message["content"][index]["input"] = orjson.loads(text) if text else {}
        except orjson.JSONDecodeError:
            message["content"][index]["input"] = None
        message["content"][index]["_json"] = text
    return message


def _encode(events: list[ir.Event], model: str = "claude-x", rid: str = "msg_1") -> bytes:
    encoder = an.StreamEncoder(model, rid)
    out = b"".join(encoder.encode(e) for e in events)
    assert encoder.encode(ir.TextDelta("late")) == b""  # nothing after the end
    return out


REPLY = Reply(
    text="Sure, running it.",
    reasoning="The user wants ls.",
    tool_calls=[
        ToolCall("Bash", '{"command":"ls"}', id="toolu_1"),
        ToolCall("Read", '{"p":"/x"}', id="toolu_2"),
    ],
    finish="tool_calls",
    usage=Usage(input=50, output=20, cache_read=30, cache_write=5),
)
CTX = Ctx("claude-sonnet-4-5", {}, 9, 0)


def _upstream_events(reply: Reply) -> list[ir.Event]:
    decoder = an.StreamDecoder()
    return [
        e for chunk in anthropic_events(reply, CTX) for e in decoder.feed(chunk)
    ] + decoder.close()


def test_anthropic_to_anthropic_stream_rebuilds_the_upstream_message() -> None:
    message = accumulate(_encode(_upstream_events(REPLY), "claude-sonnet-4-5", "msg_fake9"))
    expected = anthropic_json(REPLY, CTX)
    for block in message["content"]:
        block.pop("_json", None)
    expected["usage"].pop("service_tier")
    assert message == expected


def test_text_first_event_synthesizes_message_start() -> None:
    message = accumulate(_encode([ir.TextDelta("hi"), ir.Finish(ir.Stop.END)]))
    assert message == {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-x",
        "content": [{"type": "text", "text": "hi"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 0, "output_tokens": 0},
    }


def test_openai_style_events_interleaved_parallel_tool_calls() -> None:
    events: list[ir.Event] = [
        ir.Start("chatcmpl-1", "gpt-x", ir.Usage(input=10)),
        ir.ReasoningDelta("thinking without signature"),
        ir.TextDelta(""),
        ir.ToolCallStart(0, "call_a", "f"),
        ir.ToolCallDelta(0, '{"a"'),
        ir.ToolCallStart(1, "call_b", "g"),
        ir.ToolCallDelta(1, '{"b":'),
        ir.ToolCallDelta(0, ":1}"),
        ir.ToolCallStart(2, "call_c", "h"),
        ir.ToolCallDelta(2, "{}"),
        ir.ToolCallDelta(1, "2}"),
        ir.ToolCallDelta(7, "unknown call"),
        ir.UsageUpdate(ir.Usage(input=10, output=5, cache_read=4)),
        ir.Finish(ir.Stop.END),  # Gemini-like: STOP although tools were called
    ]
    message = accumulate(_encode(events))
    assert message["content"] == [
        {"type": "thinking", "thinking": "thinking without signature", "signature": ""},
        {"type": "tool_use", "id": "call_a", "name": "f", "input": {"a": 1}, "_json": '{"a":1}'},
        {"type": "tool_use", "id": "call_b", "name": "g", "input": {"b": 2}, "_json": '{"b":2}'},
        {"type": "tool_use", "id": "call_c", "name": "h", "input": {}, "_json": "{}"},
    ]
    assert message["stop_reason"] == "tool_use"
    assert message["usage"] == {"input_tokens": 6, "cache_read_input_tokens": 4, "output_tokens": 5}


def test_signed_thinking_then_more_thinking_opens_a_new_block() -> None:
    events: list[ir.Event] = [
        ir.ReasoningDelta("one"),
        ir.ReasoningDelta(signature="s1"),
        ir.ReasoningDelta("two", signature="s2"),
        ir.ReasoningDelta(redacted="R"),
        ir.TextDelta("answer"),
        ir.ToolCallStart(0, "", "f"),
        ir.TextDelta("after the tool"),
        ir.Finish(ir.Stop.MAX_TOKENS, ir.Usage(output=3)),
    ]
    message = accumulate(_encode(events))
    content = message["content"]
    assert content[:4] == [
        {"type": "thinking", "thinking": "one", "signature": "s1"},
        {"type": "thinking", "thinking": "two", "signature": "s2"},
        {"type": "redacted_thinking", "data": "R"},
        {"type": "text", "text": "answer"},
    ]
    assert content[4]["id"].startswith("toolu_") and content[4]["input"] == {}
    assert content[5] == {"type": "text", "text": "after the tool"}
    assert (message["stop_reason"], message["usage"]["output_tokens"]) == ("max_tokens", 3)


def test_failure_mid_stream_ends_with_an_error_event() -> None:
    data = _encode([ir.Start("x", "m"), ir.TextDelta("par"), ir.Failure(529, "overloaded")])
    assert data.endswith(
        b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error",'
        b'"message":"overloaded"}}\n\n'
    )
    assert accumulate(data)["error"]["type"] == "overloaded_error"
    only = _encode([ir.Failure(429, "slow down")])
    assert only.startswith(b"event: message_start\n")
    assert accumulate(only)["error"] == {"type": "rate_limit_error", "message": "slow down"}


# -- Hypothesis: any event script gives a valid stream that decodes back -------------------

words = st.text(alphabet='ab é👋{}":', min_size=1, max_size=6)


@st.composite
def script(draw: st.DrawFn) -> list[ir.Event]:
    events: list[ir.Event] = []
    calls = 0
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["text", "thinking", "signature", "redacted", "tool"]))
        if kind == "text":
            events.append(ir.TextDelta(draw(words)))
        elif kind == "thinking":
            events.append(ir.ReasoningDelta(draw(words)))
        elif kind == "signature":
            events.append(ir.ReasoningDelta(signature=draw(words)))
        elif kind == "redacted":
            events.append(ir.ReasoningDelta(redacted=draw(words)))
        else:
            events.append(ir.ToolCallStart(calls, f"toolu_{calls}", draw(words)))
            events += [ir.ToolCallDelta(calls, a) for a in draw(st.lists(words, max_size=3))]
            calls += 1
    return events


@settings(max_examples=150, deadline=None)
@given(
    script(),
    st.integers(0, 1000),
    st.none() | st.integers(0, 50),
    st.none() | st.integers(0, 50),
    st.integers(0, 500),
    st.sampled_from(
        [ir.Stop.END, ir.Stop.MAX_TOKENS, ir.Stop.TOOL_USE, ir.Stop.STOP_SEQUENCE, ir.Stop.REFUSAL]
    ),
)
def test_encoded_streams_decode_back_to_the_same_events(
    body: list[ir.Event],
    fresh: int,
    read: int | None,
    write: int | None,
    output: int,
    stop: ir.Stop,
) -> None:
    prompt = ir.Usage(input=fresh + (read or 0) + (write or 0), cache_read=read, cache_write=write)
    sequence = "STOP" if stop is ir.Stop.STOP_SEQUENCE else None
    finish = ir.Finish(stop, ir.Usage(output=output), sequence)
    data = _encode([ir.Start("upstream-id", "upstream-model", prompt), *body, finish])
    accumulate(data)
    decoder = an.StreamDecoder()
    decoded = [e for i in range(0, len(data), 7) for e in decoder.feed(data[i : i + 7])]
    decoded += decoder.close()
    final = ir.Usage(prompt.input, output, read, write)
    has_calls = any(isinstance(e, ir.ToolCallStart) for e in body)
    expected_stop = ir.Stop.TOOL_USE if stop is ir.Stop.END and has_calls else stop
    assert _joined(decoded) == _joined(
        [
            ir.Start("msg_1", "claude-x", prompt),
            *body,
            ir.UsageUpdate(final),
            ir.Finish(expected_stop, final, sequence),
        ]
    )


def _joined(events: list[ir.Event]) -> list[ir.Event]:
    """Adjacent argument deltas of one call as one (calls after the first are buffered)."""
    out: list[ir.Event] = []
    for event in events:
        last = out[-1] if out else None
        same = isinstance(last, ir.ToolCallDelta) and last.index == getattr(event, "index", -1)
        if isinstance(event, ir.ToolCallDelta) and isinstance(last, ir.ToolCallDelta) and same:
            out[-1] = ir.ToolCallDelta(event.index, last.arguments + event.arguments)
        else:
            out.append(event)
    return out


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_interleaved_tool_arguments_are_never_lost(data: st.DataObject) -> None:
    pieces = data.draw(st.lists(st.lists(words, max_size=4), min_size=1, max_size=4))
    queue = [(i, p) for i, call in enumerate(pieces) for p in call]
    order = data.draw(st.permutations(queue))
    events: list[ir.Event] = []
    started: set[int] = set()
    for index, piece in order:  # each call starts before its first piece, in call order
        for i in range(index + 1):
            if i not in started:
                started.add(i)
                events.append(ir.ToolCallStart(i, f"c{i}", "f"))
        events.append(ir.ToolCallDelta(index, piece))
    events += [ir.ToolCallStart(i, f"c{i}", "f") for i in range(len(pieces)) if i not in started]
    events.append(ir.Finish(ir.Stop.TOOL_USE))
    parser = SSEParser()
    data_bytes = _encode(events)
    accumulate_check = [orjson.loads(raw) for _, raw in parser.feed(data_bytes)]
    blocks = [e for e in accumulate_check if e["type"] == "content_block_start"]
    assert [b["content_block"]["id"] for b in blocks] == [f"c{i}" for i in range(len(pieces))]
    sent = {i: "".join(p for j, p in order if j == i) for i in range(len(pieces))}
    got: dict[int, str] = {}
    for event in accumulate_check:
        if event["type"] == "content_block_delta":
            got[event["index"]] = got.get(event["index"], "") + event["delta"]["partial_json"]
    assert {i: got.get(i, "") for i in range(len(pieces))} == sent


# -- the real SDK ------------------------------------------------------------------------


def _sdk_client(body: bytes) -> Any:
    anthropic = pytest.importorskip("anthropic")
    httpx2 = pytest.importorskip("httpx2")

    def handler(request: Any) -> Any:
        return httpx2.Response(200, headers={"content-type": an.STREAM_CONTENT_TYPE}, content=body)

    http = httpx2.Client(transport=httpx2.MockTransport(handler))
    return anthropic.Anthropic(api_key="k", base_url="http://omni.test", http_client=http)


def test_sdk_stream_helper_accepts_translated_streams() -> None:
    events: list[ir.Event] = [
        ir.Start("chatcmpl-1", "gpt-x", ir.Usage(input=12, cache_read=2)),
        ir.ReasoningDelta("hmm"),
        ir.TextDelta("Hel"),
        ir.TextDelta("lo"),
        ir.ToolCallStart(0, "call_a", "f"),
        ir.ToolCallStart(1, "call_b", "g"),
        ir.ToolCallDelta(1, '{"b": 2}'),
        ir.ToolCallDelta(0, '{"a": 1}'),
        ir.Finish(ir.Stop.TOOL_USE, ir.Usage(input=12, output=9, cache_read=2)),
    ]
    client = _sdk_client(_encode(events))
    kwargs: Obj = {
        "model": "claude-x",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
    }
    with client.messages.stream(**kwargs) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Hello"
    assert [b.type for b in final.content] == ["thinking", "text", "tool_use", "tool_use"]
    assert [b.input for b in final.content[2:]] == [{"a": 1}, {"b": 2}]
    assert (final.stop_reason, final.usage.input_tokens, final.usage.output_tokens) == (
        "tool_use",
        10,
        9,
    )
    assert final.usage.cache_read_input_tokens == 2
    raw = list(client.messages.create(**kwargs, stream=True))
    assert raw[0].type == "message_start" and raw[-1].type == "message_stop"


def test_sdk_raises_on_an_error_event() -> None:
    anthropic = pytest.importorskip("anthropic")
    client = _sdk_client(_encode([ir.TextDelta("a"), ir.Failure(529, "overloaded")]))
    kwargs: Obj = {
        "model": "claude-x",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
    }
    with (
        pytest.raises(anthropic.APIStatusError, match="overloaded"),
        client.messages.stream(**kwargs) as stream,
    ):
        stream.get_final_message()
