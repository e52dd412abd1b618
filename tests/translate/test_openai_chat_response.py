"""OpenAI Chat Completions codec: complete answers decoded to exact IR and encoded back.

Bodies come from the fake upstream's encoder (what an OpenAI-compatible upstream answers)
and from hand-written edge cases: ``<think>`` tags, ``reasoning``/``reasoning_content``,
refusals, legacy function calls, finish reasons and usage with cached and reasoning tokens.
"""

from __future__ import annotations

from typing import Any

import pytest

from omni import ir
from omni.translate import openai_chat
from tests.fakes.dialects_common import Ctx
from tests.fakes.dialects_openai import chat_json
from tests.fakes.upstream import Reply, ToolCall, Usage

OA = "openai"


def _fake_body(reply: Reply) -> dict[str, Any]:
    return chat_json(reply, Ctx(model="gpt-4o", request={}, seq=3, created=1700000000))


def test_fake_upstream_answer_decodes_to_exact_ir() -> None:
    reply = Reply(
        text="The answer is 4.",
        reasoning="2+2=4",
        tool_calls=[ToolCall("calc", '{"x":2}', id="call_1")],
        usage=Usage(input=120, output=40, cache_read=100, reasoning=25),
        finish="tool_calls",
    )
    body = _fake_body(reply)
    response = openai_chat.decode_response(body)
    assert response == ir.Response(
        id="chatcmpl-fake3",
        model="gpt-4o",
        parts=[
            ir.Reasoning("2+2=4"),
            ir.Text("The answer is 4."),
            ir.ToolCall("call_1", "calc", '{"x":2}'),
        ],
        stop=ir.Stop.TOOL_USE,
        usage=ir.Usage(input=120, output=40, cache_read=100, reasoning=25),
        created=1700000000,
        extras={
            OA: {
                "service_tier": "default",
                "system_fingerprint": "fp_fake",
                "message": {"annotations": []},
            }
        },
    )
    encoded = openai_chat.encode_response(response)
    # Usage details other than cached and reasoning tokens have no IR home.
    body["usage"]["prompt_tokens_details"] = {"cached_tokens": 100}
    body["usage"]["completion_tokens_details"] = {"reasoning_tokens": 25}
    assert encoded == body


def test_minimal_and_think_tagged_answers() -> None:
    minimal = openai_chat.decode_response({"choices": [{"message": {"content": "x"}}]})
    assert (minimal.parts, minimal.stop, minimal.usage) == ([ir.Text("x")], ir.Stop.END, ir.Usage())
    assert minimal.id.startswith("chatcmpl-")
    body = {
        "id": "r1",
        "model": "qwq",
        "choices": [
            {
                "message": {"content": "<think>\nLet me see.\n</think>\n\nFour."},
                "finish_reason": "stop",
            }
        ],
    }
    response = openai_chat.decode_response(body)
    assert response.parts == [ir.Reasoning("Let me see."), ir.Text("Four.")]
    message = openai_chat.encode_response(response)["choices"][0]["message"]
    assert message == {
        "role": "assistant",
        "content": "Four.",
        "refusal": None,
        "reasoning_content": "Let me see.",
    }
    cut = openai_chat.decode_response({"choices": [{"message": {"content": "<think>\nhalf"}}]})
    assert cut.parts == [ir.Reasoning("half")]


def test_reasoning_field_wins_over_think_tags_and_content_parts_are_joined() -> None:
    body = {
        "choices": [
            {
                "message": {
                    "content": [
                        {"type": "text", "text": "<think>no</think>"},
                        {"type": "text", "text": "!"},
                    ],
                    "reasoning": "real thinking",
                },
                "finish_reason": "length",
            }
        ]
    }
    response = openai_chat.decode_response(body)
    assert response.parts == [ir.Reasoning("real thinking"), ir.Text("<think>no</think>!")]
    assert response.stop is ir.Stop.MAX_TOKENS


