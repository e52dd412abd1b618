"""The Anthropic stream decoder: upstream SSE bytes, split anywhere, to IR events."""

from __future__ import annotations

from itertools import pairwise

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omni import ir
from omni.translate import anthropic as an
from tests.fakes.dialects_common import Ctx, signature
from tests.fakes.dialects_others import anthropic_events, anthropic_stream_error
from tests.fakes.upstream import Reply, ToolCall, Usage

CTX = Ctx("claude-sonnet-4-5", {}, 3, 0)
FULL = Reply(
    text="Héllo 👋 wörld",
    reasoning="Let me think…",
    tool_calls=[
        ToolCall("Bash", '{"command":"ls -la"}', id="toolu_01"),
        ToolCall("Read", '{"path":"/tmp/ü"}', id="toolu_02"),
    ],
    finish="tool_calls",
    usage=Usage(input=120, output=40, cache_read=80, cache_write=10),
)
FULL_STREAM = b"".join(anthropic_events(FULL, CTX))
START_USAGE = ir.Usage(input=120, cache_read=80, cache_write=10)
END_USAGE = ir.Usage(input=120, output=40, cache_read=80, cache_write=10)
FULL_EVENTS: list[ir.Event] = [
    ir.Start("msg_fake3", "claude-sonnet-4-5", START_USAGE),
    ir.ReasoningDelta("Let "),
    ir.ReasoningDelta("me t"),
    ir.ReasoningDelta("hink…"),
    ir.ReasoningDelta(signature=signature("Let me think…")),
    ir.TextDelta("Héll"),
    ir.TextDelta("o 👋 "),
    ir.TextDelta("wörld"),
    ir.ToolCallStart(0, "toolu_01", "Bash"),
    ir.ToolCallDelta(0, '{"c'),
    ir.ToolCallDelta(0, 'ommand"'),
    ir.ToolCallDelta(0, ':"ls -la"'),
    ir.ToolCallDelta(0, "}"),
    ir.ToolCallStart(1, "toolu_02", "Read"),
    ir.ToolCallDelta(1, '{"p'),
    ir.ToolCallDelta(1, 'ath":'),
    ir.ToolCallDelta(1, '"/tmp/ü"'),
    ir.ToolCallDelta(1, "}"),
    ir.UsageUpdate(END_USAGE),
    ir.Finish(ir.Stop.TOOL_USE, END_USAGE),
]


def _decode(parts: list[bytes]) -> list[ir.Event]:
    decoder = an.StreamDecoder()
    events = [e for part in parts for e in decoder.feed(part)]
    return events + decoder.close()


def test_full_stream_decodes_to_exact_events() -> None:
    assert _decode([FULL_STREAM]) == FULL_EVENTS


def test_every_split_point_gives_the_same_events() -> None:
    for cut in range(len(FULL_STREAM) + 1):
        assert _decode([FULL_STREAM[:cut], FULL_STREAM[cut:]]) == FULL_EVENTS, cut


def test_byte_by_byte_and_crlf() -> None:
    assert _decode([FULL_STREAM[i : i + 1] for i in range(len(FULL_STREAM))]) == FULL_EVENTS
    crlf = FULL_STREAM.replace(b"\n", b"\r\n")
    assert _decode([crlf[:333], crlf[333:]]) == FULL_EVENTS


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, len(FULL_STREAM)), max_size=20))
def test_any_splits_give_the_same_events(cuts: list[int]) -> None:
    points = [0, *sorted(set(cuts)), len(FULL_STREAM)]
    assert _decode([FULL_STREAM[a:b] for a, b in pairwise(points)]) == FULL_EVENTS


@pytest.mark.parametrize(
    ("finish", "stop"),
    [
        ("stop", ir.Stop.END),
        ("length", ir.Stop.MAX_TOKENS),
        ("refusal", ir.Stop.REFUSAL),
        ("stop_sequence", ir.Stop.STOP_SEQUENCE),
        ("pause_turn", ir.Stop.END),
        ("model_context_window_exceeded", ir.Stop.MAX_TOKENS),
        ("surprise", ir.Stop.END),
    ],
)
def test_plain_text_streams_and_stop_reasons(finish: str, stop: ir.Stop) -> None:
    reply = Reply(text="Hi there", chunks=2, finish=finish, usage=Usage(input=5, output=2))
    events = _decode(anthropic_events(reply, CTX))
    assert events == [
        ir.Start("msg_fake3", "claude-sonnet-4-5", ir.Usage(input=5, cache_read=0, cache_write=0)),
        ir.TextDelta("Hi t"),
        ir.TextDelta("here"),
        ir.UsageUpdate(ir.Usage(5, 2, 0, 0)),
        ir.Finish(stop, ir.Usage(5, 2, 0, 0)),
    ]


def _sse(kind: str, **data: object) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps({"type": kind, **data}) + b"\n\n"


