"""Gemini generateContent ⇄ IR: requests, complete responses, countTokens and model lists."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from omni import ir
from omni.errors import InvalidInputError
from omni.translate import codec, gemini
from tests.fakes.dialects_common import Ctx, signature
from tests.fakes.dialects_others import gemini_json
from tests.fakes.upstream import Reply, ToolCall, Usage

D = "gemini"

# What gemini-cli sends (clients.md §3): camelCase, parametersJsonSchema, thinkingLevel.
CLI_BODY: dict[str, Any] = {
    "contents": [
        {"role": "user", "parts": [{"text": "list the files"}]},
        {
            "role": "model",
            "parts": [
                {"text": "I should look", "thought": True, "thoughtSignature": "c2lnMQ=="},
                {"functionCall": {"name": "ls", "args": {"dir": "."}}, "thoughtSignature": "c2ln"},
                {"functionCall": {"name": "ls", "args": {"dir": "/"}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "ls", "response": {"output": "a.txt"}}},
                {"functionResponse": {"name": "ls", "response": {"error": "denied"}}},
            ],
        },
    ],
    "systemInstruction": {"role": "user", "parts": [{"text": "You are a CLI."}]},
    "tools": [
        {
            "functionDeclarations": [
                {
                    "name": "ls",
                    "description": "List a directory",
                    "parametersJsonSchema": {
                        "type": "object",
                        "properties": {"dir": {"type": "string"}},
                        "required": ["dir"],
                    },
                }
            ]
        }
    ],
    "generationConfig": {
        "temperature": 0,
        "topP": 1,
        "thinkingConfig": {"includeThoughts": True, "thinkingLevel": "HIGH"},
        "responseMimeType": "application/json",
        "responseJsonSchema": {"type": "object", "properties": {"score": {"type": "integer"}}},
    },
}


def test_gemini_cli_request_decodes_to_exact_ir() -> None:
    request = gemini.decode_request(CLI_BODY, model="models/gemini-2.5-flash", stream=True)
    assert request.model == "gemini-2.5-flash"
    assert request.stream and request.stream_usage
    assert request.system == [ir.Text("You are a CLI.")]
    user, model, results = request.messages
    assert user == ir.Message("user", [ir.Text("list the files")])
    assert model.role == "assistant"
    assert model.parts == [
        ir.Reasoning("I should look", "gemini:c2lnMQ=="),  # tagged as Gemini's
        ir.ToolCall("call_ls_1", "ls", '{"dir":"."}', "c2ln", {D: {"id": "synthetic"}}),
        ir.ToolCall("call_ls_2", "ls", '{"dir":"/"}', None, {D: {"id": "synthetic"}}),
    ]
    assert results.parts == [
        ir.ToolResult("call_ls_1", [ir.Text("a.txt")], False, "ls",
                      {D: {"response": {"output": "a.txt"}}}),
        ir.ToolResult("call_ls_2", [ir.Text("denied")], True, "ls",
                      {D: {"response": {"error": "denied"}}}),
    ]  # fmt: skip
    schema = {"type": "object", "properties": {"dir": {"type": "string"}}, "required": ["dir"]}
    assert request.tools == [
        ir.Tool(
            "ls",
            "List a directory",
            schema,
            extras={D: {"schema": {"key": "parametersJsonSchema"}}},
        )
    ]
    assert request.temperature == 0.0 and request.top_p == 1.0
    assert request.reasoning == ir.ReasoningConfig(
        effort="high", enabled=True, include_thoughts=True
    )
    assert request.response_format == ir.ResponseFormat(
        "json_schema", {"type": "object", "properties": {"score": {"type": "integer"}}}
    )
    assert gemini.encode_request(request) == CLI_BODY


def test_snake_case_body_reads_like_camel_case() -> None:
    snake = {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "system_instruction": {"parts": [{"text": "sys"}]},
        "generation_config": {"max_output_tokens": 64, "stop_sequences": ["END"], "top_k": 40},
        "tools": [{"function_declarations": [{"name": "f", "parameters_json_schema": {}}]}],
        "tool_config": {"function_calling_config": {"mode": "NONE"}},
        "safety_settings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
    }
    request = gemini.decode_request(snake, model="gemini-2.5-pro")
    assert request.system == [ir.Text("sys")]
    assert (request.max_tokens, request.stop, request.top_k) == (64, ["END"], 40)
    assert request.tool_choice == ir.ToolChoice("none")
    assert [t.name for t in request.tools] == ["f"]
    body = gemini.encode_request(request)
    assert body["safetySettings"] == snake["safety_settings"]
    assert body["tools"] == [{"functionDeclarations": [{"name": "f", "parametersJsonSchema": {}}]}]
    assert body["generationConfig"] == {"maxOutputTokens": 64, "stopSequences": ["END"], "topK": 40}


def test_function_responses_pair_with_their_calls() -> None:
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "go"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "a.b", "args": {}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "a.b", "response": {}}}]},
            {"role": "model", "parts": [
                {"functionCall": {"name": "read", "args": {"f": 1}, "id": "given-1"}},
                {"functionCall": {"name": "read", "args": {"f": 2}}},
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "read", "response": {"x": 2}}},
                {"functionResponse": {"name": "read", "id": "given-1", "response": {"x": 1}}},
                {"functionResponse": {"name": "orphan", "response": {"result": "?"}}},
            ]},
        ]
    }  # fmt: skip
    request = gemini.decode_request(body, model="m")
    calls = [p for m in request.messages for p in m.parts if isinstance(p, ir.ToolCall)]
    results = [p for m in request.messages for p in m.parts if isinstance(p, ir.ToolResult)]
    assert [c.id for c in calls] == ["call_a_b_1", "given-1", "call_read_2"]
    assert [r.call_id for r in results] == ["call_a_b_1", "call_read_2", "given-1", "call_orphan_3"]
    assert [r.text for r in results] == ["{}", '{"x":2}', '{"x":1}', "?"]
    assert gemini.encode_request(request) == body  # ids only where the client gave them


def test_other_dialects_ir_encodes_to_what_gemini_accepts() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "additionalProperties": {"type": "string"},  # a property named so stays
            "opts": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
    }
    request = ir.Request(
        model="gemini-2.5-flash",
        system=[ir.Text("sys one"), ir.Text(""), ir.Text("sys two")],
        messages=[
            ir.Message("user", [ir.Text("hi"), ir.Text("")]),
            ir.Message("user", [ir.Image(url="data:image/png;base64,iVBORw0KGgo=")]),
            ir.Message("assistant", [
                ir.Reasoning("no signature"),
                ir.Reasoning("", redacted="opaque"),
                ir.Text("calling"),
                ir.ToolCall("toolu_1", "Bash", '{"command": "ls"}'),
                ir.ToolCall("toolu_2", "Read", "", signature="c2ln"),
            ]),
            ir.Message("user", [
                ir.ToolResult("toolu_1", [ir.Text("out")]),
                ir.ToolResult("toolu_2", [ir.Text("boom"), ir.Image(data="/9j/4AAQ")], True),
            ]),
            ir.Message("user", [ir.Image(url="https://x.test/cat.webp?size=2")]),
            ir.Message("assistant", []),
        ],
        tools=[
            ir.Tool("Bash", "Run a command", schema),
            ir.Tool("Read", None, {"type": "object", "properties": {}}),
        ],
        tool_choice=ir.ToolChoice("tool", "Bash"),
        max_tokens=1000, temperature=0.3, top_p=0.9, top_k=20, stop=["\n\n"], seed=7,
        reasoning=ir.ReasoningConfig(effort="high"),
        response_format=ir.ResponseFormat("json_schema", {"additionalProperties": False}),
    )  # fmt: skip
    assert gemini.encode_request(request) == {
        "contents": [
            {"role": "user", "parts": [
                {"text": "hi"}, {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
            ]},
            {"role": "model", "parts": [
                {"text": "calling"},
                {"functionCall": {"name": "Bash", "args": {"command": "ls"}},
                 "thoughtSignature": "skip_thought_signature_validator"},  # first, unsigned
                {"functionCall": {"name": "Read", "args": {}}, "thoughtSignature": "c2ln"},
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "Bash", "response": {"output": "out"}}},
                {"functionResponse": {"name": "Read", "response": {"error": "boom"}}},
                {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AAQ"}},
                {"fileData": {"mimeType": "image/webp", "fileUri": "https://x.test/cat.webp?size=2"}},
            ]},
        ],
        "systemInstruction": {"parts": [{"text": "sys one"}, {"text": "sys two"}]},
        "tools": [{"functionDeclarations": [
            {"name": "Bash", "description": "Run a command", "parameters": {
                "type": "object",
                "properties": {
                    "additionalProperties": {"type": "string"},
                    "opts": {"type": "object"},
                },
            }},
            {"name": "Read"},
        ]}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["Bash"]}},
        "generationConfig": {
            "maxOutputTokens": 1000, "temperature": 0.3, "topP": 0.9, "topK": 20, "seed": 7,
            "stopSequences": ["\n\n"],
            "responseMimeType": "application/json", "responseSchema": {},
            "thinkingConfig": {"thinkingBudget": gemini.MAX_BUDGET, "includeThoughts": True},
        },
    }  # fmt: skip


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        (ir.ToolChoice("auto"), {"mode": "AUTO"}),
        (ir.ToolChoice("none"), {"mode": "NONE"}),
        (ir.ToolChoice("required"), {"mode": "ANY"}),
        (ir.ToolChoice("tool", "f"), {"mode": "ANY", "allowedFunctionNames": ["f"]}),
    ],
)
def test_tool_choice(choice: ir.ToolChoice, config: dict[str, Any]) -> None:
    body = gemini.encode_request(ir.Request(model="m", tool_choice=choice))
    assert body["toolConfig"] == {"functionCallingConfig": config}
    decoded = gemini.decode_request({"contents": [], **body}, model="m")
    assert decoded.tool_choice == choice


@pytest.mark.parametrize(
    ("reasoning", "thinking"),
    [
        (ir.ReasoningConfig(enabled=False), {"thinkingBudget": 0}),
        (ir.ReasoningConfig(effort="none"), {"thinkingBudget": 0}),
        (ir.ReasoningConfig(effort="low"), {"thinkingBudget": 1024, "includeThoughts": True}),
        (ir.ReasoningConfig(budget=2000, include_thoughts=False),
         {"thinkingBudget": 2000, "includeThoughts": False}),
        (ir.ReasoningConfig(budget=31999, enabled=True),
         {"thinkingBudget": gemini.MAX_BUDGET, "includeThoughts": True}),
        (ir.ReasoningConfig(adaptive=True), {"thinkingBudget": -1, "includeThoughts": True}),
        (ir.ReasoningConfig(enabled=True), {"includeThoughts": True}),
    ],
)  # fmt: skip
def test_reasoning_becomes_thinking_config(
    reasoning: ir.ReasoningConfig, thinking: dict[str, Any]
) -> None:
    body = gemini.encode_request(ir.Request(model="m", reasoning=reasoning))
    assert body["generationConfig"] == {"thinkingConfig": thinking}


def test_thinking_config_decodes() -> None:
    def reasoning(config: dict[str, Any]) -> ir.ReasoningConfig | None:
        body = {"contents": [], "generationConfig": {"thinkingConfig": config}}
        return gemini.decode_request(body, model="m").reasoning

    assert reasoning({"thinkingBudget": 0}) == ir.ReasoningConfig(budget=0, enabled=False)
    assert reasoning({"thinkingBudget": -1}) == ir.ReasoningConfig(enabled=True, adaptive=True)
    assert reasoning({"thinkingBudget": 512, "includeThoughts": False}) == ir.ReasoningConfig(
        budget=512, enabled=True, include_thoughts=False
    )


@pytest.mark.parametrize(
    ("fmt", "generation"),
    [
        (ir.ResponseFormat("json_object"), {"responseMimeType": "application/json"}),
        (ir.ResponseFormat("text"), {"responseMimeType": "text/plain"}),
    ],
)
def test_response_format(fmt: ir.ResponseFormat, generation: dict[str, Any]) -> None:
    body = gemini.encode_request(ir.Request(model="m", response_format=fmt))
    assert body["generationConfig"] == generation
    assert gemini.decode_request({"contents": [], **body}, model="m").response_format == fmt


def test_gemini_schema_types_are_json_schema_in_the_ir() -> None:
    raw = {"type": "OBJECT", "properties": {"enum": {"type": "STRING", "enum": ["A", "B"]}}}
    body = {
        "contents": [{"parts": [{"text": "x"}]}],
        "tools": [{"functionDeclarations": [{"name": "f", "parameters": raw}]}],
        "generationConfig": {"responseMimeType": "text/x.enum", "responseSchema": raw},
    }
    request = gemini.decode_request(body, model="m")
    assert request.tools[0].parameters == {
        "type": "object", "properties": {"enum": {"type": "string", "enum": ["A", "B"]}},
    }  # fmt: skip
    assert request.response_format is None  # an enum answer has no IR home: kept in extras
    assert request.messages[0].role == "user"
    encoded = gemini.encode_request(request)
    assert encoded == {**body, "contents": [{"role": "user", "parts": [{"text": "x"}]}]}
    request.tools[0].parameters = {"type": "object", "properties": {}}  # changed on the way
    assert gemini.encode_request(request)["tools"][0]["functionDeclarations"][0] == {
        "name": "f", "parameters": {"type": "object", "properties": {}},
    }  # fmt: skip


def test_count_tokens_request_and_estimate() -> None:
    wrapped = {"generateContentRequest": {"model": "models/m", "contents": CLI_BODY["contents"]}}
    request = gemini.decode_request(wrapped, model="m")
    assert len(request.messages) == 3
    assert gemini.count_tokens_estimate(request) > 5
    assert gemini.count_tokens_estimate(ir.Request(model="m")) == 1
    with_image = ir.Request(model="m", messages=[ir.Message("user", [ir.Image(data="AAAA")])])
    assert gemini.count_tokens_estimate(with_image) == 258


def test_models_list() -> None:
    assert gemini.models_list(["gemini-2.5-flash", "models/x"]) == {
        "models": [
            {"name": "models/gemini-2.5-flash", "displayName": "gemini-2.5-flash",
             "supportedGenerationMethods": ["generateContent", "streamGenerateContent",
                                            "countTokens"]},
            {"name": "models/x", "displayName": "x",
             "supportedGenerationMethods": ["generateContent", "streamGenerateContent",
                                            "countTokens"]},
        ]
    }  # fmt: skip


@pytest.mark.parametrize(
    ("body", "model", "where"),
    [
        ([], "m", "request body"),
        ({"contents": []}, None, "model"),
        ({"contents": {}}, "m", "contents"),
        ({"contents": ["x"]}, "m", "contents[0]"),
        ({"contents": [{"role": "system", "parts": []}]}, "m", "contents[0].role"),
        ({"contents": [{"parts": {"text": "x"}}]}, "m", "contents[0].parts"),
        ({"contents": [{"parts": [{"text": 3}]}]}, "m", "contents[0].parts[0].text"),
        ({"contents": [{"parts": [{"functionCall": {"args": {}}}]}]}, "m", "functionCall.name"),
        ({"contents": [{"parts": [{"functionCall": "ls"}]}]}, "m", "functionCall"),
        ({"contents": [{"parts": [{"functionResponse": {"name": ""}}]}]}, "m", "name"),
        ({"contents": [{"parts": [{"inlineData": {"mimeType": "a"}}]}]}, "m", "inlineData.data"),
        ({"contents": [{"parts": [{"fileData": {}}]}]}, "m", "fileData.fileUri"),
        ({"contents": [{"parts": [{"text": "x", "thoughtSignature": 1}]}]}, "m", "thoughtSig"),
        ({"contents": [], "systemInstruction": 5}, "m", "systemInstruction"),
        ({"contents": [], "systemInstruction": {"parts": [{"text": 1}]}}, "m", "parts[0].text"),
        ({"contents": [], "tools": {}}, "m", "tools"),
        ({"contents": [], "tools": [{"functionDeclarations": [{}]}]}, "m", "name"),
        ({"contents": [], "tools": [{"functionDeclarations": [{"name": "f", "parameters": []}]}]},
         "m", "parameters"),
        ({"contents": [], "toolConfig": []}, "m", "toolConfig"),
        ({"contents": [], "generationConfig": {"temperature": "hot"}}, "m", "temperature"),
        ({"contents": [], "generationConfig": {"maxOutputTokens": 1.5}}, "m", "maxOutputTokens"),
        ({"contents": [], "generationConfig": {"stopSequences": [1]}}, "m", "stopSequences"),
        ({"contents": [], "generationConfig": {"thinkingConfig": {"thinkingBudget": "x"}}},
         "m", "thinkingBudget"),
        ({"contents": [], "generationConfig": {"thinkingConfig": {"includeThoughts": 1}}},
         "m", "includeThoughts"),
        ({"contents": [{"parts": [{"functionCall": {"name": "f", "args": {"n": 2**70}}}]}]},
         "m", "args"),
    ],
)  # fmt: skip
def test_malformed_requests_are_invalid_input(body: Any, model: str | None, where: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        gemini.decode_request(body, model=model)
    assert where.rsplit(".", maxsplit=1)[-1][:10] in caught.value.message


# -- responses ------------------------------------------------------------------------------


def _fake(reply: Reply) -> dict[str, Any]:
    return gemini_json(reply, Ctx("gemini-2.5-flash", {}, 4, 0))


def test_fake_upstream_response_decodes_and_encodes_back() -> None:
    reply = Reply(
        text="Let me check.",
        reasoning="The user wants files.",
        tool_calls=[ToolCall("ls", '{"dir": "."}', "x"), ToolCall("cat", "{}", "y")],
        usage=Usage(input=30, output=12, cache_read=8, reasoning=5),
        finish="tool_calls",
    )
    body = _fake(reply)
    response = gemini.decode_response(copy.deepcopy(body))
    assert (response.id, response.model) == ("fake4", "gemini-2.5-flash")
    assert response.stop is ir.Stop.TOOL_USE
    assert response.usage == ir.Usage(input=30, output=12, cache_read=8, reasoning=5)
    reasoning, text, ls, cat = response.parts
    assert reasoning == ir.Reasoning("The user wants files.")
    assert text == ir.Text("Let me check.")
    assert isinstance(ls, ir.ToolCall) and isinstance(cat, ir.ToolCall)
    assert (ls.name, ls.arguments, ls.signature) == (
        "ls",
        '{"dir":"."}',
        signature(reply.reasoning or ""),
    )
    assert (cat.name, cat.arguments, cat.signature) == ("cat", "{}", None)
    assert ls.id.startswith("call_") and ls.id != cat.id
    assert gemini.encode_response(response) == body


@pytest.mark.parametrize(
    ("finish", "stop"),
    [("length", ir.Stop.MAX_TOKENS), ("SAFETY", ir.Stop.CONTENT_FILTER),
     ("RECITATION", ir.Stop.CONTENT_FILTER), ("PROHIBITED_CONTENT", ir.Stop.CONTENT_FILTER),
     ("MALFORMED_FUNCTION_CALL", ir.Stop.ERROR), ("stop", ir.Stop.END)],
)  # fmt: skip
def test_finish_reasons(finish: str, stop: ir.Stop) -> None:
    assert gemini.decode_response(_fake(Reply(finish=finish))).stop is stop


def test_blocked_prompt_and_minimal_bodies() -> None:
    blocked = gemini.decode_response({"promptFeedback": {"blockReason": "SAFETY"}})
    assert (blocked.parts, blocked.stop) == ([], ir.Stop.CONTENT_FILTER)
    minimal = gemini.decode_response({"candidates": [{"content": {"parts": [{"text": "x"}]}}]})
    assert (minimal.text, minimal.stop, minimal.usage) == ("x", ir.Stop.END, ir.Usage())
    with pytest.raises(InvalidInputError):
        gemini.decode_response([])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stop", "reason"),
    [(ir.Stop.END, "STOP"), (ir.Stop.TOOL_USE, "STOP"), (ir.Stop.MAX_TOKENS, "MAX_TOKENS"),
     (ir.Stop.STOP_SEQUENCE, "STOP"), (ir.Stop.CONTENT_FILTER, "SAFETY"),
     (ir.Stop.REFUSAL, "SAFETY"), (ir.Stop.ERROR, "OTHER")],
)  # fmt: skip
def test_encode_response_from_another_dialect(stop: ir.Stop, reason: str) -> None:
    response = ir.Response(
        id="msg_1",
        model="claude-x",
        parts=[
            ir.Reasoning("hmm", signature="RXJJ"),  # another provider's: wrapped in base64
            ir.Reasoning("", signature="gemini:not base64!"),  # Gemini wants bytes: dropped
            ir.Reasoning("", redacted="opaque"),
            ir.Text("Here."),
            ir.ToolCall("toolu_9", "Bash", '{"command":"ls"}'),
        ],
        stop=stop,
        usage=ir.Usage(input=100, output=40, cache_read=60, cache_write=10, reasoning=15),
    )
    assert gemini.encode_response(response) == {
        "candidates": [{
            "content": {"role": "model", "parts": [
                {"text": "hmm", "thought": True,
                 "thoughtSignature": base64.b64encode(b"omni-sig:RXJJ").decode()},
                {"text": "Here."},
                {"functionCall": {"name": "Bash", "args": {"command": "ls"}, "id": "toolu_9"}},
            ]},
            "finishReason": reason,
            "index": 0,
        }],
        "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 25,
                          "totalTokenCount": 140, "cachedContentTokenCount": 60,
                          "thoughtsTokenCount": 15},
        "modelVersion": "claude-x",
        "responseId": "msg_1",
    }  # fmt: skip


def test_google_genai_parses_encoded_responses() -> None:
    types = pytest.importorskip("google.genai.types")
    response = ir.Response(
        id="r", model="m", parts=[ir.Text("Hi "), ir.Text("there"), ir.ToolCall("c1", "f", "{}")]
    )
    parsed = types.GenerateContentResponse.model_validate(gemini.encode_response(response))
    assert parsed.candidates[0].content.parts[0].text == "Hi "
    assert parsed.function_calls[0].name == "f"
    assert parsed.usage_metadata.prompt_token_count == 0


def test_registered_as_the_gemini_codec() -> None:
    module = codec.codec(ir.Dialect.GEMINI)
    assert module.STREAM_CONTENT_TYPE == "text/event-stream"
    assert module.decode_request is gemini.decode_request
