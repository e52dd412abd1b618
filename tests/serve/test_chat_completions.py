"""POST /v1/chat/completions end to end against the fake upstream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson

from omni.config import Settings
from tests.fakes.upstream import Reply, Usage
from tests.serve.conftest import usage_rows

BODY = {"model": "fake/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def _events(raw: bytes) -> list[Any]:
    out = []
    for raw_block in raw.split(b"\n\n"):
        block = raw_block.strip()
        if not block:
            continue
        assert block.startswith(b"data: "), block
        data = block[6:]
        out.append("[DONE]" if data == b"[DONE]" else orjson.loads(data))
    return out


async def test_json_answer_is_forwarded_and_recorded(
    gateway: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    upstream.push(Reply(text="Hi there", usage=Usage(input=21, output=9, cache_read=5)))
    client = await gateway()
    response = await client.post("/v1/chat/completions", json=BODY)
    assert response.status == 200
    data = await response.json()
    assert data["choices"][0]["message"]["content"] == "Hi there"
    assert response.headers["X-OmniRoute-Provider"] == "fake"
    assert response.headers["X-OmniRoute-Model"] == "fake/gpt-4o-mini"
    assert response.headers["X-OmniRoute-Tokens-In"] == "21"

    sent = upstream.last
    assert sent.path == "/v1/chat/completions"
    assert sent.json["model"] == "gpt-4o-mini", "the provider prefix is stripped upstream"
    assert sent.json["messages"] == BODY["messages"]
    assert sent.headers["Authorization"] == "Bearer sk-upstream-SECRET-42"

    [row] = await usage_rows(client, settings)
    assert row["status"] == 200
    assert (row["provider_id"], row["model"], row["requested_model"]) == (
        "fake",
        "gpt-4o-mini",
        "fake/gpt-4o-mini",
    )
    assert (row["input_tokens"], row["output_tokens"], row["cache_read_tokens"]) == (21, 9, 5)
    assert row["latency_ms"] > 0
    assert row["request_id"] == response.headers["X-OmniRoute-Request-Id"]


async def test_stream_is_forwarded_and_usage_recorded(
    gateway: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    upstream.push(Reply(text="one two three four", chunks=4, usage=Usage(input=7, output=4)))
    client = await gateway()
    response = await client.post("/v1/chat/completions", json={**BODY, "stream": True})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    events = _events(await response.read())
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "one two three four"
    assert all(c["choices"] for c in chunks), "usage chunk the client did not ask for is dropped"
    assert upstream.last.json["stream_options"] == {"include_usage": True}

    [row] = await usage_rows(client, settings)
    assert (row["status"], row["stream"], row["input_tokens"], row["output_tokens"]) == (
        200,
        1,
        7,
        4,
    )
    assert row["ttft_ms"] is not None


async def test_stream_keeps_usage_chunk_when_asked(
    gateway: Callable[..., Any], upstream: Any
) -> None:
    upstream.push(Reply(usage=Usage(input=3, output=2)))
    client = await gateway()
    body = {**BODY, "stream": True, "stream_options": {"include_usage": True}}
    events = _events(await (await client.post("/v1/chat/completions", json=body)).read())
    assert events[-2]["choices"] == []
    assert events[-2]["usage"]["prompt_tokens"] == 3


async def test_accept_event_stream_streams_when_stream_is_omitted(
    gateway: Callable[..., Any], upstream: Any
) -> None:
    client = await gateway()
    response = await client.post(
        "/v1/chat/completions", json=BODY, headers={"Accept": "text/event-stream"}
    )
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert _events(await response.read())[-1] == "[DONE]"
    assert upstream.last.json["stream"] is True


async def test_stream_chunks_arrive_before_the_upstream_finishes(
    gateway: Callable[..., Any], upstream: Any
) -> None:
    # The upstream sends two events and then holds back the rest: omni must already have
    # passed those two on (it forwards as chunks arrive, never buffering the stream).
    upstream.push(Reply(text="a b c d", chunks=4, stall_after=2, stall_seconds=30))
    client = await gateway()
    response = await client.post("/v1/chat/completions", json={**BODY, "stream": True})
    received = b""
    async with asyncio.timeout(10):
        while received.count(b"\n\n") < 2:
            received += await response.content.readany()
    first = _events(received)
    assert first[0]["choices"][0]["delta"]["role"] == "assistant"
    response.close()


async def test_upstream_error_status_and_retry_after_pass_through(
    gateway: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    upstream.push(Reply(status=429, headers={"Retry-After": "30"}, error_message="slow down"))
    client = await gateway()
    response = await client.post("/v1/chat/completions", json=BODY)
    assert response.status == 429
    assert response.headers["Retry-After"] == "30"
    error = (await response.json())["error"]
    assert error["type"] == "rate_limit_error"
    assert "slow down" in error["message"]
    [row] = await usage_rows(client, settings)
    assert (row["status"], row["error"]) == (429, "upstream_429")


async def test_upstream_server_error_becomes_502(
    gateway: Callable[..., Any], upstream: Any
) -> None:
    upstream.push(Reply(status=500, error_message="boom"))
    client = await gateway()
    response = await client.post("/v1/chat/completions", json={**BODY, "stream": True})
    assert response.status == 502
    assert "boom" in (await response.json())["error"]["message"]


async def test_upstream_rejecting_omnis_key_is_not_a_client_401(
    gateway: Callable[..., Any], upstream: Any
) -> None:
    upstream.push(Reply(status=401, error_message="invalid api key"))
    client = await gateway()
    response = await client.post("/v1/chat/completions", json=BODY)
    assert response.status == 502
    assert "sk-upstream-SECRET-42" not in await response.text()


async def test_stream_cut_mid_way_ends_with_an_error_event(
    gateway: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    upstream.push(Reply(text="a b c d", chunks=4, cut_after=2))
    client = await gateway()
    response = await client.post("/v1/chat/completions", json={**BODY, "stream": True})
    assert response.status == 200
    events = _events(await response.read())
    assert events[-1]["error"]["code"] == "upstream_cut"
    assert "[DONE]" not in events
    [row] = await usage_rows(client, settings)
    assert row["status"] == 502


async def test_stream_stall_ends_with_an_error_event(
    gateway: Callable[..., Any], upstream: Any
) -> None:
    upstream.push(Reply(chunks=4, stall_after=2, stall_seconds=30))
    client = await gateway(stall_timeout=0.3)
    response = await client.post("/v1/chat/completions", json={**BODY, "stream": True})
    events = _events(await response.read())
    assert events[-1]["error"]["code"] == "upstream_stalled"
    assert events[-1]["error"]["type"] == "timeout_error"


async def test_no_first_byte_in_time_is_504(gateway: Callable[..., Any], upstream: Any) -> None:
    upstream.push(Reply(first_byte_delay=30))
    client = await gateway(first_byte_timeout=0.3)
    response = await client.post("/v1/chat/completions", json=BODY)
    assert response.status == 504
    assert (await response.json())["error"]["code"] == "upstream_timeout"


async def test_unreachable_upstream_is_502(
    add_provider: Callable[..., Any], make_client: Callable[..., Any]
) -> None:
    from tests.conftest import free_port

    add_provider(
        "down", base_url=f"http://127.0.0.1:{free_port()}/v1", models=["m"], sync_models=False
    )
    client = await make_client()
    response = await client.post("/v1/chat/completions", json={"model": "down/m", "messages": []})
    assert response.status == 502
    assert (await response.json())["error"]["code"] == "upstream_unreachable"


async def test_malformed_upstream_json_is_passed_on_without_crashing(
    gateway: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    upstream.push(Reply(malformed=True))
    client = await gateway()
    response = await client.post("/v1/chat/completions", json=BODY)
    assert response.status == 200
    [row] = await usage_rows(client, settings)
    assert row["input_tokens"] is None, "no invented token counts"
