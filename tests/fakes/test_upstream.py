"""Tests of the fake upstream itself, through a plain aiohttp client.

Every gateway test trusts these shapes, so each dialect's JSON and stream are checked here,
along with the failure knobs (status, delays, stalls, cuts, malformed bodies) and recording.
"""

from __future__ import annotations

import asyncio
import base64
import json
import struct
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from tests.fakes.upstream import FakeUpstream, Reply, ToolCall, Usage

CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
MESSAGES = "/v1/messages"
GEMINI = "/v1beta/models/gemini-2.5-flash:generateContent"
GEMINI_STREAM = "/v1/models/gemini-2.5-flash:streamGenerateContent"
OLLAMA = "/api/chat"
ARGS = '{"cmd": "echo hi", "cwd": "/tmp"}'


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession, fake: FakeUpstream, path: str, body: Any = None, **kw: Any
) -> tuple[int, CIMultiDictProxy[str], bytes]:
    async with http.post(fake.url + path, json=body or {"model": "m"}, **kw) as resp:
        return resp.status, resp.headers, await resp.read()


def sse_blocks(raw: bytes) -> list[tuple[str | None, str]]:
    """(event name, data) per SSE event; CRLF and LF framing both accepted."""
    out = []
    for block in raw.decode().replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        event, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data.append(line.removeprefix("data: "))
        out.append((event, "\n".join(data)))
    return out


def sse_json(raw: bytes) -> list[Any]:
    return [json.loads(data) for _, data in sse_blocks(raw) if data != "[DONE]"]


def ndjson(raw: bytes) -> list[Any]:
    return [json.loads(line) for line in raw.splitlines() if line]


# ----------------------------------------------------------------------------- OpenAI Chat


async def test_chat_json_full_shape(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    fake.push(Reply(usage=Usage(input=20, output=9, cache_read=5, reasoning=3)))
    status, headers, raw = await call(http, fake, CHAT, {"model": "gpt-4o-mini"})
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    body = json.loads(raw)
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4o-mini"
    assert {"id", "created"} <= body.keys()
    (choice,) = body["choices"]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    message = choice["message"]
    assert message["role"] == "assistant"
    assert message["content"] == "Hello from the fake upstream."
    assert message["refusal"] is None
    assert "tool_calls" not in message
    usage = body["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (
        20,
        9,
        29,
    )
    assert usage["prompt_tokens_details"]["cached_tokens"] == 5
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 3


async def test_chat_json_tool_calls_only(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    fake.push(Reply(text="", tool_calls=[ToolCall("exec", ARGS)], finish="tool_calls"))
    body = json.loads((await call(http, fake, CHAT))[2])
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    assert choice["message"]["tool_calls"] == [
        {"id": "call_1", "type": "function", "function": {"name": "exec", "arguments": ARGS}}
    ]


async def test_chat_stream_order_without_usage(
    fake: FakeUpstream, http: aiohttp.ClientSession
) -> None:
    status, headers, raw = await call(http, fake, CHAT, {"model": "m", "stream": True})
    assert status == 200
    assert headers["Content-Type"] == "text/event-stream"
    blocks = sse_blocks(raw)
    assert all(event is None for event, _ in blocks)
    assert blocks[-1][1] == "[DONE]"
    chunks = sse_json(raw)
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "m" for c in chunks)
    assert all(c["choices"][0]["index"] == 0 and "usage" not in c for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0]["role"] == "assistant"
    assert len(deltas) == 1 + 3 + 1  # role, three content pieces, finish
    assert "".join(d.get("content") or "" for d in deltas) == "Hello from the fake upstream."
    assert deltas[-1] == {}
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None] * 4 + ["stop"]


