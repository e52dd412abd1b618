"""Every client dialect against every upstream dialect, through the real HTTP gateway.

The fake upstream answers in whichever dialect it is called in; the client side is read
here with plain JSON/SSE/NDJSON parsing (not omni's code), so a translation bug anywhere
shows up as a wrong text, tool call or stream shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from omni.config import Settings
from tests.fakes.upstream import Reply, ToolCall, Usage
from tests.serve.conftest import usage_rows

CLIENTS = ["openai", "anthropic", "responses", "gemini", "ollama"]
UPSTREAMS = ["openai", "anthropic", "responses", "gemini", "ollama"]
ARGS = '{"city": "Lisbon", "days": 3}'
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}


@dataclass
class Answer:
    text: str
    calls: list[tuple[str, dict[str, Any]]]
    reasoning: str = ""


def _sse(raw: bytes) -> list[tuple[str | None, Any]]:
    out: list[tuple[str | None, Any]] = []
    for block in raw.decode().replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        event, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        text = "\n".join(data)
        out.append((event, "[DONE]" if text == "[DONE]" else json.loads(text)))
    return out


def request(client: str, model: str, stream: bool, tools: bool) -> tuple[str, dict[str, Any]]:
    """Path and body a client of this dialect sends."""
    if client == "openai":
        body: dict[str, Any] = {
            "model": model,
            "stream": stream,
            "messages": [{"role": "user", "content": "weather?"}],
        }
        if tools:
            body["tools"] = [
                {"type": "function", "function": {"name": "get_weather", "parameters": SCHEMA}}
            ]
        return "/v1/chat/completions", body
    if client == "anthropic":
        body = {
            "model": model,
            "max_tokens": 512,
            "stream": stream,
            "messages": [{"role": "user", "content": "weather?"}],
        }
        if tools:
            body["tools"] = [{"name": "get_weather", "input_schema": SCHEMA}]
        return "/v1/messages", body
    if client == "responses":
        body = {"model": model, "stream": stream, "input": "weather?", "store": False}
        if tools:
            body["tools"] = [{"type": "function", "name": "get_weather", "parameters": SCHEMA}]
        return "/v1/responses", body
    if client == "gemini":
        body = {"contents": [{"role": "user", "parts": [{"text": "weather?"}]}]}
        if tools:
            body["tools"] = [
                {"functionDeclarations": [{"name": "get_weather", "parameters": SCHEMA}]}
            ]
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return f"/v1beta/models/{model}:{method}", body
    body = {"model": model, "stream": stream, "messages": [{"role": "user", "content": "weather?"}]}
    if tools:
        body["tools"] = [
            {"type": "function", "function": {"name": "get_weather", "parameters": SCHEMA}}
        ]
    return "/api/chat", body


def read_answer(client: str, stream: bool, raw: bytes) -> Answer:
    """Text and tool calls of an answer, read the way that dialect's client reads it."""
    text, calls = "", []
    if client == "openai" and not stream:
        message = json.loads(raw)["choices"][0]["message"]
        calls = [
            (c["function"]["name"], json.loads(c["function"]["arguments"]))
            for c in message.get("tool_calls") or []
        ]
        return Answer(message.get("content") or "", calls, message.get("reasoning_content") or "")
    if client == "openai":
        events = _sse(raw)
        assert events[-1][1] == "[DONE]"
        args: dict[int, list[str]] = {}
        names: dict[int, str] = {}
        thought = ""
        for _, chunk in events[:-1]:
            assert chunk["object"] == "chat.completion.chunk"
            for choice in chunk["choices"]:
                assert choice["index"] == 0
                delta = choice["delta"]
                text += delta.get("content") or ""
                thought += delta.get("reasoning_content") or ""
                for call in delta.get("tool_calls") or []:
                    if "id" in call:
                        names[call["index"]] = call["function"]["name"]
                    args.setdefault(call["index"], []).append(call["function"].get("arguments", ""))
        calls = [(names[i], json.loads("".join(args[i]))) for i in sorted(names)]
        return Answer(text, calls, thought)
    if client == "anthropic" and not stream:
        content = json.loads(raw)["content"]
        text = "".join(b["text"] for b in content if b["type"] == "text")
        thought = "".join(b["thinking"] for b in content if b["type"] == "thinking")
        calls = [(b["name"], b["input"]) for b in content if b["type"] == "tool_use"]
        return Answer(text, calls, thought)
    if client == "anthropic":
        events = _sse(raw)
        assert all(name == data["type"] for name, data in events), "every event names itself"
        assert events[0][0] == "message_start" and events[-1][0] == "message_stop"
        blocks: dict[int, dict[str, Any]] = {}
        thought = ""
        for name, data in events:
            if name == "content_block_start":
                blocks[data["index"]] = {**data["content_block"], "json": ""}
            elif name == "content_block_delta":
                block, delta = blocks[data["index"]], data["delta"]
                if delta["type"] == "text_delta":
                    text += delta["text"]
                elif delta["type"] == "thinking_delta":
                    thought += delta["thinking"]
                elif delta["type"] == "input_json_delta":
                    block["json"] += delta["partial_json"]
        calls = [
            (b["name"], json.loads(b["json"] or "{}"))
            for _, b in sorted(blocks.items())
            if b["type"] == "tool_use"
        ]
        return Answer(text, calls, thought)
    if client == "responses":
        if stream:
            events = _sse(raw)
            assert events[0][0] == "response.created"
            assert events[-1][0] == "response.completed"
            deltas = "".join(d["delta"] for n, d in events if n == "response.output_text.delta")
            output = events[-1][1]["response"]["output"]
        else:
            output = json.loads(raw)["output"]
            deltas = None
        thought = ""
        for item in output:
            if item["type"] == "reasoning":
                thought += "".join(s["text"] for s in item.get("summary") or [])
            if item["type"] == "message":
                text += "".join(c["text"] for c in item["content"] if c["type"] == "output_text")
            elif item["type"] == "function_call":
                calls.append((item["name"], json.loads(item["arguments"])))
        assert deltas is None or deltas == text
        return Answer(text, calls, thought)
    if client == "gemini":
        chunks = [data for _, data in _sse(raw)] if stream else [json.loads(raw)]
        assert "[DONE]" not in chunks
        thought = ""
        for chunk in chunks:
            for part in chunk["candidates"][0]["content"]["parts"]:
                if "text" in part and part.get("thought"):
                    thought += part["text"]
                elif "text" in part:
                    text += part["text"]
                if "functionCall" in part:
                    calls.append((part["functionCall"]["name"], part["functionCall"]["args"]))
        return Answer(text, calls, thought)
    lines = [json.loads(line) for line in raw.splitlines() if line] if stream else [json.loads(raw)]
    assert all(line["message"]["role"] == "assistant" for line in lines)
    assert lines[-1]["done"] is True
    thought = ""
    for line in lines:
        text += line["message"].get("content") or ""
        thought += line["message"].get("thinking") or ""
        calls += [
            (c["function"]["name"], c["function"]["arguments"])
            for c in line["message"].get("tool_calls") or []
        ]
    return Answer(text, calls, thought)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("up", UPSTREAMS)
