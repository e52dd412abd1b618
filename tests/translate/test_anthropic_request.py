"""Anthropic Messages requests: decoding what clients send, encoding for Anthropic upstreams."""

from __future__ import annotations

import copy
from typing import Any, Literal

import pytest

from omni import ir
from omni.translate import anthropic as an
from omni.translate import codec

EPHEMERAL = {"type": "ephemeral"}
BASH_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {"command": {"type": "string"}},
    "required": ["command"],
    "additionalProperties": False,
}
USER_ID = '{"device_id":"d1","account_uuid":"","session_id":"s1"}'

# What Claude Code 2.1 sends with --model claude-sonnet-4-5 on its second turn (trimmed).
CLAUDE_CODE: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "<system-reminder>ctx</system-reminder>"},
                {"type": "text", "text": "run echo hi", "cache_control": EPHEMERAL},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Use Bash.", "signature": "EqQBCkgIARAB"},
                {"type": "text", "text": "Running it."},
                {"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {"command": "ls"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01",
                    "content": "hi-from-tool",
                    "is_error": False,
                    "cache_control": EPHEMERAL,
                }
            ],
        },
    ],
    "system": [
        {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.197"},
        {"type": "text", "text": "You are Claude Code.", "cache_control": EPHEMERAL},
    ],
    "tools": [
        {"name": "Bash", "description": "Run a shell command", "input_schema": BASH_SCHEMA},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
    ],
    "metadata": {"user_id": USER_ID},
    "max_tokens": 32000,
    "thinking": {"type": "enabled", "budget_tokens": 31999},
    "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
    "stream": True,
}


def _anthropic(**fields: Any) -> ir.Extras:
    return {"anthropic": fields}


def test_claude_code_request_decodes_to_exact_ir() -> None:
    request = an.decode_request(copy.deepcopy(CLAUDE_CODE))
    cache = _anthropic(cache_control=EPHEMERAL)
    assert request == ir.Request(
        model="claude-sonnet-4-5",
        messages=[
            ir.Message(
                "user",
                [
                    ir.Text("<system-reminder>ctx</system-reminder>"),
                    ir.Text("run echo hi", cache),
                ],
            ),
            ir.Message(
                "assistant",
                [
                    ir.Reasoning("Use Bash.", "EqQBCkgIARAB"),
                    ir.Text("Running it."),
                    ir.ToolCall("toolu_01", "Bash", '{"command":"ls"}'),
                ],
            ),
            ir.Message(
                "user", [ir.ToolResult("toolu_01", [ir.Text("hi-from-tool")], extras=cache)]
            ),
        ],
        system=[
            ir.Text("x-anthropic-billing-header: cc_version=2.1.197"),
            ir.Text("You are Claude Code.", cache),
        ],
        tools=[ir.Tool("Bash", "Run a shell command", BASH_SCHEMA)],
        stream=True,
        max_tokens=32000,
        reasoning=ir.ReasoningConfig(budget=31999, enabled=True),
        stream_usage=True,
        user=USER_ID,
        extras=_anthropic(
            metadata={"user_id": USER_ID},
            thinking={"type": "enabled", "budget_tokens": 31999},
            context_management=CLAUDE_CODE["context_management"],
            server_tools=[CLAUDE_CODE["tools"][1]],
        ),
    )


def test_claude_code_request_round_trips() -> None:
    expected = copy.deepcopy(CLAUDE_CODE)
    del expected["messages"][2]["content"][0]["is_error"]  # false is the default
    assert an.encode_request(an.decode_request(copy.deepcopy(CLAUDE_CODE))) == expected


def test_default_opus_request_keeps_adaptive_thinking_and_effort() -> None:
    body = {
        "model": "claude-opus-4-8",
        "max_tokens": 64000,
        "messages": [{"role": "user", "content": "hi"}],
        "thinking": {"type": "adaptive"},
        "output_config": {"effort": "high"},
        "stream": True,
    }
    request = an.decode_request(body)
    assert request.reasoning == ir.ReasoningConfig(effort="high", enabled=True, adaptive=True)
    encoded = an.encode_request(request)
    assert encoded == {**body, "messages": [{"role": "user", "content": [_text("hi")]}]}


def test_codec_registry_finds_the_module() -> None:
    module = codec.codec(ir.Dialect.ANTHROPIC)
    assert module.STREAM_CONTENT_TYPE == "text/event-stream"
    assert module.decode_request({"model": "m", "messages": []}).model == "m"


def test_url_model_and_stream_override_the_body() -> None:
    body = {"model": "a", "messages": [], "stream": True}
    request = an.decode_request(body, model="b", stream=False)
    assert (request.model, request.stream, request.max_tokens) == ("b", False, None)


