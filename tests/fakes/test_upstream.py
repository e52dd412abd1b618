"""Tests of the fake upstream's server: routes, scripting, recording and the failure knobs.

The dialect shapes are checked in `test_dialects_openai.py` and `test_dialects_others.py`;
this module checks what `upstream.py` itself does whatever the dialect: token counting and
model lists, error statuses and bodies, the FIFO reply queue and its overrides, request
recording, raw and malformed bodies, in-stream errors, delays, stalls, cuts and closing with a
stream still open, through a plain aiohttp client against the running fake.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from tests.fakes.conftest import (
    CHAT,
    GEMINI,
    MESSAGES,
    OLLAMA,
    RESPONSES,
    call,
    sse_blocks,
    sse_json,
)
from tests.fakes.upstream import FakeUpstream, Reply, ToolCall

# ----------------------------------------------------------------------------- routes


async def test_count_tokens(fake: FakeUpstream, http: aiohttp.ClientSession) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x" * 400}]}
    anthropic = json.loads((await call(http, fake, "/v1/messages/count_tokens", body))[2])
    assert anthropic.keys() == {"input_tokens"} and anthropic["input_tokens"] > 100
    path = "/v1beta/models/gemini-2.5-flash:countTokens"
    gemini = json.loads((await call(http, fake, path, {"contents": []}))[2])
    assert gemini.keys() == {"totalTokens"} and gemini["totalTokens"] >= 1
    assert fake.pending == 0 and len(fake.requests) == 2


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