@pytest.mark.parametrize("client", CLIENTS)
async def test_plain_answer(
    matrix: Callable[..., Any],
    upstream: Any,
    settings: Settings,
    client: str,
    up: str,
    stream: bool,
) -> None:
    http = await matrix()
    upstream.push(Reply(text="Sunny and warm.", chunks=3, usage=Usage(input=20, output=5)))
    path, body = request(client, f"up-{up}/m1", stream, tools=False)
    response = await http.post(path, json=body)
    raw = await response.read()
    assert response.status == 200, raw
    assert read_answer(client, stream, raw) == Answer("Sunny and warm.", [])
    sent = upstream.last
    assert sent.json is not None
    if up != "gemini":
        assert sent.json["model"] == "m1"
    [row] = await usage_rows(http, settings)
    assert (row["status"], row["input_tokens"], row["output_tokens"]) == (200, 20, 5)
    assert row["client_dialect"] == client


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("up", UPSTREAMS)
@pytest.mark.parametrize("client", CLIENTS)
async def test_tool_call(
    matrix: Callable[..., Any], upstream: Any, client: str, up: str, stream: bool
) -> None:
    http = await matrix()
    upstream.push(Reply(text="", tool_calls=[ToolCall("get_weather", ARGS)], finish="tool_calls"))
    path, body = request(client, f"up-{up}/m1", stream, tools=True)
    response = await http.post(path, json=body)
    raw = await response.read()
    assert response.status == 200, raw
    answer = read_answer(client, stream, raw)
    assert answer.calls == [("get_weather", {"city": "Lisbon", "days": 3})]
    sent = upstream.last.text
    assert "get_weather" in sent, "the tool definition reached the upstream"