def test_string_system_and_content_and_images() -> None:
    body: dict[str, Any] = {
        "model": "m",
        "system": "Be brief.",
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"},
                    },
                    {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
                    {"type": "document", "source": {"type": "text", "data": "doc text"}},
                ],
            }
        ],
    }
    request = an.decode_request(body)
    assert request.system == [ir.Text("Be brief.")]
    doc = body["messages"][0]["content"][2]
    assert request.messages[0].parts == [
        ir.Image(data="AAAA", media_type="image/png"),
        ir.Image(url="https://x/y.png"),
        ir.Text("doc text", _anthropic(block=doc)),
    ]
    encoded = an.encode_request(request)
    assert encoded["system"] == [_text("Be brief.")]
    assert encoded["messages"][0]["content"] == body["messages"][0]["content"]


# -- encoding for an upstream ------------------------------------------------------------


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _result(call_id: str, content: str, error: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id, "content": content}
    return {**out, "is_error": True} if error else out


def _use(call_id: str, name: str = "f", arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": arguments or {}}


def test_turns_alternate_and_every_tool_use_gets_its_result() -> None:
    user: Literal["user"] = "user"
    assistant: Literal["assistant"] = "assistant"
    messages = [
        ir.Message(user, [ir.Text("weather?")]),
        ir.Message(user, [ir.Text("  ")]),  # whitespace only: dropped
        ir.Message(
            assistant,
            [ir.Text("Checking."), ir.ToolCall("a", "f", '{"x":1}'), ir.ToolCall("b", "g")],
        ),
        ir.Message(user, [ir.ToolResult("b", [ir.Text("B")])]),  # OpenAI: one per tool message
        ir.Message(user, [ir.Text("and")]),
        ir.Message(user, [ir.ToolResult("a", [ir.Text("A")], is_error=True)]),
        ir.Message(user, [ir.ToolResult("zzz", [ir.Text("orphan")])]),
        ir.Message(assistant, []),
        ir.Message(assistant, [ir.ToolCall("c", "f")]),
        ir.Message(user, [ir.Text("never mind")]),  # c got no result
        ir.Message(assistant, [ir.Text("OK.")]),
        ir.Message(assistant, [ir.ToolCall("d", "f")]),  # unanswered at the end
    ]
    body = an.encode_request(ir.Request(model="m", messages=messages))
    assert body["messages"] == [
        {"role": user, "content": [_text("weather?")]},
        {
            "role": assistant,
            "content": [_text("Checking."), _use("a", "f", {"x": 1}), _use("b", "g")],
        },
        {
            "role": user,
            "content": [_result("a", "A", error=True), _result("b", "B"), _text("and")],
        },
        {"role": assistant, "content": [_use("c")]},
        {"role": user, "content": [_result("c", an.NO_RESULT, True), _text("never mind")]},
        {"role": assistant, "content": [_text("OK."), _use("d")]},
        {"role": user, "content": [_result("d", an.NO_RESULT, True)]},
    ]
    assert body["max_tokens"] == an.DEFAULT_MAX_TOKENS


def test_orphan_results_are_dropped_and_empty_turns_merge_away() -> None:
    messages = [
        ir.Message("user", [ir.Text("hi")]),
        ir.Message("assistant", [ir.Text("one")]),
        ir.Message("user", [ir.ToolResult("ghost", [ir.Text("x")])]),
        ir.Message("assistant", [ir.Text("two ")]),
    ]
    body = an.encode_request(ir.Request(model="m", messages=messages))
    assert body["messages"] == [
        {"role": "user", "content": [_text("hi")]},
        {"role": "assistant", "content": [_text("one"), _text("two")]},  # prefill: no trailing
    ]
    assert an.encode_request(ir.Request(model="m"))["messages"] == [
        {"role": "user", "content": [_text("Continue.")]}
    ]


def test_reasoning_history_keeps_only_genuine_signatures() -> None:
    parts: list[ir.Part] = [
        ir.Reasoning("from another dialect"),
        ir.Reasoning("signed", signature="sig"),
        ir.Reasoning(redacted="opaque"),
        ir.Text("answer"),
    ]
    request = ir.Request(
        model="m",
        messages=[
            ir.Message("user", [ir.Text("q"), ir.Reasoning("x", "s")]),
            ir.Message("assistant", parts),
        ],
    )
    body = an.encode_request(request)
    assert body["messages"][0]["content"] == [_text("q")]
    assert body["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "signed", "signature": "sig"},
        {"type": "redacted_thinking", "data": "opaque"},
        _text("answer"),
    ]


@pytest.mark.parametrize(
    ("reasoning", "max_tokens", "thinking", "expected_max", "output_config"),
    [
        (
            ir.ReasoningConfig(effort="low"),
            None,
            {"type": "enabled", "budget_tokens": 1024},
            5120,
            None,
        ),
        (
            ir.ReasoningConfig(effort="medium"),
            20000,
            {"type": "enabled", "budget_tokens": 10240},
            20000,
            None,
        ),
        (
            ir.ReasoningConfig(effort="high"),
            None,
            {"type": "enabled", "budget_tokens": 32000},
            64000,
            None,
        ),
        (
            ir.ReasoningConfig(effort="high"),
            8000,
            {"type": "enabled", "budget_tokens": 4000},
            8000,
            None,
        ),
        (
            ir.ReasoningConfig(budget=500),
            1000,
            {"type": "enabled", "budget_tokens": 1024},
            2024,
            None,
        ),
        (
            ir.ReasoningConfig(budget=-1),
            None,
            {"type": "enabled", "budget_tokens": 10240},
            14336,
            None,
        ),
        (
            ir.ReasoningConfig(enabled=True),
            None,
            {"type": "enabled", "budget_tokens": 10240},
            14336,
            None,
        ),
        (
            ir.ReasoningConfig(effort="max", adaptive=True),
            None,
            {"type": "adaptive"},
            16384,
            {"effort": "max"},
        ),
        (
            ir.ReasoningConfig(effort="minimal", adaptive=True),
            100,
            {"type": "adaptive"},
            100,
            {"effort": "low"},
        ),
        (ir.ReasoningConfig(enabled=False), None, {"type": "disabled"}, 4096, None),
        (ir.ReasoningConfig(effort="none"), None, {"type": "disabled"}, 4096, None),
        (ir.ReasoningConfig(budget=0), None, {"type": "disabled"}, 4096, None),
        (None, None, None, 4096, None),
    ],
)
def test_reasoning_maps_to_thinking_and_fits_max_tokens(
    reasoning: ir.ReasoningConfig | None,
    max_tokens: int | None,
    thinking: dict[str, Any] | None,
    expected_max: int,
    output_config: dict[str, Any] | None,
) -> None:
    request = ir.Request(
        model="m",
        messages=[ir.Message("user", [ir.Text("q")])],
        max_tokens=max_tokens,
        reasoning=reasoning,
        temperature=0.3,
        top_k=5,
        top_p=0.5,
    )
    body = an.encode_request(request)
    assert body.get("thinking") == thinking
    assert body["max_tokens"] == expected_max
    assert body.get("output_config") == output_config
    on = thinking is not None and thinking["type"] != "disabled"
    sampling = {k: body.get(k) for k in ("temperature", "top_k", "top_p")}
    given: dict[str, Any] = {"temperature": 0.3, "top_k": 5, "top_p": 0.5}
    assert sampling == (dict.fromkeys(given) if on else given)
    if thinking and thinking["type"] == "enabled":
        assert 1024 <= thinking["budget_tokens"] < body["max_tokens"]


def test_thinking_keeps_top_p_near_one() -> None:
    request = ir.Request(model="m", reasoning=ir.ReasoningConfig(effort="low"), top_p=0.97)
    assert an.encode_request(request)["top_p"] == 0.97


def test_thinking_is_dropped_for_a_forced_tool_or_an_unsigned_tool_turn() -> None:
    tool = ir.Tool("f", parameters={"type": "object"})
    forced = ir.Request(
        model="m",
        tools=[tool],
        tool_choice=ir.ToolChoice("tool", "f"),
        reasoning=ir.ReasoningConfig(effort="high"),
        temperature=0.5,
    )
    body = an.encode_request(forced)
    assert "thinking" not in body
    assert (body["tool_choice"], body["temperature"]) == ({"type": "tool", "name": "f"}, 0.5)
    loop = [
        ir.Message("user", [ir.Text("q")]),
        ir.Message("assistant", [ir.Reasoning("unsigned"), ir.ToolCall("a", "f")]),
        ir.Message("user", [ir.ToolResult("a", [ir.Text("r")])]),
    ]
    unsigned = ir.Request(model="m", messages=loop, reasoning=ir.ReasoningConfig(effort="low"))
    assert "thinking" not in an.encode_request(unsigned)
    loop[1].parts[0] = ir.Reasoning("signed", "sig")
    assert an.encode_request(unsigned)["thinking"]["type"] == "enabled"


def test_tools_and_tool_choice() -> None:
    tools = [
        ir.Tool("bare", parameters={"type": "object"}),
        ir.Tool("none"),
        ir.Tool("", description="nameless tools are refused upstream"),
        ir.Tool("full", "d", {"type": "object", "properties": {"a": {}}}, strict=True),
    ]
    request = ir.Request(model="m", tools=tools, tool_choice=ir.ToolChoice("required", None, False))
    body = an.encode_request(request)
    assert body["tools"] == [
        {"name": "bare", "input_schema": {"type": "object", "properties": {}}},
        {"name": "none", "input_schema": {"type": "object", "properties": {}}},
        {
            "name": "full",
            "description": "d",
            "input_schema": {"type": "object", "properties": {"a": {}}},
            "strict": True,
        },
    ]
    assert body["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    cases: list[tuple[ir.ToolChoice, dict[str, Any]]] = [
        (ir.ToolChoice("auto"), {"type": "auto"}),
        (ir.ToolChoice("none", parallel=True), {"type": "none"}),
        (
            ir.ToolChoice("auto", parallel=True),
            {"type": "auto", "disable_parallel_tool_use": False},
        ),
        (ir.ToolChoice("tool", "full"), {"type": "tool", "name": "full"}),
    ]
    for choice, expected in cases:
        request = ir.Request(model="m", tools=tools, tool_choice=choice)
        assert an.encode_request(request)["tool_choice"] == expected
    no_tools = ir.Request(model="m", tool_choice=ir.ToolChoice("required"))
    assert "tool_choice" not in an.encode_request(no_tools)


def test_response_format_becomes_a_system_instruction() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    request = ir.Request(
        model="m",
        system=[ir.Text("Be exact.")],
        response_format=ir.ResponseFormat("json_schema", schema=schema, name="out"),
    )
    system = an.encode_request(request)["system"]
    assert system[0] == _text("Be exact.")
    assert "JSON" in system[1]["text"] and '{"type":"object"' in system[1]["text"]
    request.response_format = ir.ResponseFormat("json_object")
    assert "JSON" in an.encode_request(request)["system"][1]["text"]
    request.response_format = ir.ResponseFormat("text")
    assert len(an.encode_request(request)["system"]) == 1


def test_native_structured_output_round_trips() -> None:
    fmt: dict[str, Any] = {"type": "json_schema", "schema": {"type": "object"}}
    cases: list[tuple[str, dict[str, Any]]] = [
        ("output_config", {"output_config": {"format": fmt, "effort": "low"}}),
        ("output_format", {"output_format": fmt}),
    ]
    for key, body in cases:
        full = {"model": "m", "max_tokens": 10, "messages": [], **body}
        request = an.decode_request(full)
        assert request.response_format == ir.ResponseFormat("json_schema", schema=fmt["schema"])
        encoded = an.encode_request(request)
        assert encoded[key] == body[key], key
        assert "system" not in encoded


def test_images_user_and_other_dialects_extras() -> None:
    parts: list[ir.Part] = [
        ir.Image(url="data:image/jpeg;base64,/9j/"),
        ir.Image(url="https://example.com/a.png", detail="high"),
        ir.Image(data="iVBO"),
        ir.Text("look", extras={"openai": {"x": 1}}),
    ]
    request = ir.Request(model="m", messages=[ir.Message("user", parts)], user="u1")
    body = an.encode_request(request)
    assert body["messages"][0]["content"] == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/"}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}},
        _text("look"),
    ]
    assert body["metadata"] == {"user_id": "u1"}


