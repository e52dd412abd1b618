"""The OpenAI Responses dialect: upstream streams → IR events.

The fake upstream's real event streams split at every byte, with CRLF line ends too, and
the partial streams real servers send (only done items, a bare completed response, no
indexes or event lines, errors in their several shapes, no terminal event at all).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omni import ir
from omni.translate import errors
from omni.translate import responses as r
from tests.fakes.dialects_common import Ctx, signature
from tests.fakes.dialects_openai import responses_events, responses_stream_error
from tests.fakes.upstream import Reply, ToolCall, Usage

ENC = signature("plan")  # the fake's encrypted_content for this reasoning


def fake_stream(reply: Reply, error_after: int | None = None) -> bytes:
    ctx = Ctx("gpt-5", {"include": ["reasoning.encrypted_content"]}, 4, 1700000000)
    events = responses_events(reply, ctx)
    if error_after is not None:
        events = [*events[:error_after], responses_stream_error(reply, ctx, error_after)]
    return b"".join(events)


def decode(*chunks: bytes) -> list[ir.Event]:
    decoder = r.StreamDecoder()
    out = [e for chunk in chunks for e in decoder.feed(chunk)]
    return out + decoder.close()


FULL = Reply(
    text="Héllo ✓ 日本",
    reasoning="plan",
    tool_calls=[ToolCall("exec", '{"cmd": "ls"}', "call_1"), ToolCall("read", "{}", "call_2")],
    usage=Usage(input=20, output=9, cache_read=4, reasoning=3),
)
FULL_EVENTS: list[ir.Event] = [
    ir.Start("resp_fake4", "gpt-5"),
    ir.ReasoningDelta("p"),
    ir.ReasoningDelta("l"),
    ir.ReasoningDelta("an"),
    ir.ReasoningDelta(redacted=ENC),
    ir.TextDelta("Hél"),
    ir.TextDelta("lo "),
    ir.TextDelta("✓ 日本"),
    ir.ToolCallStart(0, "call_1", "exec"),
    ir.ToolCallDelta(0, '{"c'),
    ir.ToolCallDelta(0, 'md"'),
    ir.ToolCallDelta(0, ': "ls"'),
    ir.ToolCallDelta(0, "}"),
    ir.ToolCallStart(1, "call_2", "read"),
    ir.ToolCallDelta(1, "{"),
    ir.ToolCallDelta(1, "}"),
    ir.Finish(ir.Stop.TOOL_USE, ir.Usage(input=20, output=9, cache_read=4, reasoning=3)),
]


# -- decoding ---------------------------------------------------------------------------


def test_fake_upstream_stream_decodes_to_exact_events() -> None:
    assert decode(fake_stream(FULL)) == FULL_EVENTS


def test_every_split_point_gives_the_same_events() -> None:
    raw = fake_stream(FULL)
    for cut in range(len(raw) + 1):
        assert decode(raw[:cut], raw[cut:]) == FULL_EVENTS, cut


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, len(fake_stream(FULL))), max_size=20), st.booleans())
def test_any_splits_and_line_ends_give_the_same_events(cuts: list[int], crlf: bool) -> None:
    raw = fake_stream(FULL).replace(b"\n", b"\r\n") if crlf else fake_stream(FULL)
    points = sorted({min(c, len(raw)) for c in cuts})
    pieces = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    assert decode(*pieces) == FULL_EVENTS


def test_cut_answers_and_upstream_failures() -> None:
    cut = decode(fake_stream(Reply(text="abc", finish="length", chunks=1)))
    assert cut[1:] == [
        ir.TextDelta("abc"),
        ir.Finish(ir.Stop.MAX_TOKENS, ir.Usage(11, 7, 0, None, 0)),
    ]
    failed = decode(fake_stream(Reply(text="abc", chunks=1, error_type="server_error"), 5))
    assert failed[1:] == [
        ir.TextDelta("abc"),
        ir.Failure(500, "fake upstream error", "server_error"),
    ]


def sse_of(*events: dict[str, Any], named: bool = True) -> bytes:
    out = b""
    for event in events:
        head = f"event: {event.get('type')}\n" if named else ""
        out += f"{head}data: {json.dumps(event)}\n\n".encode()
    return out


MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "content": [{"type": "output_text", "text": "hi there"}],
}
CALL = {
    "id": "fc_1",
    "type": "function_call",
    "call_id": "call_9",
    "name": "f",
    "arguments": '{"x":1}',
}
COMPLETED: dict[str, Any] = {
    "type": "response.completed",
    "response": {"id": "resp_9", "model": "m", "status": "completed", "output": []},
}


def test_items_given_only_when_done_still_reach_the_ir() -> None:
    """Codex accepts a stream of just output_item.done + response.completed."""
    raw = sse_of(
        {"type": "response.output_item.done", "output_index": 0, "item": MESSAGE},
        {"type": "response.output_item.done", "output_index": 1, "item": CALL},
        COMPLETED,
    )
    assert decode(raw)[1:] == [
        ir.TextDelta("hi there"),
        ir.ToolCallStart(0, "call_9", "f"),
        ir.ToolCallDelta(0, '{"x":1}'),
        ir.Finish(ir.Stop.TOOL_USE),
    ]


def test_a_bare_completed_response_is_replayed() -> None:
    final = {
        **COMPLETED["response"],
        "output": [MESSAGE, CALL],
        "usage": {"input_tokens": 3, "output_tokens": 2},
    }
    assert decode(sse_of({"type": "response.completed", "response": final})) == [
        ir.Start("resp_9", "m"),
        ir.TextDelta("hi there"),
        ir.ToolCallStart(0, "call_9", "f"),
        ir.ToolCallDelta(0, '{"x":1}'),
        ir.Finish(ir.Stop.TOOL_USE, ir.Usage(input=3, output=2)),
    ]


def test_llama_server_style_stream_without_indexes_or_event_lines() -> None:
    raw = sse_of(
        {"type": "response.created", "response": {"id": "resp_l", "model": "gemma"}},
        {"type": "response.output_item.added", "item": {**CALL, "arguments": ""}},
        {"type": "response.function_call_arguments.delta", "item_id": "fc_1", "delta": '{"x"'},
        {"type": "response.function_call_arguments.delta", "delta": ":1}"},
        {
            "type": "response.function_call_arguments.done",
            "item_id": "fc_1",
            "arguments": '{"x":1}',
        },
        {"type": "response.output_item.done", "item": CALL},
        {"type": "response.output_text.delta", "item_id": "msg_1", "delta": "ok"},
        {
            "type": "response.output_item.done",
            "item": {**MESSAGE, "content": [{"type": "output_text", "text": "ok"}]},
        },
        {"type": "response.some_future_event", "x": 1},
        {
            "type": "response.incomplete",
            "response": {
                "status": "incomplete",
                "incomplete_details": {"reason": "max_output_tokens"},
            },
        },
        named=False,
    )
    assert decode(raw) == [
        ir.Start("resp_l", "gemma"),
        ir.ToolCallStart(0, "call_9", "f"),
        ir.ToolCallDelta(0, '{"x"'),
        ir.ToolCallDelta(0, ":1}"),
        ir.TextDelta("ok"),
        ir.Finish(ir.Stop.MAX_TOKENS),
    ]


def test_items_named_by_index_or_not_at_all_are_not_repeated() -> None:
    message = {"id": "msg_7", "type": "message", "content": []}
    done = {**message, "content": [{"type": "output_text", "text": "ab"}]}
    raw = sse_of(
        {"type": "response.output_item.added", "output_index": 0, "item": message},
        {"type": "response.output_text.delta", "output_index": 0, "delta": "a"},
        {"type": "response.output_text.delta", "delta": "b"},  # the item added last
        {"type": "response.output_item.done", "output_index": 0, "item": done},
        COMPLETED,
    )
    assert decode(raw)[1:] == [ir.TextDelta("a"), ir.TextDelta("b"), ir.Finish(ir.Stop.END)]


def test_reasoning_parts_and_carried_signatures() -> None:
    item = {"id": "rs_1", "type": "reasoning", "summary": []}
    at = {"item_id": "rs_1", "output_index": 0}
    raw = sse_of(
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.reasoning_summary_part.added", **at, "summary_index": 0},
        {"type": "response.reasoning_summary_text.delta", **at, "delta": "one"},
        {"type": "response.reasoning_summary_part.added", **at, "summary_index": 1},
        {"type": "response.reasoning_summary_text.delta", **at, "delta": "two"},
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {
                **item,
                "summary": [
                    {"type": "summary_text", "text": "one"},
                    {"type": "summary_text", "text": "two"},
                ],
                "encrypted_content": "omni-sig:SIG",
            },
        },
        {"type": "response.reasoning_text.delta", "item_id": "rs_2", "delta": "raw"},
        COMPLETED,
    )
    assert decode(raw)[1:] == [
        ir.ReasoningDelta("one"),
        ir.ReasoningDelta("\n\n"),
        ir.ReasoningDelta("two"),
        ir.ReasoningDelta(signature="SIG"),
        ir.ReasoningDelta("raw"),
        ir.Finish(ir.Stop.END),
    ]


@pytest.mark.parametrize(
    ("raw", "failure"),
    [
        (
            sse_of(
                {
                    "type": "error",
                    "code": "rate_limit_exceeded",
                    "message": "slow down",
                    "param": None,
                    "sequence_number": 3,
                }
            ),
            ir.Failure(429, "slow down", "rate_limit_exceeded"),
        ),
        (
            errors.error_event(ir.Dialect.OPENAI_RESPONSES, 503, "busy"),
            ir.Failure(502, "busy", "service_unavailable"),
        ),
        (
            sse_of(
                {
                    "type": "response.failed",
                    "response": {
                        "id": "r",
                        "status": "failed",
                        "error": {"code": "server_error", "message": "boom"},
                    },
                }
            ),
            ir.Failure(500, "boom", "server_error"),
        ),
        (
            b"event: response.created\ndata: {not json\n\n",
            ir.Failure(502, "the upstream sent an event that is not JSON"),
        ),
        (b"", ir.Failure(502, "upstream stream ended before response.completed")),
    ],
)
def test_upstream_errors_become_failures(raw: bytes, failure: ir.Failure) -> None:
    events = decode(raw)
    assert events[-1] == failure
    assert len([e for e in events if isinstance(e, ir.Failure | ir.Finish)]) == 1


def test_a_stream_cut_after_content_still_finishes_and_nothing_follows_the_end() -> None:
    raw = fake_stream(Reply(text="abc", chunks=1))
    cut = raw[: raw.index(b"event: response.output_text.done")]
    assert decode(cut)[1:] == [ir.TextDelta("abc"), ir.Finish(ir.Stop.END)]
    assert decode(
        raw + sse_of({"type": "response.output_text.delta", "delta": "late"}) + b"data: [DONE]\n\n"
    )[-1] == ir.Finish(ir.Stop.END, ir.Usage(11, 7, 0, None, 0))