@pytest.mark.parametrize("up", UPSTREAMS)
@pytest.mark.parametrize("client", CLIENTS)
async def test_upstream_error_in_the_clients_dialect(
    matrix: Callable[..., Any], upstream: Any, client: str, up: str
) -> None:
    http = await matrix()
    upstream.push(Reply(status=429, headers={"Retry-After": "7"}, error_message="slow down"))
    path, body = request(client, f"up-{up}/m1", False, tools=False)
    response = await http.post(path, json=body)
    assert response.status == 429
    assert response.headers["Retry-After"] == "7"
    data = await response.json()
    if client == "anthropic":
        assert data["type"] == "error" and data["error"]["type"] == "rate_limit_error"
    elif client == "gemini":
        assert data["error"]["status"] == "RESOURCE_EXHAUSTED"
    elif client == "ollama":
        assert "slow down" in data["error"]
    else:
        assert data["error"]["type"] == "rate_limit_error"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("up", UPSTREAMS)
@pytest.mark.parametrize("client", CLIENTS)
async def test_several_tool_calls_and_thinking(
    matrix: Callable[..., Any], upstream: Any, client: str, up: str, stream: bool
) -> None:
    http = await matrix()
    upstream.push(
        Reply(
            text="",
            reasoning="The user wants two cities.",
            tool_calls=[
                ToolCall("get_weather", ARGS),
                ToolCall("get_weather", '{"city": "Porto"}'),
            ],
            finish="tool_calls",
        )
    )
    path, body = request(client, f"up-{up}/m1", stream, tools=True)
    response = await http.post(path, json=body)
    raw = await response.read()
    assert response.status == 200, raw
    answer = read_answer(client, stream, raw)
    assert answer.calls == [
        ("get_weather", {"city": "Lisbon", "days": 3}),
        ("get_weather", {"city": "Porto"}),
    ]
    assert answer.reasoning == "The user wants two cities."


PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="  # noqa: E501


def image_request(client: str, model: str) -> tuple[str, dict[str, Any]]:
    """A user turn with text and an inline PNG, as each client sends it."""
    path, body = request(client, model, False, tools=False)
    if client == "openai":
        body["messages"][0]["content"] = [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}},
        ]
    elif client == "anthropic":
        body["messages"][0]["content"] = [
            {"type": "text", "text": "what is this?"},
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": PIXEL},
            },
        ]
    elif client == "responses":
        body["input"] = [
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "what is this?"},
                    {"type": "input_image", "image_url": f"data:image/png;base64,{PIXEL}"},
                ],
            }
        ]
    elif client == "gemini":
        body["contents"][0]["parts"] = [
            {"text": "what is this?"},
            {"inlineData": {"mimeType": "image/png", "data": PIXEL}},
        ]
    else:
        body["messages"][0]["content"] = "what is this?"
        body["messages"][0]["images"] = [PIXEL]
    return path, body


@pytest.mark.parametrize("up", UPSTREAMS)
@pytest.mark.parametrize("client", CLIENTS)
async def test_images_reach_the_upstream(
    matrix: Callable[..., Any], upstream: Any, client: str, up: str
) -> None:
    http = await matrix()
    path, body = image_request(client, f"up-{up}/m1")
    response = await http.post(path, json=body)
    assert response.status == 200, await response.text()
    sent = upstream.last.text
    assert PIXEL in sent, "the image data reached the upstream"
    assert "what is this?" in sent