def test_empty_tool_results_get_placeholder_content() -> None:
    messages = [
        ir.Message("assistant", [ir.ToolCall("a", "f"), ir.ToolCall("b", "f")]),
        ir.Message("user", [ir.ToolResult("a"), ir.ToolResult("b", [ir.Text("")], is_error=True)]),
    ]
    body = an.encode_request(ir.Request(model="m", messages=messages))
    assert body["messages"][1]["content"] == [
        _result("a", "(no output)"),
        _result("b", "(no output)", error=True),
    ]


def test_tool_result_with_image_blocks() -> None:
    block = {
        "type": "tool_result",
        "tool_use_id": "t",
        "content": [
            _text("see"),
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/gif", "data": "R0"},
            },
        ],
    }
    body = {
        "model": "m",
        "max_tokens": 5,
        "messages": [
            {"role": "assistant", "content": [_use("t")]},
            {"role": "user", "content": [block]},
        ],
    }
    request = an.decode_request(body)
    assert request.messages[1].parts == [
        ir.ToolResult("t", [ir.Text("see"), ir.Image(data="R0", media_type="image/gif")])
    ]
    assert an.encode_request(request) == body


def test_older_opus_models_get_their_smaller_output_limit() -> None:
    for model, expected in [
        ("claude-opus-4-1-20250805", (32000, 16000)),
        ("claude-opus-4-0", (32000, 16000)),
        ("claude-opus-4-5", (64000, 32000)),
        ("claude-sonnet-4-5", (64000, 32000)),
    ]:
        request = ir.Request(model=model, reasoning=ir.ReasoningConfig(effort="high"))
        body = an.encode_request(request)
        assert (body["max_tokens"], body["thinking"]["budget_tokens"]) == expected, model