async def test_chat_stream_include_usage(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    body = {"model": "m", "stream": True, "stream_options": {"include_usage": True}}
    chunks = sse_json((await call(http, fake, CHAT, body))[2])
    *content, usage_chunk = chunks
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["total_tokens"] == 18
    assert usage_chunk["usage"]["prompt_tokens_details"] == {"cached_tokens": 0, "audio_tokens": 0}
    assert all(c["usage"] is None and len(c["choices"]) == 1 for c in content)


async def test_chat_stream_tool_call_deltas(
    fake: FakeUpstream, http: aiohttp.ClientSession
) -> None:
    calls = [ToolCall("exec", ARGS), ToolCall("read", '{"path": "a.txt"}')]
    fake.push(Reply(text="", tool_calls=calls, finish="tool_calls"))
    chunks = sse_json((await call(http, fake, CHAT, {"model": "m", "stream": True}))[2])
    tool_deltas = [d for c in chunks for d in c["choices"][0]["delta"].get("tool_calls", [])]
    for index, tool in enumerate(calls):
        mine = [d for d in tool_deltas if d["index"] == index]
        first, *rest = mine
        assert first == {
            "index": index,
            "id": f"call_{index + 1}",
            "type": "function",
            "function": {"name": tool.name, "arguments": ""},
        }
        pieces = [d["function"]["arguments"] for d in rest]
        assert len(pieces) >= 3
        assert all(d.keys() == {"index", "function"} for d in rest)
        assert "".join(pieces) == tool.arguments
        assert pieces[0].count('"') == 1  # cut inside the first key
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_chat_stream_reasoning_and_chunks(
    fake: FakeUpstream, http: aiohttp.ClientSession
) -> None:
    fake.push(Reply(text="abcdefghij", chunks=5, reasoning="thinking hard"))
    chunks = sse_json((await call(http, fake, CHAT, {"model": "m", "stream": True}))[2])
    deltas = [c["choices"][0]["delta"] for c in chunks]
    reasoning = [d["reasoning_content"] for d in deltas if "reasoning_content" in d]
    content = [d["content"] for d in deltas[1:] if "content" in d]
    assert "".join(reasoning) == "thinking hard"
    assert content == ["ab", "cd", "ef", "gh", "ij"]
    assert deltas.index({"content": "ab"}) > deltas.index({"reasoning_content": reasoning[-1]})


# ----------------------------------------------------------------------------- OpenAI Responses


async def test_responses_json(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    fake.push(Reply(usage=Usage(input=30, output=12, cache_read=8, reasoning=4)))
    body = json.loads((await call(http, fake, RESPONSES, {"model": "gpt-4o", "input": "hi"}))[2])
    assert body["object"] == "response"
    assert body["status"] == "completed"
    assert body["model"] == "gpt-4o"
    (item,) = body["output"]
    assert item["type"] == "message" and item["role"] == "assistant"
    assert item["content"][0]["type"] == "output_text"
    assert item["content"][0]["text"] == "Hello from the fake upstream."
    assert body["usage"] == {
        "input_tokens": 30,
        "input_tokens_details": {"cached_tokens": 8},
        "output_tokens": 12,
        "output_tokens_details": {"reasoning_tokens": 4},
        "total_tokens": 42,
    }


async def test_responses_stream_text_sequence(
    fake: FakeUpstream, http: aiohttp.ClientSession
) -> None:
    raw = (await call(http, fake, RESPONSES, {"model": "m", "stream": True}))[2]
    blocks = sse_blocks(raw)
    events = [json.loads(data) for _, data in blocks]
    assert [name for name, _ in blocks] == [e["type"] for e in events]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 3,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert events[0]["response"]["status"] == "in_progress"
    assert events[0]["response"]["output"] == []
    assert events[2]["item"]["status"] == "in_progress" and events[2]["item"]["content"] == []
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text == events[7]["text"] == "Hello from the fake upstream."
    final = events[-1]["response"]
    assert final["status"] == "completed"
    assert final["output"] == [events[-2]["item"]]
    assert final["usage"]["total_tokens"] == 18


async def test_responses_stream_reasoning_and_function_call(
    fake: FakeUpstream, http: aiohttp.ClientSession
) -> None:
    tool = ToolCall("exec_command", ARGS)
    fake.push(Reply(text="", tool_calls=[tool], reasoning="plan", finish="tool_calls"))
    events = sse_json((await call(http, fake, RESPONSES, {"model": "m", "stream": True}))[2])
    types = [e["type"] for e in events]
    assert types[2:4] == ["response.output_item.added", "response.reasoning_summary_part.added"]
    assert "response.reasoning_summary_text.done" in types
    added = [e["item"] for e in events if e["type"] == "response.output_item.added"]
    assert [i["type"] for i in added] == ["reasoning", "function_call"]
    assert added[1]["arguments"] == "" and added[1]["call_id"] == tool.id == "call_1"
    deltas = [e for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert len(deltas) >= 3 and {e["item_id"] for e in deltas} == {added[1]["id"]}
    assert "".join(e["delta"] for e in deltas) == ARGS
    done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert done["arguments"] == ARGS
    final = events[-1]["response"]
    assert [i["type"] for i in final["output"]] == ["reasoning", "function_call"]
    assert final["output"][0]["summary"] == [{"type": "summary_text", "text": "plan"}]
    assert final["output"][1]["name"] == "exec_command"


async def test_responses_length_is_incomplete(
    fake: FakeUpstream, http: aiohttp.ClientSession
) -> None:
    fake.push(Reply(finish="length"), Reply(finish="length"))
    body = json.loads((await call(http, fake, RESPONSES))[2])
    assert body["status"] == "incomplete"
    assert body["incomplete_details"] == {"reason": "max_output_tokens"}
    events = sse_json((await call(http, fake, RESPONSES, {"model": "m", "stream": True}))[2])
    assert events[-1]["type"] == "response.incomplete"


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


async def test_count_tokens(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x" * 400}]}
    anthropic = json.loads((await call(http, fake, "/v1/messages/count_tokens", body))[2])
    assert anthropic.keys() == {"input_tokens"} and anthropic["input_tokens"] > 100
    path = "/v1beta/models/gemini-2.5-flash:countTokens"
    gemini = json.loads((await call(http, fake, path, {"contents": []}))[2])
    assert gemini.keys() == {"totalTokens"} and gemini["totalTokens"] >= 1
    assert fake.pending == 0 and len(fake.requests) == 2


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


# ----------------------------------------------------------------------------- other endpoints


async def test_model_lists(http: aiohttp.ClientSession) -> None:
    async with FakeUpstream(models=["a", "b"]) as fake:
        async with http.get(fake.url + "/v1/models") as resp:
            openai = await resp.json()
        assert openai["object"] == "list"
        assert [(m["id"], m["object"]) for m in openai["data"]] == [("a", "model"), ("b", "model")]
        assert {"created", "owned_by"} <= set(openai["data"][0])
        async with http.get(fake.url + "/v1/models", headers={"anthropic-version": "x"}) as resp:
            anthropic = await resp.json()
        assert [m["id"] for m in anthropic["data"]] == ["a", "b"]
        assert anthropic["data"][0]["type"] == "model" and anthropic["has_more"] is False
        async with http.get(fake.url + "/v1beta/models") as resp:
            gemini = await resp.json()
        assert [m["name"] for m in gemini["models"]] == ["models/a", "models/b"]
        async with http.get(fake.url + "/api/tags") as resp:
            tags = await resp.json()
        assert [(m["name"], m["model"]) for m in tags["models"]] == [("a", "a"), ("b", "b")]


async def test_embeddings_float_and_base64(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    body: dict[str, Any] = {"model": "text-embedding-3-small", "input": ["one", "two"]}
    floats = json.loads((await call(http, fake, "/v1/embeddings", body))[2])
    assert floats["object"] == "list" and floats["model"] == "text-embedding-3-small"
    assert [d["index"] for d in floats["data"]] == [0, 1]
    assert floats["data"][0]["object"] == "embedding"
    assert floats["usage"]["prompt_tokens"] == floats["usage"]["total_tokens"] >= 1
    one, two = (d["embedding"] for d in floats["data"])
    assert len(one) == 8 and one != two and all(-1 <= x <= 1 for x in one)
    again = json.loads((await call(http, fake, "/v1/embeddings", body | {"input": "one"}))[2])
    assert again["data"][0]["embedding"] == one
    encoded = json.loads(
        (await call(http, fake, "/v1/embeddings", body | {"encoding_format": "base64"}))[2]
    )
    decoded = base64.b64decode(encoded["data"][0]["embedding"])
    assert list(struct.unpack(f"<{len(decoded) // 4}f", decoded)) == one
    sized = json.loads((await call(http, fake, "/v1/embeddings", body | {"dimensions": 40}))[2])
    assert len(sized["data"][0]["embedding"]) == 40


# ----------------------------------------------------------------------------- scripting


gemini_429 = {"code": 429, "message": "", "status": "RESOURCE_EXHAUSTED"}


@pytest.mark.parametrize(
    ("path", "status", "check"),
    [
        (CHAT, 429, lambda b: b["error"]["type"] == "rate_limit_error"),
        (RESPONSES, 401, lambda b: b["error"]["code"] == "invalid_api_key"),
        (
            MESSAGES,
            529,
            lambda b: b["type"] == "error" and b["error"]["type"] == "overloaded_error",
        ),
        (GEMINI, 429, lambda b: b["error"] | {"message": ""} == gemini_429),
        (OLLAMA, 500, lambda b: b == {"error": "fake upstream error"}),
    ],
)
async def test_error_status_body_and_headers(
    fake: FakeUpstream, http: aiohttp.ClientSession, path: str, status: int, check: Any
) -> None:
    fake.push(Reply(status=status, headers={"Retry-After": "30"}))
    got, headers, raw = await call(http, fake, path, {"model": "m", "stream": True})
    assert got == status
    assert headers["Retry-After"] == "30" and headers["Content-Type"] == "application/json"
    body = json.loads(raw)
    assert check(body)
    assert "fake upstream error" in json.dumps(body)


async def test_error_type_override(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    fake.push(Reply(status=429, error_type="insufficient_quota", error_message="no money"))
    error = json.loads((await call(http, fake, CHAT))[2])["error"]
    assert error == {
        "message": "no money",
        "type": "insufficient_quota",
        "param": None,
        "code": "rate_limit_exceeded",
    }


async def test_pushed_replies_are_fifo_across_dialects(
    fake: FakeUpstream, http: aiohttp.ClientSession
) -> None:
    fake.push(Reply(text="one"), Reply(text="two"))
    assert fake.pending == 2
    first = json.loads((await call(http, fake, CHAT))[2])
    second = json.loads((await call(http, fake, MESSAGES))[2])
    third = json.loads((await call(http, fake, OLLAMA, {"model": "m", "stream": False}))[2])
    assert first["choices"][0]["message"]["content"] == "one"
    assert second["content"][0]["text"] == "two"
    assert third["message"]["content"] == fake.default.text
    assert fake.pending == 0
    assert fake.paths == [CHAT, MESSAGES, OLLAMA]


async def test_tool_call_ids_are_assigned_on_push() -> None:
    async with FakeUpstream() as fake:
        calls = [ToolCall("a"), ToolCall("b", id="mine"), ToolCall("c")]
        fake.push(Reply(tool_calls=calls))
        assert [c.id for c in calls] == ["call_1", "mine", "call_2"]


async def test_last_reset_and_chunk_delay(http: aiohttp.ClientSession) -> None:
    async with FakeUpstream() as fake:
        with pytest.raises(LookupError):
            _ = fake.last
        fake.push(Reply(chunk_delay=0.001), Reply())
        chunks = sse_json((await call(http, fake, CHAT, {"model": "m", "stream": True}))[2])
        assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == Reply.text
        fake.reset()
        assert (fake.requests, fake.pending) == ([], 0)


async def test_stream_and_model_overrides(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    fake.push(Reply(stream=False, model="other"), Reply(stream=True))
    _, headers, raw = await call(http, fake, CHAT, {"model": "m", "stream": True})
    assert headers["Content-Type"] == "application/json"
    assert json.loads(raw)["model"] == "other"
    _, headers, raw = await call(http, fake, MESSAGES, {"model": "m"})
    assert headers["Content-Type"] == "text/event-stream"
    assert sse_json(raw)[-1] == {"type": "message_stop"}


async def test_requests_are_recorded(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    async with http.post(
        fake.url + MESSAGES + "?beta=true",
        json={"model": "claude", "max_tokens": 5},
        headers={"X-Api-Key": "sk-test", "anthropic-version": "2023-06-01"},
    ) as resp:
        assert resp.status == 200
    rec = fake.last
    assert (rec.method, rec.path, rec.query) == ("POST", MESSAGES, {"beta": "true"})
    assert rec.headers["x-api-key"] == rec.headers["X-API-KEY"] == "sk-test"
    assert rec.json == {"model": "claude", "max_tokens": 5}
    assert json.loads(rec.body) == rec.json

    async with http.put(fake.url + "/nope", data=b"not json") as resp:
        assert resp.status == 404
        assert "no route" in (await resp.json())["error"]["message"]
    assert (fake.last.method, fake.last.path) == ("PUT", "/nope")
    assert fake.last.body == b"not json" and fake.last.json is None
    async with http.get(fake.url + "/api/unknown") as resp:
        assert resp.status == 404 and "error" in await resp.json()
    assert len(fake.requests) == 3


async def test_raw_body_override(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    fake.push(Reply(status=502, body=b"<html>bad gateway</html>", content_type="text/html"))
    status, headers, raw = await call(http, fake, CHAT)
    assert (status, raw) == (502, b"<html>bad gateway</html>")
    assert headers["Content-Type"] == "text/html"


async def test_malformed_json_and_stream(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    fake.push(Reply(malformed=True), Reply(malformed=True))
    status, _, raw = await call(http, fake, CHAT)
    assert status == 200 and raw.startswith(b"{")
    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
        json.loads(raw)
    raw = (await call(http, fake, MESSAGES, {"model": "m", "stream": True}))[2]
    bad = []
    for index, (_, data) in enumerate(blocks := sse_blocks(raw)):
        try:
            json.loads(data)
        except ValueError:
            bad.append(index)
    assert len(bad) == 1 and 0 < bad[0] < len(blocks) - 1


async def test_error_after_sends_in_stream_error(
    fake: FakeUpstream, http: aiohttp.ClientSession
) -> None:
    fake.push(Reply(error_after=1, error_message="boom"), Reply(error_after=2))
    chat = sse_blocks((await call(http, fake, CHAT, {"model": "m", "stream": True}))[2])
    assert len(chat) == 2 and json.loads(chat[1][1])["error"]["message"] == "boom"
    anthropic = sse_blocks((await call(http, fake, MESSAGES, {"model": "m", "stream": True}))[2])
    assert [name for name, _ in anthropic] == ["message_start", "content_block_start", "error"]
    assert json.loads(anthropic[-1][1])["error"]["type"] == "overloaded_error"


async def test_first_byte_delay_holds_back_the_response(
    fake: FakeUpstream, http: aiohttp.ClientSession
) -> None:
    fake.push(Reply(first_byte_delay=30))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(call(http, fake, CHAT), timeout=0.05)
    assert (await call(http, fake, CHAT))[0] == 200  # the next request is not held up


async def test_stall_makes_the_client_read_time_out(
    fake: FakeUpstream, http: aiohttp.ClientSession
) -> None:
    fake.push(Reply(stall_after=2))
    timeout = aiohttp.ClientTimeout(sock_read=0.25)
    body = {"model": "m", "stream": True}
    async with http.post(fake.url + CHAT, json=body, timeout=timeout) as resp:
        assert resp.status == 200
        first = await resp.content.readuntil(b"\n\n")
        second = await resp.content.readuntil(b"\n\n")
        assert b'"role":"assistant"' in first and b'"content":"Hello' in second
        with pytest.raises(TimeoutError):
            await resp.content.readuntil(b"\n\n")


async def test_cut_aborts_stream_and_json(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    fake.push(Reply(cut_after=2), Reply(cut_after=1))
    async with http.post(fake.url + RESPONSES, json={"model": "m", "stream": True}) as resp:
        assert b"response.created" in await resp.content.readuntil(b"\n\n")
        assert b"response.in_progress" in await resp.content.readuntil(b"\n\n")
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()
    with pytest.raises(aiohttp.ClientPayloadError):
        await call(http, fake, GEMINI, {"contents": []})


async def test_close_does_not_wait_for_a_stalled_stream(http: aiohttp.ClientSession) -> None:
    fake = await FakeUpstream().start()
    fake.push(Reply(stall_after=1, stall_seconds=60))
    async with http.post(fake.url + OLLAMA, json={"model": "m"}) as resp:
        assert b'"done":false' in await resp.content.readline()
        await asyncio.wait_for(fake.close(), timeout=5)
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()
    with pytest.raises(RuntimeError, match="not started"):
        _ = fake.url