def test_error_event_becomes_a_failure_with_its_status() -> None:
    head = anthropic_events(Reply(text="abc"), CTX)[:3]
    for kind, status in [
        ("overloaded_error", 529),
        ("rate_limit_error", 429),
        ("api_error", 500),
        ("invalid_request_error", 400),
        ("odd", 500),
    ]:
        error = anthropic_stream_error(Reply(error_type=kind, error_message="busy"), CTX, 0)
        events = _decode([*head, error, _sse("message_stop")])
        assert events[-1] == ir.Failure(status, "busy", kind)
        assert sum(isinstance(e, ir.Failure | ir.Finish) for e in events) == 1


def test_malformed_event_is_a_failure() -> None:
    events = _decode([*anthropic_events(Reply(text="abc"), CTX)[:3], b"data: {nope\n\n"])
    assert isinstance(events[-1], ir.Failure)
    assert events[-1].status == 502
    assert _decode([b"data: [1, 2]\n\n"])[-1] == ir.Failure(
        502, "the upstream sent a malformed stream event"
    )


def test_cut_streams_end_with_finish_or_failure() -> None:
    events = anthropic_events(Reply(text="abcdef", finish="length"), CTX)
    cut = _decode(events[:4])  # message_start, block start, ping, one delta
    assert isinstance(cut[0], ir.Start)
    assert cut[-1] == ir.Finish(ir.Stop.END, ir.Usage(input=11, cache_read=0, cache_write=0))
    no_stop = _decode(events[:-1])  # message_delta seen, message_stop missing
    assert no_stop[-1] == ir.Finish(ir.Stop.MAX_TOKENS, ir.Usage(11, 7, 0, 0))
    assert _decode(events[:1]) == [
        ir.Start("msg_fake3", "claude-sonnet-4-5", ir.Usage(input=11, cache_read=0, cache_write=0)),
        ir.Failure(502, "the upstream stream ended before any answer"),
    ]
    assert _decode([]) == [ir.Failure(502, "the upstream stream ended before any answer")]


def test_unusual_blocks_and_minimal_events() -> None:
    """No message_start, redacted thinking, server tools, tool input in the start block."""
    stream = [
        _sse(
            "content_block_start",
            index=0,
            content_block={"type": "redacted_thinking", "data": "Qg=="},
        ),
        _sse("content_block_stop", index=0),
        _sse(
            "content_block_start",
            index=1,
            content_block={
                "type": "server_tool_use",
                "id": "srvtoolu_1",
                "name": "web_search",
                "input": {},
            },
        ),
        _sse(
            "content_block_delta",
            index=1,
            delta={"type": "input_json_delta", "partial_json": '{"q":1}'},
        ),
        _sse("content_block_stop", index=1),
        _sse("content_block_start", index=2, content_block={"type": "text", "text": "pre"}),
        _sse("content_block_delta", index=2, delta={"type": "citations_delta", "citation": {}}),
        _sse("content_block_delta", index=2, delta={"type": "text_delta", "text": ""}),
        _sse(
            "content_block_start",
            index=3,
            content_block={"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}},
        ),
        _sse(
            "content_block_delta", index=3, delta={"type": "input_json_delta", "partial_json": ""}
        ),
        _sse(
            "content_block_start",
            index=4,
            content_block={"type": "thinking", "thinking": "x", "signature": "s"},
        ),
        _sse("ping"),
        _sse(
            "message_delta",
            delta={"stop_reason": "end_turn", "stop_sequence": None},
            usage={
                "input_tokens": 9,
                "output_tokens": 4,
                "output_tokens_details": {"thinking_tokens": 1},
            },
        ),
        _sse("message_stop"),
        _sse("message_stop"),
    ]
    events = _decode(stream)
    assert isinstance(events[0], ir.Start)
    assert events[0].id.startswith("msg_")
    usage = ir.Usage(input=9, output=4, reasoning=1)
    assert events[1:] == [
        ir.ReasoningDelta(redacted="Qg=="),
        ir.TextDelta("pre"),
        ir.ToolCallStart(0, "t", "f"),
        ir.ToolCallDelta(0, '{"a":1}'),
        ir.ReasoningDelta("x", "s"),
        ir.UsageUpdate(usage),
        ir.Finish(ir.Stop.END, usage),
    ]


def test_message_delta_usage_overrides_start_usage() -> None:
    start = {"id": "m", "model": "c", "usage": {"input_tokens": 3, "output_tokens": 1}}
    stream = [
        _sse("message_start", message=start),
        _sse(
            "message_delta",
            delta={"stop_reason": "stop_sequence", "stop_sequence": "END"},
            usage={"output_tokens": 6, "input_tokens": 4, "cache_read_input_tokens": 2},
        ),
        _sse("message_stop"),
    ]
    final = ir.Usage(input=6, output=6, cache_read=2)
    assert _decode(stream) == [
        ir.Start("m", "c", ir.Usage(input=3)),
        ir.UsageUpdate(final),
        ir.Finish(ir.Stop.STOP_SEQUENCE, final, "END"),
    ]
