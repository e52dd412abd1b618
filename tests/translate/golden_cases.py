"""Inputs of the golden translation matrix (``test_golden_matrix.py``).

- :data:`REQUESTS`: for each client dialect, one rich request as that dialect's real clients
  send it (Claude Code for Anthropic, Codex for Responses, the openai SDK / opencode for Chat
  Completions, google-genai / gemini-cli for Gemini, the ollama Python client for Ollama):
  a system prompt, a user turn with text and an inline base64 PNG, an assistant turn with
  reasoning (where the dialect carries it), text and two tool calls, both tool results, a
  final user turn, two tool definitions, tool choice, output limit, temperature, a
  reasoning setting and (where the dialect has one) a JSON response format.
- :data:`REPLY`: the upstream answer (reasoning, non-ASCII text, two tool calls, usage with
  cached and reasoning tokens, finish ``tool_calls``), rendered in each upstream dialect by
  the fake upstream's own encoders (``tests/fakes/dialects_*.py``) as a complete body
  (:func:`response_body`) or as stream bytes (:func:`stream_bytes`, optionally cut by the
  dialect's in-stream error). The arguments of the calls are chosen so that the fake's
  ``split_arguments`` cuts them mid-key, inside a ``\\u`` escape, between a backslash and
  its quote and before the closing brace.

Everything here is deterministic: fixed ids, a fixed ``created`` (:data:`CREATED`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from omni import ir
from tests.fakes import dialects_openai as fo
from tests.fakes import dialects_others as fx
from tests.fakes.dialects_common import Ctx, Dialect
from tests.fakes.upstream import Reply, ToolCall, Usage

Obj = dict[str, Any]
D = ir.Dialect
DIALECTS: tuple[ir.Dialect, ...] = tuple(ir.Dialect)
CREATED = 1_750_000_000
CREATED_ISO = datetime.fromtimestamp(CREATED, UTC).isoformat().replace("+00:00", "Z")
PNG = (  # a 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ"
    "AAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
ASK = "The test in this screenshot fails on my machine. Why?"
THOUGHT = "The screenshot shows a UnicodeDecodeError, so the fixture file is read as ASCII."
SAID = "Let me read the test and run it to see the full traceback."
FIRST = "1\tdef test_load():\n2\t    assert load('docs/café.md')"
SECOND = "FAILED tests/test_io.py::test_load - UnicodeDecodeError: 'ascii' codec"
LAST = "Please fix it and answer with the summary as JSON."
SYSTEM = "You are a coding agent running in the user's terminal. Be concise."
REPORT = {  # the JSON answer format, where the dialect has one
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "files": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["summary", "files"],
    "additionalProperties": False,
}
PATH = {"type": "string", "description": "Path of the file, relative to the workspace."}
COMMAND = {"type": "string", "description": "The command line to run."}
STRINGS = {"type": "array", "items": {"type": "string"}}
DRAFT7 = {"additionalProperties": False, "$schema": "http://json-schema.org/draft-07/schema#"}
TEST, PYTEST = "tests/test_io.py", "pytest -x tests/test_io.py"
ENV = "<environment_context>sandbox: workspace-write</environment_context>"
EPHEMERAL = {"cache_control": {"type": "ephemeral"}}


def _schema(prop: str, spec: Obj, **top: Any) -> Obj:
    return {"type": "object", "properties": {prop: spec}, "required": [prop], **top}


def _chat_tool(name: str, description: str, parameters: Obj) -> Obj:
    """A tool as Chat Completions and Ollama declare it."""
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


def _chat_call(call_id: str, name: str, arguments: str) -> Obj:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


REQUESTS: dict[ir.Dialect, Obj] = {
    # Claude Code: cached system blocks, thinking with a signature, tool_result + text in
    # one user message, Claude Code's tool schemas ($schema, additionalProperties).
    D.ANTHROPIC: {
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 32000,
        "temperature": 1,
        "system": [
            {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
            {"type": "text", "text": SYSTEM, **EPHEMERAL},
        ],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": ASK},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": THOUGHT, "signature": "EqQBCkYIBxgCKkBsig=="},
                    {"type": "text", "text": SAID},
                    {
                        "type": "tool_use",
                        "id": "toolu_01Rd",
                        "name": "Read",
                        "input": {"file_path": TEST},
                    },
                    {
                        "type": "tool_use",
                        "id": "toolu_02Sh",
                        "name": "Bash",
                        "input": {"command": PYTEST},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_01Rd", "content": FIRST},
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_02Sh",
                        "content": SECOND,
                        "is_error": True,
                    },
                    {"type": "text", "text": LAST, **EPHEMERAL},
                ],
            },
        ],
        "tools": [
            {
                "name": "Read",
                "description": "Reads a file.",
                "input_schema": _schema("file_path", PATH, **DRAFT7),
            },
            {
                "name": "Bash",
                "description": "Runs a command.",
                "input_schema": _schema("command", COMMAND, **DRAFT7),
            },
        ],
        "tool_choice": {"type": "auto"},
        "thinking": {"type": "enabled", "budget_tokens": 10000},
        "output_config": {"format": {"type": "json_schema", "schema": REPORT}},
        "metadata": {"user_id": "user_3f2a_account__session_8c1d"},
        "stream": True,
    },
    # Codex: instructions, a developer message, store:false with the whole history,
    # encrypted reasoning, strict:false function tools, parallel_tool_calls:false.
    D.OPENAI_RESPONSES: {
        "model": "gpt-5-codex",
        "instructions": SYSTEM,
        "input": [
            {
                "type": "message",
                "role": "developer",
                "content": [{"type": "input_text", "text": ENV}],
            },
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": ASK},
                    {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"},
                ],
            },
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": THOUGHT}],
                "content": None,
                "encrypted_content": "gAAAAABoEncryptedReasoning==",
            },
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": SAID}],
            },
            {
                "type": "function_call",
                "name": "shell",
                "call_id": "call_Xq1shell",
                "arguments": '{"command":["bash","-lc","cat tests/test_io.py"],"workdir":"/repo"}',
            },
            {
                "type": "function_call",
                "name": "shell",
                "call_id": "call_Xq2shell",
                "arguments": '{"command":["bash","-lc","pytest -x tests/test_io.py"]}',
            },
            {"type": "function_call_output", "call_id": "call_Xq1shell", "output": FIRST},
            {"type": "function_call_output", "call_id": "call_Xq2shell", "output": SECOND},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": LAST}]},
        ],
        "tools": [
            {
                "type": "function",
                "name": "shell",
                "description": "Runs a shell command.",
                "strict": False,
                "parameters": _schema("command", STRINGS),
            },
            {
                "type": "function",
                "name": "update_plan",
                "description": "Updates the task plan.",
                "strict": False,
                "parameters": _schema("plan", STRINGS),
            },
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "reasoning": {"effort": "high", "summary": "auto"},
        "text": {
            "format": {"type": "json_schema", "name": "report", "strict": True, "schema": REPORT}
        },
        "max_output_tokens": 16000,
        "temperature": 0.2,
        "store": False,
        "stream": True,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "0199a1b2-codex-session",
    },
    # openai SDK / opencode: reasoning_content echoed back, image_url data URL with detail,
    # max_completion_tokens, a named tool choice, stream_options.
    D.OPENAI_CHAT: {
        "model": "gpt-4.1",
        "messages": [
            {"role": "system", "content": SYSTEM},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": ASK},
                    {
                        "type": "image_url",
                        "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "high"},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": SAID,
                "reasoning_content": THOUGHT,
                "tool_calls": [
                    _chat_call("call_Ab1read", "read", '{"filePath":"tests/test_io.py"}'),
                    _chat_call("call_Ab2bash", "bash", '{"command":"pytest -x tests/test_io.py"}'),
                ],
            },
            {"role": "tool", "tool_call_id": "call_Ab1read", "content": FIRST},
            {"role": "tool", "tool_call_id": "call_Ab2bash", "content": SECOND},
            {"role": "user", "content": LAST},
        ],
        "tools": [
            _chat_tool("read", "Read a file.", _schema("filePath", PATH)),
            _chat_tool("bash", "Run a command.", _schema("command", COMMAND)),
        ],
        "tool_choice": {"type": "function", "function": {"name": "read"}},
        "max_completion_tokens": 4096,
        "temperature": 0.3,
        "reasoning_effort": "medium",
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "report", "strict": True, "schema": REPORT},
        },
        "stream": True,
        "stream_options": {"include_usage": True},
    },
    # google-genai / gemini-cli: no call ids (two calls of the same function, answered in
    # order), a thought summary, thoughtSignature on the first call, parametersJsonSchema.
    D.GEMINI: {
        "contents": [
            {
                "role": "user",
                "parts": [{"text": ASK}, {"inlineData": {"mimeType": "image/png", "data": PNG}}],
            },
            {
                "role": "model",
                "parts": [
                    {"text": THOUGHT, "thought": True},
                    {"text": SAID},
                    {
                        "functionCall": {
                            "name": "read_file",
                            "args": {"absolute_path": f"/repo/{TEST}"},
                        },
                        "thoughtSignature": "CiQBVKhc7sig0AAA",
                    },
                    {
                        "functionCall": {
                            "name": "read_file",
                            "args": {"absolute_path": "/repo/docs/café.md"},
                        }
                    },
                ],
            },
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": "read_file", "response": {"output": FIRST}}},
                    {"functionResponse": {"name": "read_file", "response": {"output": SECOND}}},
                ],
            },
            {"role": "user", "parts": [{"text": LAST}]},
        ],
        "systemInstruction": {"role": "user", "parts": [{"text": SYSTEM}]},
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "read_file",
                        "description": "Reads a file.",
                        "parametersJsonSchema": _schema("absolute_path", PATH),
                    },
                    {
                        "name": "run_shell_command",
                        "description": "Runs a command.",
                        "parametersJsonSchema": _schema("command", COMMAND),
                    },
                ]
            }
        ],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
        "generationConfig": {
            "temperature": 0,
            "topP": 1,
            "maxOutputTokens": 8192,
            "thinkingConfig": {"includeThoughts": True, "thinkingBudget": 8192},
            "responseMimeType": "application/json",
            "responseJsonSchema": REPORT,
        },
    },
    # ollama Python client: images as bare base64, thinking, calls without ids and with
    # object arguments, results matched by tool_name, options, think, format, keep_alive.
    D.OLLAMA: {
        "model": "qwen3:8b",
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": ASK, "images": [PNG]},
            {
                "role": "assistant",
                "content": SAID,
                "thinking": THOUGHT,
                "tool_calls": [
                    {"function": {"name": "read_file", "arguments": {"path": TEST}}},
                    {"function": {"name": "run_command", "arguments": {"command": PYTEST}}},
                ],
            },
            {"role": "tool", "content": FIRST, "tool_name": "read_file"},
            {"role": "tool", "content": SECOND, "tool_name": "run_command"},
            {"role": "user", "content": LAST},
        ],
        "tools": [
            _chat_tool("read_file", "Read a file.", _schema("path", PATH)),
            _chat_tool("run_command", "Run a command.", _schema("command", COMMAND)),
        ],
        "stream": True,
        "format": REPORT,
        "options": {"temperature": 0.6, "num_predict": 2048, "num_ctx": 16384},
        "think": True,
        "keep_alive": "5m",
    },
}

CLIENT_MODEL: dict[ir.Dialect, str] = {D.GEMINI: "gemini-2.5-pro"}  # Gemini: from the URL


# -- the upstream answer ------------------------------------------------------------------

# Cut by the fake's split_arguments mid-key, inside "\u65e5" / between a backslash and its quote.
READ_ARGS = r'{"path": "docs/caf\u00e9/\u65e5\u672c.md", "limit": 200}'
SHELL_ARGS = (
    r'{"command": "pytest -q tests/test_io.py -k \"caf\u00e9 and not slow\"", "timeout": 1200}'
)
REPLY = Reply(
    reasoning="The fixture path has an é in it;\nthe file is opened without an encoding.",
    text="Found it — test_io.py opens docs/café.md as ASCII. 日本語 paths break too 👋",
    chunks=4,
    tool_calls=[
        ToolCall("read_file", READ_ARGS, "call_G1read"),
        ToolCall("run_shell", SHELL_ARGS, "call_G2shell"),
    ],
    usage=Usage(input=2048, output=321, cache_read=1536, cache_write=256, reasoning=128),
    finish="tool_calls",
    error_message="Overloaded: the upstream is at capacity, retry later",
)
ERROR_AFTER = 9  # stream events sent before the in-stream error (fewer if the stream is short)

FAKES: dict[ir.Dialect, Dialect] = {
    D.OPENAI_CHAT: fo.OPENAI_CHAT,
    D.OPENAI_RESPONSES: fo.OPENAI_RESPONSES,
    D.ANTHROPIC: fx.ANTHROPIC,
    D.GEMINI: fx.GEMINI,
    D.OLLAMA: fx.OLLAMA,
}
# What the gateway asks each upstream for: usage in Chat streams, encrypted reasoning.
_ASKED: dict[ir.Dialect, Obj] = {
    D.OPENAI_CHAT: {"stream_options": {"include_usage": True}},
    D.OPENAI_RESPONSES: {"include": ["reasoning.encrypted_content"], "store": False},
}


def _ctx(upstream: ir.Dialect) -> Ctx:
    return Ctx(model="upstream-model", request=_ASKED.get(upstream, {}), seq=7, created=CREATED)


def response_body(upstream: ir.Dialect) -> Obj:
    """:data:`REPLY` as ``upstream``'s complete answer."""
    body = FAKES[upstream].json(REPLY, _ctx(upstream))
    if upstream is D.OLLAMA:
        body["created_at"] = CREATED_ISO  # the fake stamps the wall clock
    return body


def stream_bytes(upstream: ir.Dialect, *, error: bool = False) -> bytes:
    """:data:`REPLY` as ``upstream``'s stream, cut by its in-stream error if ``error``."""
    fake, ctx = FAKES[upstream], _ctx(upstream)
    assert fake.events is not None and fake.stream_error is not None
    events = fake.events(REPLY, ctx)
    if error:
        n = min(ERROR_AFTER, len(events) - 1)
        events = [*events[:n], fake.stream_error(REPLY, ctx, n)]
    return b"".join(events)