def test_refusal_and_legacy_function_call_answers() -> None:
    refusal = {
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "refusal": "I can't help."},
                "finish_reason": "stop",
            }
        ]
    }
    response = openai_chat.decode_response(refusal)
    assert response.parts == [ir.Text("I can't help.", extras={OA: {"type": "refusal"}})]
    assert response.text == "I can't help."
    message = openai_chat.encode_response(response)["choices"][0]["message"]
    assert (message["content"], message["refusal"]) == (None, "I can't help.")
    legacy = {
        "choices": [
            {
                "message": {"content": None, "function_call": {"name": "f", "arguments": "{}"}},
                "finish_reason": "function_call",
            }
        ]
    }
    response = openai_chat.decode_response(legacy)
    assert response.stop is ir.Stop.TOOL_USE
    assert [(c.name, c.arguments) for c in response.tool_calls] == [("f", "{}")]


def test_stop_with_tool_calls_means_tool_use() -> None:
    body = {
        "choices": [
            {
                "message": {
                    "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": ""}}]
                },
                "finish_reason": "stop",
            }
        ]
    }
    assert openai_chat.decode_response(body).stop is ir.Stop.TOOL_USE


@pytest.mark.parametrize(
    ("finish", "stop"),
    [
        ("stop", ir.Stop.END),
        ("length", ir.Stop.MAX_TOKENS),
        ("tool_calls", ir.Stop.TOOL_USE),
        ("content_filter", ir.Stop.CONTENT_FILTER),
        (None, ir.Stop.END),
        ("something_new", ir.Stop.END),
    ],
)
def test_finish_reason_to_stop(finish: str | None, stop: ir.Stop) -> None:
    body = {"choices": [{"message": {"content": "x"}, "finish_reason": finish}]}
    assert openai_chat.decode_response(body).stop is stop


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        (ir.Stop.END, "stop"),
        (ir.Stop.STOP_SEQUENCE, "stop"),
        (ir.Stop.MAX_TOKENS, "length"),
        (ir.Stop.TOOL_USE, "tool_calls"),
        (ir.Stop.CONTENT_FILTER, "content_filter"),
        (ir.Stop.REFUSAL, "content_filter"),
        (ir.Stop.ERROR, "stop"),
    ],
)
def test_stop_to_finish_reason(stop: ir.Stop, finish: str) -> None:
    body = openai_chat.encode_response(ir.Response("r", "m", [ir.Text("x")], stop=stop))
    assert body["choices"][0]["finish_reason"] == finish


def test_usage_counting_both_ways() -> None:
    usage = ir.Usage(input=100, output=50, cache_read=80, cache_write=10, reasoning=20)
    body = openai_chat.encode_response(ir.Response("r", "m", usage=usage, created=1))
    assert body["usage"] == {
        "prompt_tokens": 100,
        "completion_tokens": 50,
        "total_tokens": 150,
        "prompt_tokens_details": {"cached_tokens": 80},
        "completion_tokens_details": {"reasoning_tokens": 20},
        "cache_creation_input_tokens": 10,
    }
    assert openai_chat.decode_response(body).usage == usage
    deepseek = {
        "choices": [],
        "usage": {
            "prompt_tokens": 50,
            "completion_tokens": 10,
            "total_tokens": 60,
            "prompt_cache_hit_tokens": 30,
            "prompt_cache_miss_tokens": 20,
            "completion_tokens_details": {"reasoning_tokens": 4},
        },
    }
    assert openai_chat.decode_response(deepseek).usage == ir.Usage(50, 10, 30, None, 4)
    assert openai_chat.encode_response(ir.Response("r", "m"))["usage"]["total_tokens"] == 0


def test_encoded_answer_shape() -> None:
    response = ir.Response(
        id="chatcmpl-1",
        model="m",
        parts=[ir.Reasoning("a", signature="s"), ir.Reasoning("b"), ir.ToolCall("c1", "f", "{}")],
        stop=ir.Stop.TOOL_USE,
        created=5,
    )
    assert openai_chat.encode_response(response) == {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 5,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "refusal": None,
                    "reasoning_content": "ab",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                "logprobs": None,
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "total_tokens": 0,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
    }
    assert isinstance(openai_chat.encode_response(ir.Response("r", "m"))["created"], int)


def test_malformed_upstream_parts_are_dropped_not_fatal() -> None:
    body = {
        "choices": [
            {
                "message": {
                    "content": {"odd": True},
                    "tool_calls": [5, {"function": "x"}, {"id": "ok", "function": {"name": "f"}}],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": "n/a",
    }
    response = openai_chat.decode_response(body)
    assert response.parts == [ir.ToolCall("ok", "f", "{}")]
    assert response.usage == ir.Usage()
