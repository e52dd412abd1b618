"""The OpenAI Responses dialect: requests ↔ IR.

Golden bodies in the shapes Codex, opencode and the openai SDK send (clients.md §3) decoded
to exact IR values and written back unchanged; changed requests and IR from other dialects
written as a Responses body for an upstream; thinking of other dialects carried in
``encrypted_content``; malformed bodies refused with a message naming the field.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from omni import ir
from omni.errors import InvalidInputError
from omni.translate import responses as r

EXEC_PARAMS = {
    "type": "object",
    "properties": {"cmd": {"type": "string"}, "workdir": {"type": "string"}},
    "required": ["cmd"],
    "additionalProperties": False,
}
CODEX_TOOLS = [
    {
        "type": "function",
        "name": "exec_command",
        "description": "Runs a command",
        "strict": False,
        "parameters": EXEC_PARAMS,
    },
    {"type": "namespace", "name": "mcp", "tools": []},
    {"type": "web_search"},
]


def codex_body(**more: Any) -> dict[str, Any]:
    """The first request of a Codex turn (clients.md §3), trimmed."""
    return {
        "model": "gpt-mock",
        "instructions": "You are Codex.",
        "input": [
            {
                "type": "message",
                "role": "developer",
                "content": [{"type": "input_text", "text": "D1"}],
            },
            {
                "type": "message",
                "role": "developer",
                "content": [{"type": "input_text", "text": "D2"}],
            },
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "<env>"}],
            },
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
            *more.pop("history", []),
        ],
        "tools": CODEX_TOOLS,
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "reasoning": {"summary": "auto"},
        "store": False,
        "stream": True,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "thread-1",
        "client_metadata": {"x": "y"},
        **more,
    }


HISTORY = [
    {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "I should run it"}],
        "encrypted_content": "gAAAAenc",
    },
    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Sure."}]},
    {
        "type": "function_call",
        "name": "exec_command",
        "arguments": '{"cmd":"echo hi"}',
        "call_id": "call_1",
    },
    {"type": "function_call_output", "call_id": "call_1", "output": "hi\nexit 0"},
    {"type": "custom_tool_call", "call_id": "call_2", "name": "apply_patch", "input": "*** Begin"},
    {"type": "custom_tool_call_output", "call_id": "call_2", "output": "done"},
]


def test_codex_first_turn_decodes_to_exact_ir() -> None:
    request = r.decode_request(codex_body())
    assert request.model == "gpt-mock"
    assert request.stream is True
    assert request.system == [ir.Text("You are Codex."), ir.Text("D1"), ir.Text("D2")]
    assert request.messages == [
        ir.Message("user", [ir.Text("<env>")]),
        ir.Message("user", [ir.Text("hi")]),
    ]
    assert request.tools == [ir.Tool("exec_command", "Runs a command", EXEC_PARAMS, False)]
    assert request.tool_choice == ir.ToolChoice("auto", parallel=True)
    assert request.reasoning == ir.ReasoningConfig(include_thoughts=True)
    assert request.response_format is None
    extras = request.extras["responses"]
    assert extras["store"] is False
    assert extras["include"] == ["reasoning.encrypted_content"]
    assert extras["prompt_cache_key"] == "thread-1"
    assert extras["client_metadata"] == {"x": "y"}


def test_codex_second_turn_history_groups_into_turns() -> None:
    request = r.decode_request(codex_body(history=HISTORY))
    assert request.messages[2:] == [
        ir.Message(
            "assistant",
            [
                ir.Reasoning("I should run it", redacted="gAAAAenc", extras={"responses": {}}),
                ir.Text("Sure."),
                ir.ToolCall(
                    "call_1", "exec_command", '{"cmd":"echo hi"}', extras={"responses": {}}
                ),
            ],
        ),
        ir.Message("user", [ir.ToolResult("call_1", [ir.Text("hi\nexit 0")], name="exec_command")]),
    ]  # the custom tool items have no IR home: they stay in the raw input


@pytest.mark.parametrize("history", [[], HISTORY])
def test_same_dialect_round_trip_is_exact(history: list[Any]) -> None:
    body = codex_body(history=history)
    assert r.encode_request(r.decode_request(copy.deepcopy(body))) == body


def test_a_changed_request_is_written_from_the_ir() -> None:
    request = r.decode_request(codex_body(history=HISTORY))
    request.model = "gpt-5"
    request.messages.append(ir.Message("user", [ir.Text("and now?")]))
    request.tools.append(ir.Tool("read", parameters={"type": "object"}))
    request.reasoning = ir.ReasoningConfig(effort="high")
    body = r.encode_request(request)
    assert body["model"] == "gpt-5"
    assert body["instructions"] == "You are Codex.\n\nD1\n\nD2"
    assert body["input"] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "<env>"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        {
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "I should run it"}],
            "encrypted_content": "gAAAAenc",
        },
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Sure."}],
        },
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "exec_command",
            "arguments": '{"cmd":"echo hi"}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "hi\nexit 0"},
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "and now?"}],
        },
    ]
    assert body["tools"] == [
        CODEX_TOOLS[0],
        {"type": "function", "name": "read", "parameters": {"type": "object"}, "strict": False},
        *CODEX_TOOLS[1:],  # hosted tools are kept
    ]
    assert body["reasoning"] == {"effort": "high"}
    assert (body["tool_choice"], body["parallel_tool_calls"], body["store"]) == (
        "auto",
        True,
        False,
    )


def test_ir_from_another_dialect_encodes_for_a_responses_upstream() -> None:
    request = ir.Request(
        model="gpt-5",
        system=[ir.Text("Be brief."), ir.Text("Use tools.")],
        messages=[
            ir.Message("user", [ir.Text("look"), ir.Image(data="AAAA", media_type="image/jpeg")]),
            ir.Message(
                "assistant",
                [
                    ir.Reasoning("hmm", signature="sig-claude"),  # not for an OpenAI upstream
                    ir.Reasoning(redacted="opaque"),  # Anthropic redacted thinking: neither
                    ir.Text("Reading."),
                    ir.ToolCall("toolu_1", "read", '{"path":"a"}'),
                ],
            ),
            ir.Message(
                "user",
                [
                    ir.ToolResult("toolu_1", [ir.Text("file a")]),
                    ir.ToolResult("toolu_2", [ir.Text("see"), ir.Image(url="https://x/i.png")]),
                    ir.Text("thanks"),
                ],
            ),
        ],
        tools=[ir.Tool("read", "Reads", {"type": "object", "properties": {}}), ir.Tool("noop")],
        tool_choice=ir.ToolChoice("tool", "read", parallel=False),
        max_tokens=1000,
        temperature=0.2,
        top_p=0.9,
        top_k=40,
        stop=["END"],
        reasoning=ir.ReasoningConfig(budget=31999, enabled=True, include_thoughts=True),
        response_format=ir.ResponseFormat("json_schema", {"type": "object"}, None, True),
        user="u1",
        extras={"anthropic": {"metadata": {"user_id": "x"}}},
    )
    assert r.encode_request(request) == {
        "model": "gpt-5",
        "instructions": "Be brief.\n\nUse tools.",
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "look"},
                    {"type": "input_image", "image_url": "data:image/jpeg;base64,AAAA"},
                ],
            },
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Reading."}],
            },
            {
                "type": "function_call",
                "call_id": "toolu_1",
                "name": "read",
                "arguments": '{"path":"a"}',
            },
            {"type": "function_call_output", "call_id": "toolu_1", "output": "file a"},
            {
                "type": "function_call_output",
                "call_id": "toolu_2",
                "output": [
                    {"type": "input_text", "text": "see"},
                    {"type": "input_image", "image_url": "https://x/i.png"},
                ],
            },
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "thanks"}],
            },
        ],
        "tools": [
            {
                "type": "function",
                "name": "read",
                "description": "Reads",
                "parameters": {"type": "object", "properties": {}},
                "strict": False,
            },
            {
                "type": "function",
                "name": "noop",
                "parameters": {"type": "object", "properties": {}},
                "strict": False,
            },
        ],
        "tool_choice": {"type": "function", "name": "read"},
        "parallel_tool_calls": False,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "text": {
            "format": {
                "type": "json_schema",
                "name": "response",
                "schema": {"type": "object"},
                "strict": True,
            }
        },
        "max_output_tokens": 1000,
        "temperature": 0.2,
        "top_p": 0.9,
        "user": "u1",
        "stream": False,
    }


@pytest.mark.parametrize(
    ("config", "wire"),
    [
        (ir.ReasoningConfig(effort="low"), {"effort": "low"}),
        (ir.ReasoningConfig(effort="max"), {"effort": "xhigh"}),
        (ir.ReasoningConfig(budget=1024), {"effort": "low"}),
        (ir.ReasoningConfig(enabled=False), None),
        (ir.ReasoningConfig(adaptive=True, include_thoughts=True), {"summary": "auto"}),
    ],
)
def test_reasoning_settings_for_an_upstream(config: ir.ReasoningConfig, wire: Any) -> None:
    body = r.encode_request(ir.Request("m", [ir.Message("user", [ir.Text("x")])], reasoning=config))
    assert body.get("reasoning") == wire


def test_string_input_and_settings() -> None:
    body = {
        "model": "gpt-4o",
        "input": "hello",
        "tool_choice": {"type": "function", "name": "f"},
        "reasoning": {"effort": "none"},
        "text": {"format": {"type": "json_object"}, "verbosity": "low"},
        "max_output_tokens": 64,
        "temperature": 1,
        "user": "me",
    }
    request = r.decode_request(body, model="override", stream=True)
    assert (request.model, request.stream, request.max_tokens, request.user) == (
        "override",
        True,
        64,
        "me",
    )
    assert request.messages == [ir.Message("user", [ir.Text("hello")])]
    assert request.tool_choice == ir.ToolChoice("tool", "f")
    assert request.reasoning == ir.ReasoningConfig(effort="none", enabled=False)
    assert request.response_format == ir.ResponseFormat("json_object")
    assert r.encode_request(request) == {**body, "model": "override", "stream": True}


def test_images_and_files_in_user_content() -> None:
    content = [
        {"type": "input_text", "text": "what is this?"},
        {"type": "input_image", "image_url": "data:image/png;base64,iVBOR", "detail": "high"},
        {"type": "input_image", "image_url": "https://example.com/a.png"},
        {"type": "input_image", "file_id": "file-1", "detail": "low"},
        {"type": "input_file", "file_id": "file-2"},  # no IR home
    ]
    request = r.decode_request({"model": "m", "input": [{"role": "user", "content": content}]})
    assert request.messages[0].parts == [
        ir.Text("what is this?"),
        ir.Image(data="iVBOR", media_type="image/png", detail="high"),
        ir.Image(url="https://example.com/a.png"),
        ir.Image(detail="low", extras={"responses": {"file_id": "file-1"}}),
    ]
    request.extras.clear()  # as if it came from elsewhere: written from the IR
    assert r.encode_request(request)["input"][0]["content"] == content[:4]


@pytest.mark.parametrize(
    ("thinking", "carried"),
    [
        (ir.Reasoning("think", signature="SIG"), "omni-sig:SIG"),
        (ir.Reasoning(redacted="opaque"), "omni-redacted:opaque"),
        (ir.Reasoning("plan", redacted="gAAA", extras={"responses": {"id": "rs_1"}}), "gAAA"),
    ],
)
def test_thinking_of_other_dialects_rides_in_encrypted_content(
    thinking: ir.Reasoning, carried: str
) -> None:
    answer = ir.Response("r1", "m", [thinking, ir.Text("ok")])
    item = r.encode_response(answer)["output"][0]
    assert item["encrypted_content"] == carried
    back = r.decode_request({"model": "m", "input": [item]})
    (part,) = back.messages[0].parts
    assert isinstance(part, ir.Reasoning)
    assert (part.text, part.signature, part.redacted) == (
        thinking.text,
        thinking.signature,
        thinking.redacted,
    )
    back.extras.clear()  # written from the IR: only an OpenAI upstream's own goes back
    sent = [i["encrypted_content"] for i in r.encode_request(back)["input"]]
    assert sent == ([carried] if "responses" in thinking.extras else [])


# -- malformed bodies -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "JSON object"),
        ({"input": "x"}, "'model'"),
        ({"model": 3, "input": "x"}, "'model'"),
        ({"model": "m", "input": 5}, "'input'"),
        ({"model": "m", "input": [3]}, "'input[0]'"),
        ({"model": "m", "input": [{"content": "x"}]}, "'input[0]'"),
        ({"model": "m", "input": [{"role": "tool", "content": "x"}]}, "'input[0].role'"),
        ({"model": "m", "input": [{"role": "user", "content": 5}]}, "'input[0].content'"),
        (
            {"model": "m", "input": [{"role": "user", "content": [{"type": "input_text"}]}]},
            "'input[0].content[0].text'",
        ),
        (
            {"model": "m", "input": [{"role": "user", "content": [{"type": "input_image"}]}]},
            "'input[0].content[0]'",
        ),
        ({"model": "m", "input": [{"type": "function_call", "name": "f"}]}, "'input[0].call_id'"),
        (
            {
                "model": "m",
                "input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": 3}],
            },
            "'input[0].arguments'",
        ),
        (
            {"model": "m", "input": [{"type": "function_call_output", "call_id": "c"}]},
            "'input[0].output'",
        ),
        (
            {"model": "m", "input": [{"type": "reasoning", "encrypted_content": 1}]},
            "'input[0].encrypted_content'",
        ),
        ({"model": "m", "instructions": ["x"]}, "'instructions'"),
        ({"model": "m", "tools": {}}, "'tools'"),
        ({"model": "m", "tools": [{"type": "function"}]}, "'tools[0].name'"),
        (
            {"model": "m", "tools": [{"type": "function", "name": "f", "parameters": []}]},
            "'tools[0].parameters'",
        ),
        (
            {"model": "m", "tools": [{"type": "function", "name": "f", "strict": "yes"}]},
            "'tools[0].strict'",
        ),
        ({"model": "m", "tool_choice": "sometimes"}, "'tool_choice'"),
        ({"model": "m", "tool_choice": {"type": "function"}}, "'tool_choice.name'"),
        ({"model": "m", "parallel_tool_calls": "yes"}, "'parallel_tool_calls'"),
        ({"model": "m", "max_output_tokens": "9"}, "'max_output_tokens'"),
        ({"model": "m", "temperature": "hot"}, "'temperature'"),
        ({"model": "m", "stream": "yes"}, "'stream'"),
        ({"model": "m", "reasoning": "high"}, "'reasoning'"),
        ({"model": "m", "reasoning": {"effort": 3}}, "'reasoning.effort'"),
        ({"model": "m", "text": {"format": {"type": "yaml"}}}, "'text.format.type'"),
        ({"model": "m", "text": {"format": {"type": "json_schema"}}}, "'text.format.schema'"),
        ({"model": "m", "text": {"format": "json"}}, "'text.format'"),
    ],
)
def test_malformed_requests_name_the_field(body: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        r.decode_request(body)
    assert field in str(caught.value)


def test_malformed_responses_are_refused() -> None:
    bodies: list[Any] = [
        [],
        {"output": {}},
        {"output": [1]},
        {"output": [{"type": "function_call"}]},
    ]
    for body in bodies:
        with pytest.raises(InvalidInputError):
            r.decode_response(body)
