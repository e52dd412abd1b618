"""Anthropic Messages round trips (wire → IR → wire keeps every field) and complete answers."""

from __future__ import annotations

import copy
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omni import ir
from omni.errors import InvalidInputError
from omni.translate import anthropic as an

Obj = dict[str, Any]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

words = st.text(alphabet="abc xyz-é👋\n", min_size=1, max_size=12).map(str.strip).filter(bool)
ids = st.text(alphabet="abcdef0123456789", min_size=4, max_size=8)
cache = st.sampled_from([{}, {"cache_control": {"type": "ephemeral"}}])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | words,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(words, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def text_block(draw: st.DrawFn) -> Obj:
    return {"type": "text", "text": draw(words), **draw(cache)}


@st.composite
def image_block(draw: st.DrawFn) -> Obj:
    source = draw(
        st.sampled_from(
            [
                {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
                {"type": "url", "url": "https://example.com/cat.jpg"},
            ]
        )
    )
    return {"type": "image", "source": source, **draw(cache)}


@st.composite
def tool_result(draw: st.DrawFn, call_id: str) -> Obj:
    content: Any = draw(
        words
        | st.lists(text_block(), max_size=2).map(
            lambda b: [*b, {"type": "image", "source": {"type": "url", "url": "u"}}]
        )
    )
    block: Obj = {"type": "tool_result", "tool_use_id": call_id, "content": content}
    if draw(st.booleans()):
        block["is_error"] = True
    return {**block, **draw(cache)}


@st.composite
def conversation(draw: st.DrawFn) -> list[Obj]:
    messages: list[Obj] = []
    pending: list[str] = []
    used: set[str] = set()
    for _ in range(draw(st.integers(1, 3))):
        user = [tool_result_block for tool_result_block in (draw(tool_result(i)) for i in pending)]
        user += draw(
            st.lists(text_block() | image_block(), min_size=0 if pending else 1, max_size=2)
        )
        messages.append({"role": "user", "content": user})
        assistant: list[Obj] = []
        calls = draw(st.lists(ids.filter(lambda i: i not in used), max_size=2, unique=True))
        used.update(calls)
        thinks = draw(st.booleans())
        if calls or thinks:
            assistant.append(
                draw(
                    st.sampled_from(
                        [
                            {"type": "thinking", "thinking": "hmm", "signature": "c2lnbmF0dXJl"},
                            {"type": "redacted_thinking", "data": "EmwKAhgB"},
                        ]
                    )
                )
            )
        assistant += draw(st.lists(text_block(), min_size=0 if calls else 1, max_size=2))
        for call in calls:
            arguments = draw(st.dictionaries(words, json_values, max_size=3))
            assistant.append(
                {"type": "tool_use", "id": call, "name": draw(words), "input": arguments}
            )
        messages.append({"role": "assistant", "content": assistant})
        pending = calls
    results = [draw(tool_result(i)) for i in pending]
    messages.append({"role": "user", "content": results or [draw(text_block())]})
    return messages


@st.composite
def request_body(draw: st.DrawFn) -> Obj:
    mode = draw(st.sampled_from(["off", "enabled", "adaptive", "disabled", "effort-only"]))
    thinking_on = mode in ("enabled", "adaptive")
    body: Obj = {
        "model": draw(
            st.sampled_from(["claude-sonnet-4-5", "claude-opus-4-8", "claude-haiku-4-5"])
        ),
        "messages": draw(conversation()),
        "max_tokens": draw(st.integers(2048, 64000)),
    }
    if draw(st.booleans()):
        body["system"] = draw(st.lists(text_block(), min_size=1, max_size=3))
    names = draw(st.lists(words, max_size=3, unique=True))
    tools: list[Obj] = []
    for name in names:
        schema = {
            "type": "object",
            "properties": draw(st.dictionaries(words, st.just({"type": "string"}), max_size=2)),
        }
        tool: Obj = {"name": name, "input_schema": schema, **draw(cache)}
        if draw(st.booleans()):
            tool["description"] = draw(words)
        tools.append(tool)
    if draw(st.booleans()):
        tools.append({"type": "web_search_20250305", "name": "web_search", "max_uses": 3})
    if tools:
        body["tools"] = tools
        kinds = ["auto", "none"] if thinking_on or not names else ["auto", "none", "any", "tool"]
        kind = draw(st.sampled_from([None, *kinds]))
        if kind is not None:
            choice: Obj = {"type": kind}
            if kind == "tool":
                choice["name"] = draw(st.sampled_from(names))
            if kind != "none" and draw(st.booleans()):
                choice["disable_parallel_tool_use"] = draw(st.booleans())
            body["tool_choice"] = choice
    if mode == "enabled":
        body["thinking"] = {
            "type": "enabled",
            "budget_tokens": draw(st.integers(1024, body["max_tokens"] - 1)),
        }
    elif mode == "adaptive":
        body["thinking"] = {
            "type": "adaptive",
            **draw(st.sampled_from([{}, {"display": "summarized"}])),
        }
    elif mode == "disabled":
        body["thinking"] = {"type": "disabled"}
    if mode == "effort-only" or (mode != "off" and draw(st.booleans())):
        body["output_config"] = {
            "effort": draw(st.sampled_from(["low", "medium", "high", "xhigh", "max"]))
        }
    if not thinking_on:
        for key, value in [
            ("temperature", st.floats(0, 1)),
            ("top_p", st.floats(0, 1)),
            ("top_k", st.integers(1, 500)),
        ]:
            if draw(st.booleans()):
                body[key] = draw(value)
    if draw(st.booleans()):
        body["stop_sequences"] = draw(st.lists(words, min_size=1, max_size=2))
    if draw(st.booleans()):
        body["stream"] = True
    if draw(st.booleans()):
        body["metadata"] = {"user_id": draw(words)}
    extras: list[Obj] = [{}, {"service_tier": "auto"}, {"context_management": {"edits": []}}]
    return {**body, **draw(st.sampled_from(extras))}


@FAST
@given(request_body())
def test_request_round_trip_keeps_every_field(body: Obj) -> None:
    request = an.decode_request(copy.deepcopy(body))
    assert an.encode_request(request) == body
    assert an.count_tokens_estimate(request) >= 1


@FAST
@given(request_body())
def test_encoded_requests_keep_the_api_rules(body: Obj) -> None:
    """Decode, drop some turns (as another client might), encode: the API rules still hold."""
    request = an.decode_request(body)
    request.messages = [m for i, m in enumerate(request.messages) if i % 3 != 1]
    out = an.encode_request(request)
    roles = [m["role"] for m in out["messages"]]
    assert all(a != b for a, b in pairwise(roles))
    pending: list[str] = []
    for message in out["messages"]:
        blocks = message["content"]
        assert blocks
        if message["role"] == "user":
            results = [b["tool_use_id"] for b in blocks if b["type"] == "tool_result"]
            assert results == pending  # every call answered, first, in order, nothing else
            assert [b["type"] for b in blocks[: len(results)]] == ["tool_result"] * len(results)
        pending = [b["id"] for b in blocks if b["type"] == "tool_use"]
    assert not pending


# -- complete answers --------------------------------------------------------------------


@st.composite
def response_body(draw: st.DrawFn) -> Obj:
    content: list[Obj] = []
    if draw(st.booleans()):
        content.append({"type": "thinking", "thinking": draw(words), "signature": "c2ln"})
    if draw(st.booleans()):
        content.append({"type": "redacted_thinking", "data": "ZGF0YQ=="})
    content += draw(st.lists(st.builds(lambda t: {"type": "text", "text": t}, words), max_size=2))
    calls = draw(st.lists(ids, max_size=2, unique=True))
    for call in calls:
        arguments = draw(st.dictionaries(words, json_values, max_size=3))
        content.append({"type": "tool_use", "id": call, "name": draw(words), "input": arguments})
    reasons = (
        ["tool_use", "max_tokens", "pause_turn"]
        if calls
        else [
            "end_turn",
            "max_tokens",
            "stop_sequence",
            "refusal",
            "pause_turn",
            "model_context_window_exceeded",
        ]
    )
    reason = draw(st.sampled_from(reasons))
    usage: Obj = {
        "input_tokens": draw(st.integers(0, 10**6)),
        "output_tokens": draw(st.integers(0, 10**5)),
    }
    for key in ("cache_creation_input_tokens", "cache_read_input_tokens"):
        if draw(st.booleans()):
            usage[key] = draw(st.integers(0, 10**6))
    if draw(st.booleans()):
        usage["output_tokens_details"] = {"thinking_tokens": draw(st.integers(0, 100))}
    if draw(st.booleans()):
        usage["service_tier"] = "standard"
    body: Obj = {
        "id": "msg_" + draw(ids),
        "type": "message",
        "role": "assistant",
        "model": draw(words),
        "content": content,
        "stop_reason": reason,
        "stop_sequence": draw(words) if reason == "stop_sequence" else None,
        "usage": usage,
    }
    if draw(st.booleans()):
        body["container"] = {"id": "c1", "expires_at": "2026-01-01T00:00:00Z"}
    return body


@FAST
@given(response_body())
def test_response_round_trip_keeps_every_field(body: Obj) -> None:
    response = an.decode_response(copy.deepcopy(body))
    assert an.encode_response(response) == body
    usage = body["usage"]
    cached = usage.get("cache_read_input_tokens", 0) + usage.get("cache_creation_input_tokens", 0)
    assert response.usage.input == usage["input_tokens"] + cached


def test_fake_upstream_answer_decodes_to_exact_ir() -> None:
    from tests.fakes.dialects_common import Ctx, signature
    from tests.fakes.dialects_others import anthropic_json
    from tests.fakes.upstream import Reply, ToolCall, Usage

    reply = Reply(
        text="Done.",
        reasoning="Think.",
        finish="tool_calls",
        tool_calls=[ToolCall("Bash", '{"command":"ls"}', id="toolu_1")],
        usage=Usage(input=30, output=12, cache_read=10, cache_write=5),
    )
    body = anthropic_json(reply, Ctx("claude-x", {}, 7, 0))
    response = an.decode_response(body)
    assert response == ir.Response(
        id="msg_fake7",
        model="claude-x",
        parts=[
            ir.Reasoning("Think.", signature("Think.")),
            ir.Text("Done."),
            ir.ToolCall("toolu_1", "Bash", '{"command":"ls"}'),
        ],
        stop=ir.Stop.TOOL_USE,
        usage=ir.Usage(input=30, output=12, cache_read=10, cache_write=5),
        extras={"anthropic": {"usage": {"service_tier": "standard"}}},
    )
    assert an.encode_response(response) == body


def test_answer_from_another_dialect_is_encoded_for_claude_clients() -> None:
    response = ir.Response(
        id="chatcmpl-1",
        model="gpt-x",
        parts=[
            ir.Reasoning("unsigned thoughts"),
            ir.Reasoning(""),  # nothing to show
            ir.Text(""),
            ir.Text("Hi"),
            ir.ToolCall("call_1", "f", '{"a": 1}'),
            ir.ToolCall("call_2", "g", "not json"),
        ],
        stop=ir.Stop.END,  # Gemini says STOP even when it calls tools
        usage=ir.Usage(input=10, output=3, cache_read=4, reasoning=1),
    )
    assert an.encode_response(response) == {
        "id": "chatcmpl-1",
        "type": "message",
        "role": "assistant",
        "model": "gpt-x",
        "content": [
            {"type": "thinking", "thinking": "unsigned thoughts", "signature": ""},
            {"type": "text", "text": "Hi"},
            {"type": "tool_use", "id": "call_1", "name": "f", "input": {"a": 1}},
            {"type": "tool_use", "id": "call_2", "name": "g", "input": {"_raw": "not json"}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 6,
            "cache_read_input_tokens": 4,
            "output_tokens": 3,
            "output_tokens_details": {"thinking_tokens": 1},
        },
    }


@pytest.mark.parametrize(
    ("stop", "reason"),
    [
        (ir.Stop.CONTENT_FILTER, "refusal"),
        (ir.Stop.ERROR, "end_turn"),
        (ir.Stop.MAX_TOKENS, "max_tokens"),
    ],
)
def test_stop_reasons_for_clients(stop: ir.Stop, reason: str) -> None:
    body = an.encode_response(ir.Response(id="m", model="x", stop=stop))
    assert (body["stop_reason"], body["content"], body["usage"]) == (
        reason,
        [],
        {"input_tokens": 0, "output_tokens": 0},
    )


def test_minimal_and_malformed_answers() -> None:
    response = an.decode_response({"content": [{"type": "text", "text": "x"}]})
    assert (response.text, response.stop, response.usage) == ("x", ir.Stop.END, ir.Usage())
    assert response.id.startswith("msg_")
    bad: Any
    for bad in (
        [],
        {"content": {}},
        {"content": [{"type": "text"}]},
        {"content": [], "stop_sequence": 1},
    ):
        with pytest.raises(InvalidInputError):
            an.decode_response(bad)


# -- count_tokens and models ------------------------------------------------------------


def test_count_tokens_estimate_is_deterministic_and_grows() -> None:
    small = ir.Request(model="m", messages=[ir.Message("user", [ir.Text("hi")])])
    assert an.count_tokens_estimate(ir.Request(model="m")) == 1
    base = an.count_tokens_estimate(small)
    big = ir.Request(
        model="m",
        system=[ir.Text("s" * 400)],
        messages=[
            ir.Message("user", [ir.Text("x" * 4000), ir.Image(url="u")]),
            ir.Message("assistant", [ir.Reasoning("r" * 40), ir.ToolCall("c", "f", "{}")]),
            ir.Message("user", [ir.ToolResult("c", [ir.Text("y" * 40), ir.Image(data="d")])]),
        ],
        tools=[ir.Tool("f", "desc", {"type": "object", "properties": {}})],
    )
    estimate = an.count_tokens_estimate(big)
    assert estimate == an.count_tokens_estimate(copy.deepcopy(big))
    assert base < 10 < 1100 + 2 * 1600 < estimate < 1300 + 2 * 1600


def test_models_list_shape() -> None:
    assert an.models_list(["claude-a", "claude-b"]) == {
        "data": [
            {
                "type": "model",
                "id": "claude-a",
                "display_name": "claude-a",
                "created_at": "2025-01-01T00:00:00Z",
            },
            {
                "type": "model",
                "id": "claude-b",
                "display_name": "claude-b",
                "created_at": "2025-01-01T00:00:00Z",
            },
        ],
        "has_more": False,
        "first_id": "claude-a",
        "last_id": "claude-b",
    }
    assert an.models_list([]) == {"data": [], "has_more": False, "first_id": None, "last_id": None}
