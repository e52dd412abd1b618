"""Tests of the fake upstream's Anthropic, Gemini and Ollama shapes.

Every gateway test that talks to the fake in these dialects trusts these shapes, so the JSON
bodies and the streams of `dialects_others.py` (Anthropic content blocks, stop reasons, usage
without cached tokens and the full event sequence; Gemini parts, finish reasons, usage metadata
and CRLF-framed SSE; Ollama's JSON and NDJSON lines) are checked here through a plain aiohttp
client against the running fake.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from tests.fakes.conftest import (
    ARGS,
    GEMINI,
    GEMINI_STREAM,
    MESSAGES,
    OLLAMA,
    call,
    ndjson,
    sse_blocks,
    sse_json,
)
from tests.fakes.upstream import FakeUpstream, Reply, ToolCall, Usage

# ----------------------------------------------------------------------------- Anthropic


async def test_messages_json(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    usage = Usage(input=100, output=20, cache_read=60, cache_write=10)
    tool = ToolCall("get_weather", '{"city": "Paris"}')
    fake.push(Reply(tool_calls=[tool], reasoning="hmm", usage=usage, finish="tool_calls"))
    body = json.loads((await call(http, fake, MESSAGES, {"model": "claude-x"}))[2])
    assert body["type"] == "message" and body["role"] == "assistant"
    assert body["model"] == "claude-x"
    assert [b["type"] for b in body["content"]] == ["thinking", "text", "tool_use"]
    assert body["content"][0]["thinking"] == "hmm" and body["content"][0]["signature"]
    assert body["content"][2] == {
        "type": "tool_use",
        "id": "call_1",
        "name": "get_weather",
        "input": {"city": "Paris"},
    }
    assert body["stop_reason"] == "tool_use" and body["stop_sequence"] is None
    assert body["usage"]["input_tokens"] == 30  # Anthropic excludes cached tokens
    assert body["usage"]["cache_read_input_tokens"] == 60
    assert body["usage"]["cache_creation_input_tokens"] == 10
    assert body["usage"]["output_tokens"] == 20


@pytest.mark.parametrize(
    ("finish", "stop_reason"), [("stop", "end_turn"), ("length", "max_tokens")]
)
async def test_messages_stop_reasons(
    fake: FakeUpstream, http: aiohttp.ClientSession, finish: str, stop_reason: str
) -> None:
    fake.push(Reply(finish=finish))
    assert json.loads((await call(http, fake, MESSAGES))[2])["stop_reason"] == stop_reason


async def test_messages_stream_sequence(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    tool = ToolCall("get_weather", ARGS)
    fake.push(Reply(tool_calls=[tool], reasoning="let me think", finish="tool_calls"))
    raw = (await call(http, fake, MESSAGES, {"model": "m", "stream": True}))[2]
    blocks = sse_blocks(raw)
    events = [json.loads(data) for _, data in blocks]
    assert all(name == e["type"] for (name, _), e in zip(blocks, events, strict=True))
    types = [e["type"] for e in events]
    collapsed = [t for i, t in enumerate(types) if i == 0 or types[i - 1] != t]
    assert collapsed == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_stop",
        *["content_block_start", "content_block_delta", "content_block_stop"] * 2,
        "message_delta",
        "message_stop",
    ]
    start = events[0]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    assert {"input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"} <= set(
        start["usage"]
    )
    starts = [e["content_block"] for e in events if e["type"] == "content_block_start"]
    assert starts == [
        {"type": "thinking", "thinking": "", "signature": ""},
        {"type": "text", "text": ""},
        {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {}},
    ]
    deltas: dict[int, list[dict[str, Any]]] = {}
    for e in events:
        if e["type"] == "content_block_delta":
            deltas.setdefault(e["index"], []).append(e["delta"])
    assert "".join(d.get("thinking", "") for d in deltas[0]) == "let me think"
    assert deltas[0][-1]["type"] == "signature_delta" and deltas[0][-1]["signature"]
    assert "".join(d["text"] for d in deltas[1]) == "Hello from the fake upstream."
    assert {d["type"] for d in deltas[2]} == {"input_json_delta"} and len(deltas[2]) >= 3
    assert "".join(d["partial_json"] for d in deltas[2]) == ARGS
    message_delta = events[-2]
    assert message_delta["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert message_delta["usage"] == {"output_tokens": 7}


# ----------------------------------------------------------------------------- Gemini


async def test_gemini_json(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    usage = Usage(input=40, output=15, cache_read=10, reasoning=5)
    tool = ToolCall("lookup", '{"q": "x"}')
    fake.push(Reply(), Reply(tool_calls=[tool], reasoning="hmm", usage=usage, finish="length"))
    plain = json.loads((await call(http, fake, GEMINI, {"contents": []}))[2])
    (candidate,) = plain["candidates"]
    assert candidate["content"]["role"] == "model"
    assert candidate["content"]["parts"] == [{"text": "Hello from the fake upstream."}]
    assert candidate["finishReason"] == "STOP" and candidate["index"] == 0
    assert plain["modelVersion"] == "gemini-2.5-flash" and plain["responseId"]
    meta = plain["usageMetadata"]
    counts = (meta["promptTokenCount"], meta["candidatesTokenCount"], meta["totalTokenCount"])
    assert counts == (11, 7, 18)
    assert "cachedContentTokenCount" not in meta and "thoughtsTokenCount" not in meta

    rich = json.loads((await call(http, fake, GEMINI, {"contents": []}))[2])
    parts = rich["candidates"][0]["content"]["parts"]
    assert parts[0] == {"text": "hmm", "thought": True}
    assert parts[1] == {"text": "Hello from the fake upstream."}
    assert parts[2]["functionCall"] == {"name": "lookup", "args": {"q": "x"}}
    assert rich["candidates"][0]["finishReason"] == "MAX_TOKENS"
    meta = rich["usageMetadata"]
    assert meta["cachedContentTokenCount"] == 10 and meta["thoughtsTokenCount"] == 5
    assert meta["candidatesTokenCount"] == 10 and meta["totalTokenCount"] == 55


async def test_gemini_stream(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    fake.push(Reply(tool_calls=[ToolCall("lookup", '{"q": "x"}')]))
    status, headers, raw = await call(
        http, fake, GEMINI_STREAM, {"contents": []}, params={"alt": "sse"}
    )
    assert status == 200 and headers["Content-Type"] == "text/event-stream"
    assert raw.endswith(b"\r\n\r\n") and raw.count(b"\r\n\r\n") == 4
    assert b"[DONE]" not in raw and b"event:" not in raw
    events = sse_json(raw)
    parts = [p for e in events for p in e["candidates"][0]["content"]["parts"]]
    assert "".join(p.get("text", "") for p in parts) == "Hello from the fake upstream."
    assert parts[-1] == {"functionCall": {"name": "lookup", "args": {"q": "x"}}}
    finishes = [e["candidates"][0].get("finishReason") for e in events]
    assert finishes == [None, None, None, "STOP"]
    assert events[-1]["usageMetadata"]["candidatesTokenCount"] == 7
    assert fake.last.query == {"alt": "sse"}


# ----------------------------------------------------------------------------- Ollama


async def test_ollama_json(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    tool = ToolCall("lookup", '{"q": "x"}')
    fake.push(Reply(tool_calls=[tool], reasoning="hmm", finish="length"))
    status, headers, raw = await call(http, fake, OLLAMA, {"model": "llama3", "stream": False})
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    body = json.loads(raw)
    assert body["model"] == "llama3" and body["done"] is True and body["done_reason"] == "length"
    assert body["message"]["role"] == "assistant" and body["message"]["thinking"] == "hmm"
    assert body["message"]["content"] == "Hello from the fake upstream."
    (call_,) = body["message"]["tool_calls"]
    assert call_["function"]["name"] == "lookup" and call_["function"]["arguments"] == {"q": "x"}
    assert (body["prompt_eval_count"], body["eval_count"]) == (11, 7)
    assert {"total_duration", "load_duration", "prompt_eval_duration", "eval_duration"} <= set(body)
    assert body["created_at"].endswith("Z")


async def test_ollama_streams_by_default(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    status, headers, raw = await call(http, fake, OLLAMA, {"model": "llama3"})
    assert status == 200
    assert headers["Content-Type"] == "application/x-ndjson"
    lines = ndjson(raw)
    assert all(line["message"]["role"] == "assistant" for line in lines)
    assert [line["done"] for line in lines] == [False, False, False, True]
    assert "".join(line["message"]["content"] for line in lines) == "Hello from the fake upstream."
    last = lines[-1]
    assert last["done_reason"] == "stop" and last["eval_count"] == 7
    assert "done_reason" not in lines[0]
