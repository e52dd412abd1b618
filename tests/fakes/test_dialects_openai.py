"""Tests of the fake upstream's OpenAI shapes: Chat Completions, Responses and embeddings.

Every gateway test that talks OpenAI to the fake trusts these shapes, so the JSON bodies and
the streams of `dialects_openai.py` (chunk order, usage chunk, tool-call argument deltas,
reasoning, Responses event sequence and statuses, float and base64 embeddings) are checked here
through a plain aiohttp client against the running fake.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import aiohttp

from tests.fakes.conftest import ARGS, CHAT, RESPONSES, call, sse_blocks, sse_json
from tests.fakes.upstream import FakeUpstream, Reply, ToolCall, Usage

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


# ----------------------------------------------------------------------------- OpenAI embeddings


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
