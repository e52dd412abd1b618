"""OpenAI Chat Completions requests: realistic bodies decoded to exact IR and encoded back.

What the openai SDK and opencode send (developer role, images, tool calls and results,
every option), reasoning echoes, legacy functions, shapes without an IR home, and IR that
came from another dialect. Answers are in ``test_openai_chat_response.py``, invalid bodies
in ``test_openai_chat_invalid.py``, random round trips in ``test_openai_chat_roundtrip.py``
and streams in ``test_openai_chat_stream*.py``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from omni import ir
from omni.translate import openai_chat
from omni.translate.codec import codec

OA = "openai"
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
    "required": ["city"],
    "additionalProperties": False,
}

# What an openai SDK user sends after one tool round: developer + system prompts, images,
# the assistant message echoed back as the SDK returned it, two tool results, every option.
SDK_BODY: dict[str, Any] = {
    "model": "gpt-4o",
    "messages": [
        {"role": "developer", "content": "You are terse."},
        {"role": "system", "content": [{"type": "text", "text": "Answer in English."}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in these images?"},
                {
                    "type": "image_url",
                    "image_url": {"url": "https://x.test/cat.png", "detail": "high"},
                },
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "refusal": None,
            "annotations": [],
            "tool_calls": [
                {
                    "id": "call_abc",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {
                    "id": "call_def",
                    "type": "function",
                    "function": {"name": "get_time", "arguments": '{"tz":"CET"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_abc", "content": "18C sunny"},
        {"role": "tool", "tool_call_id": "call_def", "content": [{"type": "text", "text": "9:41"}]},
        {"role": "user", "content": "thanks", "name": "alice"},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": WEATHER_SCHEMA,
                "strict": True,
            },
        },
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
        {"type": "custom", "custom": {"name": "sql", "format": {"type": "text"}}},
    ],
    "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    "parallel_tool_calls": False,
    "reasoning_effort": "high",
    "response_format": {
        "type": "json_schema",
        "json_schema": {"name": "weather", "schema": WEATHER_SCHEMA, "strict": True},
    },
    "max_completion_tokens": 2048,
    "temperature": 0.2,
    "top_p": 0.9,
    "seed": 7,
    "stop": ["END"],
    "user": "user-1",
    "stream": True,
    "stream_options": {"include_usage": True},
    "metadata": {"trace": "t-1"},
    "store": False,
    "n": 1,
    "presence_penalty": 0.5,
    "logit_bias": {"50256": -100},
}

SDK_IR = ir.Request(
    model="gpt-4o",
    system=[
        ir.Text("You are terse.", extras={OA: {"role": "developer"}}),
        ir.Text(
            "Answer in English.",
            extras={OA: {"content": [{"type": "text", "text": "Answer in English."}]}},
        ),
    ],
    messages=[
        ir.Message(
            "user",
            [
                ir.Text("What is in these images?"),
                ir.Image(url="https://x.test/cat.png", detail="high"),
                ir.Image(data="iVBORw0KGgo=", media_type="image/png"),
            ],
        ),
        ir.Message(
            "assistant",
            [
                ir.ToolCall("call_abc", "get_weather", '{"city":"Paris"}'),
                ir.ToolCall("call_def", "get_time", '{"tz":"CET"}'),
            ],
            extras={OA: {"refusal": None, "annotations": []}},
        ),
        ir.Message(
            "user",
            [
                ir.ToolResult("call_abc", [ir.Text("18C sunny")], name="get_weather"),
                ir.ToolResult("call_def", [ir.Text("9:41")], name="get_time"),
            ],
        ),
        ir.Message("user", [ir.Text("thanks")], extras={OA: {"name": "alice"}}),
    ],
    tools=[
        ir.Tool("get_weather", "Weather for a city", WEATHER_SCHEMA, strict=True),
        ir.Tool("get_time", None, {"type": "object"}),
        ir.Tool("", extras={OA: SDK_BODY["tools"][2]}),
    ],
    tool_choice=ir.ToolChoice("tool", "get_weather", parallel=False),
    stream=True,
    max_tokens=2048,
    temperature=0.2,
    top_p=0.9,
    stop=["END"],
    seed=7,
    reasoning=ir.ReasoningConfig(effort="high"),
    response_format=ir.ResponseFormat("json_schema", WEATHER_SCHEMA, "weather", True),
    stream_usage=True,
    user="user-1",
    extras={
        OA: {
            "max_completion_tokens": 2048,
            "metadata": {"trace": "t-1"},
            "store": False,
            "n": 1,
            "presence_penalty": 0.5,
            "logit_bias": {"50256": -100},
        }
    },
)


def test_sdk_request_decodes_to_exact_ir() -> None:
    assert openai_chat.decode_request(copy.deepcopy(SDK_BODY)) == SDK_IR


def test_sdk_request_encodes_back() -> None:
    expected = copy.deepcopy(SDK_BODY)
    expected["messages"][5]["content"] = "9:41"  # a tool's text parts are sent as one string
    assert openai_chat.encode_request(openai_chat.decode_request(SDK_BODY)) == expected


def test_codec_registry_finds_the_module() -> None:
    assert codec(ir.Dialect.OPENAI_CHAT) is openai_chat
    assert openai_chat.STREAM_CONTENT_TYPE == "text/event-stream"


# opencode's openai-compatible provider (AI SDK): string system, one-text user turns as
# strings, assistant turns with "" content next to tool calls, JSON-text tool outputs.
OPENCODE_BODY: dict[str, Any] = {
    "model": "mock-model",
    "max_tokens": 32000,
    "messages": [
        {"role": "system", "content": "You are opencode, an interactive CLI tool."},
        {"role": "user", "content": "list the files"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {
                        "name": "bash",
                        "arguments": '{"command":"ls","description":"List"}',
                    },
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"output":"a.txt\\nb.txt"}'},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "bash",
                "description": "Runs a bash command",
                "parameters": {
                    "$schema": "http://json-schema.org/draft-07/schema#",
                    "type": "object",
                    "properties": {
                        "command": {"type": "string"},
                        "description": {"type": "string"},
                    },
                    "required": ["command", "description"],
                    "additionalProperties": False,
                },
            },
        }
    ],
    "tool_choice": "auto",
    "stream": True,
    "stream_options": {"include_usage": True},
}


def test_opencode_request_round_trip() -> None:
    request = openai_chat.decode_request(copy.deepcopy(OPENCODE_BODY))
    assert request.system == [ir.Text("You are opencode, an interactive CLI tool.")]
    assert request.messages == [
        ir.Message("user", [ir.Text("list the files")]),
        ir.Message(
            "assistant", [ir.ToolCall("call_1", "bash", '{"command":"ls","description":"List"}')]
        ),
        ir.Message(
            "user", [ir.ToolResult("call_1", [ir.Text('{"output":"a.txt\\nb.txt"}')], name="bash")]
        ),
    ]
    assert request.tools[0].parameters == OPENCODE_BODY["tools"][0]["function"]["parameters"]
    assert request.tool_choice == ir.ToolChoice("auto")
    assert (request.max_tokens, request.stream, request.stream_usage) == (32000, True, True)
    assert request.extras == {}
    expected = copy.deepcopy(OPENCODE_BODY)
    expected["messages"][2]["content"] = None  # "" beside tool calls is sent as null
    assert openai_chat.encode_request(request) == expected


def test_stream_and_model_overrides() -> None:
    body = {"model": "a", "messages": [], "stream": True}
    request = openai_chat.decode_request(body, model="b", stream=False)
    assert (request.model, request.stream, request.stream_usage) == ("b", False, False)
    assert openai_chat.encode_request(request) == {"model": "b", "messages": []}


def test_streaming_upstream_request_always_asks_for_usage() -> None:
    body = {"model": "m", "messages": [], "stream": True, "stream_options": {"x": 1}}
    request = openai_chat.decode_request(body)
    assert request.stream_usage is False and request.extras == {OA: {"stream_options": {"x": 1}}}
    encoded = openai_chat.encode_request(request)
    assert encoded["stream_options"] == {"x": 1, "include_usage": True}


def test_reasoning_echoes_go_back_where_they_came_from() -> None:
    body = {
        "model": "deepseek-reasoner",
        "messages": [
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": "4", "reasoning_content": "2 plus 2"},
            {"role": "user", "content": "and 3+3?"},
            {"role": "assistant", "content": "6", "reasoning": "3 plus 3"},
            {"role": "user", "content": "and 4+4?"},
            {"role": "assistant", "content": "<think>\nfour plus four\n</think>\n\n8"},
        ],
    }
    request = openai_chat.decode_request(copy.deepcopy(body))
    assert [m.parts for m in request.messages if m.role == "assistant"] == [
        [ir.Reasoning("2 plus 2", extras={OA: {"field": "reasoning_content"}}), ir.Text("4")],
        [ir.Reasoning("3 plus 3", extras={OA: {"field": "reasoning"}}), ir.Text("6")],
        [ir.Reasoning("four plus four", extras={OA: {"field": "think"}}), ir.Text("8")],
    ]
    assert openai_chat.encode_request(request) == body


def test_foreign_ir_encodes_without_foreign_leftovers() -> None:
    """An IR request from another dialect: signed thinking is not replayed to OpenAI, images
    in tool results follow as user content, budgets become efforts."""
    request = ir.Request(
        model="gpt-4.1",
        system=[ir.Text("sys", extras={"anthropic": {"cache_control": {"type": "ephemeral"}}})],
        messages=[
            ir.Message("user", [ir.Text("look")]),
            ir.Message(
                "assistant",
                [ir.Reasoning("hmm", signature="sig"), ir.Text("ok"), ir.ToolCall("t1", "shot")],
            ),
            ir.Message(
                "user",
                [
                    ir.ToolResult(
                        "t1", [ir.Text("here"), ir.Image(data="AAAA", media_type="image/jpeg")]
                    ),
                    ir.Text("what is it?"),
                ],
            ),
        ],
        tools=[ir.Tool("shot", parameters={})],
        tool_choice=ir.ToolChoice("required"),
        reasoning=ir.ReasoningConfig(budget=20000),
        response_format=ir.ResponseFormat("json_object"),
        stream=True,
    )
    assert openai_chat.encode_request(request) == {
        "model": "gpt-4.1",
        "messages": [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": "look"},
            {
                "role": "assistant",
                "content": "ok",
                "tool_calls": [
                    {
                        "id": "t1",
                        "type": "function",
                        "function": {"name": "shot", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "t1", "content": "here"},
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,AAAA"}},
                    {"type": "text", "text": "what is it?"},
                ],
            },
        ],
        "tools": [
            {"type": "function", "function": {"name": "shot", "parameters": {"type": "object"}}}
        ],
        "tool_choice": "required",
        "reasoning_effort": "medium",
        "response_format": {"type": "json_object"},
        "stream": True,
        "stream_options": {"include_usage": True},
    }


@pytest.mark.parametrize(
    ("config", "effort"),
    [
        (ir.ReasoningConfig(effort="low"), "low"),
        (ir.ReasoningConfig(effort="none", enabled=False), "none"),
        (ir.ReasoningConfig(enabled=False), None),
        (ir.ReasoningConfig(budget=1024), "low"),
        (ir.ReasoningConfig(budget=131072), "high"),
        (ir.ReasoningConfig(adaptive=True), "medium"),
        (ir.ReasoningConfig(enabled=True), "medium"),
        (ir.ReasoningConfig(), None),
    ],
)
def test_reasoning_config_to_effort(config: ir.ReasoningConfig, effort: str | None) -> None:
    body = openai_chat.encode_request(ir.Request("m", reasoning=config))
    assert body.get("reasoning_effort") == effort
    if effort == "none":
        assert openai_chat.decode_request(body).reasoning == config


def test_legacy_functions_become_tools() -> None:
    body = {
        "model": "gpt-3.5-turbo",
        "messages": [
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
            },
            {"role": "function", "name": "get_weather", "content": "-3C"},
        ],
        "functions": [{"name": "get_weather", "parameters": WEATHER_SCHEMA}],
        "function_call": {"name": "get_weather"},
    }
    request = openai_chat.decode_request(body)
    assert request.tools == [ir.Tool("get_weather", None, WEATHER_SCHEMA)]
    assert request.tool_choice == ir.ToolChoice("tool", "get_weather")
    assert request.messages[1:] == [
        ir.Message("assistant", [ir.ToolCall("get_weather", "get_weather", '{"city":"Oslo"}')]),
        ir.Message("user", [ir.ToolResult("get_weather", [ir.Text("-3C")], name="get_weather")]),
    ]
    encoded = openai_chat.encode_request(request)
    assert encoded["messages"][2] == {
        "role": "tool",
        "tool_call_id": "get_weather",
        "content": "-3C",
    }
    assert encoded["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert "functions" not in encoded and "function_call" not in encoded


def test_shapes_without_an_ir_home_pass_through() -> None:
    allowed = {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}}
    audio = {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}}
    cached = {"type": "text", "text": "big doc", "cache_control": {"type": "ephemeral"}}
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": [audio, cached]}],
        "tools": [
            {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
        ],
        "tool_choice": allowed,
        "max_tokens": 10,
        "max_completion_tokens": 20,
    }
    request = openai_chat.decode_request(copy.deepcopy(body))
    assert request.tool_choice is None and request.max_tokens == 20
    assert request.messages[0].parts == [
        ir.Text("", extras={OA: {"part": audio}}),
        ir.Text("big doc", extras={OA: {"cache_control": {"type": "ephemeral"}}}),
    ]
    assert openai_chat.encode_request(request) == body


def test_tool_calls_without_index_or_id_are_tolerated() -> None:
    body = {
        "model": "m",
        "messages": [
            {
                "role": "assistant",
                "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}],
            }
        ],
    }
    (call,) = openai_chat.decode_request(body).messages[0].parts
    assert isinstance(call, ir.ToolCall)
    assert call.id.startswith("call_") and (call.name, call.arguments) == ("f", '{"a":1}')


def test_mid_conversation_system_and_described_format_keep_their_place() -> None:
    described = {
        "type": "json_schema",
        "json_schema": {"name": "n", "description": "the shape", "schema": {"type": "object"}},
    }
    body = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "first"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "tool_calls": [CALL], "content": None},
            {"role": "tool", "tool_call_id": "c1", "content": "a"},
            {"role": "developer", "content": "between two tool results"},
            {"role": "tool", "tool_call_id": "c1", "content": "b"},
            {"role": "system", "content": "last"},
        ],
        "response_format": described,
    }
    request = openai_chat.decode_request(copy.deepcopy(body))
    assert request.system_text == "first\n\nbetween two tool results\n\nlast"
    assert request.response_format == ir.ResponseFormat("json_schema", {"type": "object"}, "n")
    assert len(request.messages) == 4  # the tool results either side stay apart
    assert openai_chat.encode_request(request) == body
    request.response_format = ir.ResponseFormat("json_object")  # changed: no stale copy
    assert openai_chat.encode_request(request)["response_format"] == {"type": "json_object"}


CALL = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
