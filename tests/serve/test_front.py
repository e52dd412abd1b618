"""The server's fast lane for the chat endpoints, over raw sockets: what it serves itself,
what it hands to aiohttp (on the same connection, losing no byte), and how it frames
answers. ``Server: omni`` marks an answer of the lane, aiohttp's says ``aiohttp``."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable
from typing import Any

import orjson

from omni.serve.front import response_head
from tests.fakes.upstream import Reply

CHAT = orjson.dumps({"model": "fake/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
MIB = 1024 * 1024
MESSAGES = orjson.dumps(
    {"model": "fake/gpt-4o-mini", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
)


def post(path: str, body: bytes, *extra: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: omni", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 answer: status, headers (lower-case names), the de-chunked body."""
    async with asyncio.timeout(10):
        return await _answer(reader)


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    status_line, *lines = head[:-4].split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    if headers.get("transfer-encoding") == "chunked":
        body = b""
        while size := int((await reader.readuntil(b"\r\n"))[:-2], 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readexactly(2)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split(" ")[1]), headers, body


async def connect(client: Any) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(client.server.host, client.server.port)


async def test_one_connection_moves_from_the_lane_to_aiohttp_and_keeps_serving(
    gateway: Callable[..., Any],
) -> None:
    client = await gateway()
    reader, writer = await connect(client)
    writer.write(post("/v1/chat/completions", CHAT))
    status, headers, body = await answer(reader)
    assert status == 200 and headers["server"] == "omni"
    assert orjson.loads(body)["choices"][0]["message"]["content"]
    assert headers["x-omniroute-provider"] == "fake"

    writer.write(b"GET /v1/models HTTP/1.1\r\nHost: omni\r\n\r\n")  # not the lane's
    status, headers, body = await answer(reader)
    assert status == 200 and "aiohttp" in headers["server"]
    assert "fake/gpt-4o-mini" in [m["id"] for m in orjson.loads(body)["data"]]

    writer.write(post("/v1/chat/completions", CHAT))  # aiohttp keeps the connection
    status, headers, body = await answer(reader)
    assert status == 200 and "aiohttp" in headers["server"]
    writer.close()


async def test_pipelined_and_split_requests_are_answered_in_order(
    gateway: Callable[..., Any], upstream: Any
) -> None:
    client = await gateway()
    reader, writer = await connect(client)
    writer.write(post("/v1/chat/completions", CHAT) + post("/v1/messages", MESSAGES))
    first, second = await answer(reader), await answer(reader)
    assert first[0] == second[0] == 200
    assert orjson.loads(first[2])["object"] == "chat.completion"
    assert orjson.loads(second[2])["type"] == "message"

    request = post("/v1/chat/completions", CHAT)
    for piece in (request[:20], request[20:90], request[90:-5], request[-5:]):
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(0)
    status, headers, _ = await answer(reader)
    assert status == 200 and headers["server"] == "omni"
    assert len(upstream.requests) == 3
    writer.close()


async def test_what_the_lane_does_not_take_aiohttp_answers(gateway: Callable[..., Any]) -> None:
    client = await gateway(max_body_mb=1)
    chunked = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: omni\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n%b\r\n0\r\n\r\n" % (len(CHAT), CHAT)
    )
    reader, writer = await connect(client)
    writer.write(chunked)
    status, headers, _ = await answer(reader)
    assert status == 200 and "aiohttp" in headers["server"]
    writer.close()

    reader, writer = await connect(client)  # a compressed body: aiohttp unpacks it
    writer.write(post("/v1/chat/completions", gzip.compress(CHAT), "Content-Encoding: gzip"))
    status, headers, _ = await answer(reader)
    assert status == 200 and "aiohttp" in headers["server"]
    writer.close()

    reader, writer = await connect(client)  # over the body limit: refused in the dialect
    writer.write(post("/v1/messages", b"x" * (MIB + 1)))
    status, headers, body = await answer(reader)
    assert status == 413 and "aiohttp" in headers["server"]
    assert orjson.loads(body)["error"]["message"] == "request body too large: the limit is 1 MiB"
    writer.close()

    reader, writer = await connect(client)  # a head llhttp refuses
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nBad Header\r\n\r\n")
    status, _, _ = await answer(reader)
    assert status == 400
    writer.close()


async def test_refusals_come_in_the_callers_dialect_and_close_when_asked(
    gateway: Callable[..., Any],
) -> None:
    client = await gateway(require_api_key=True)
    reader, writer = await connect(client)
    writer.write(post("/v1/messages", MESSAGES, "Connection: close"))
    status, headers, body = await answer(reader)
    assert status == 401 and headers["server"] == "omni" and headers["connection"] == "close"
    error = orjson.loads(body)
    assert error["type"] == "error" and error["error"]["type"] == "authentication_error"
    assert await reader.read() == b""  # closed by the server
    writer.close()

    reader, writer = await connect(client)
    writer.write(post("/v1/chat/completions", b"{not json", "Authorization: Bearer sk-nope"))
    status, _, body = await answer(reader)
    assert status == 401 and orjson.loads(body)["error"]["code"] == "invalid_api_key"
    writer.close()


async def test_a_stream_goes_out_chunked_as_the_upstream_sends_it(
    gateway: Callable[..., Any], upstream: Any
) -> None:
    upstream.default = Reply(text="one two three four", chunks=4)
    client = await gateway()
    reader, writer = await connect(client)
    body = orjson.dumps({**orjson.loads(CHAT), "stream": True})
    writer.write(post("/v1/chat/completions", body, "Accept: text/event-stream"))
    status, headers, sse = await answer(reader)
    assert status == 200 and headers["content-type"] == "text/event-stream"
    assert headers["transfer-encoding"] == "chunked" and headers["cache-control"] == "no-cache"
    events = [line[6:] for line in sse.decode().split("\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    text = "".join(
        chunk["choices"][0]["delta"].get("content") or ""
        for chunk in map(orjson.loads, events[:-1])
        if chunk["choices"]
    )
    assert text == "one two three four"
    writer.write(post("/v1/chat/completions", CHAT))  # the connection stays usable
    assert (await answer(reader))[0] == 200
    writer.close()


def test_a_header_that_would_break_the_framing_is_left_out() -> None:
    head = response_head(
        200,
        "application/json",
        {"X-Ok": "yes", "X-Bad": "a\r\nSet-Cookie: x=1", "Content-Length": "999"},
        "Content-Length: 2\r\n",
        keep_alive=True,
    ).decode()
    assert head.startswith("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Ok: yes\r\n")
    assert "Set-Cookie" not in head and "999" not in head
    assert head.count("Content-Length") == 1 and head.endswith("\r\n\r\n")


async def test_an_idle_connection_is_closed_after_the_keep_alive_time(
    gateway: Callable[..., Any],
) -> None:
    client = await gateway()
    front = client.server.runner.server
    busy_reader, busy_writer = await connect(client)
    front.keepalive_s = 0.2  # the next sweep runs with it
    front._sweep()
    reader, writer = await connect(client)
    writer.write(post("/v1/chat/completions", CHAT))
    assert (await answer(reader))[0] == 200
    async with asyncio.timeout(10):
        assert await reader.read() == b""  # closed by the server once idle long enough
        assert await busy_reader.read() == b""  # so is one that never sent a request
    writer.close()
    busy_writer.close()
