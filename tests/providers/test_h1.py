"""The lean upstream client against real sockets: keep-alive, streaming, compression and
every way a server can misbehave (closing idle connections, cutting a body, going silent)."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest

from omni.providers.h1 import Pool

Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter


class Server:
    """A raw HTTP/1.1 server on 127.0.0.1 whose handler writes bytes by hand."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[bytes] = []

    async def read_request(self, reader: Reader) -> bytes | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await reader.readexactly(length)
        self.requests.append(head + body)
        return head + body


Handler = Callable[[Server, Reader, Writer], Awaitable[None]]


@asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[tuple[Server, str]]:
    state = Server()

    async def on_connect(reader: Reader, writer: Writer) -> None:
        state.connections += 1
        try:
            await handler(state, reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield state, f"http://127.0.0.1:{port}/v1/chat/completions"
    finally:
        server.close()
        await server.wait_closed()


def answer(body: bytes, *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", "Content-Type: application/json; charset=utf-8"]
    head += [f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def keep_answering(state: Server, reader: Reader, writer: Writer) -> None:
    while (request := await state.read_request(reader)) is not None:
        writer.write(answer(b'{"echo": %d}' % len(request)))
        await writer.drain()


@pytest.fixture
async def pool() -> AsyncIterator[Pool]:
    pool = Pool(connect_timeout=5, stall_timeout=5, user_agent="omni/test")
    yield pool
    await pool.close()


async def test_answers_come_back_over_one_kept_alive_connection(pool: Pool) -> None:
    async with serve(keep_answering) as (state, url):
        for _ in range(3):
            response = await pool.post(url, b'{"a": 1}', {"Content-Type": "application/json"})
            assert response.status == 200
            assert response.content_type == "application/json"
            assert response.headers["content-length"]
            assert (await response.read()).startswith(b'{"echo": ')
            response.release()
    assert state.connections == 1
    request = state.requests[0]
    assert request.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in request
    assert b"\r\nUser-Agent: omni/test\r\n" in request
    assert b"\r\nContent-Type: application/json\r\n" in request
    assert request.endswith(b'\r\n\r\n{"a": 1}')


async def test_a_stream_is_read_piece_by_piece_as_it_arrives(pool: Pool) -> None:
    go_on = asyncio.Event()

    async def stream(state: Server, reader: Reader, writer: Writer) -> None:
        await state.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")  # fmt: skip
        writer.write(b"a\r\ndata: one\n\r\n")
        await writer.drain()
        await go_on.wait()  # the second piece only after the client read the first
        writer.write(b"a\r\ndata: two\n\r\n0\r\n\r\n")
        await writer.drain()

    async with serve(stream) as (_, url):
        response = await pool.post(url, b"{}", {})
        assert response.content_type == "text/event-stream"
        pieces = []
        async for piece in response.content.iter_any():
            pieces.append(piece)
            go_on.set()
        response.release()
    assert pieces == [b"data: one\n", b"data: two\n"]


async def test_a_gzip_body_is_unpacked(pool: Pool) -> None:
    packed = gzip.compress(b'{"big": "' + b"x" * 5000 + b'"}')

    async def gzipped(state: Server, reader: Reader, writer: Writer) -> None:
        request = await state.read_request(reader)
        assert request is not None and b"Accept-Encoding: gzip, deflate" in request
        writer.write(answer(packed, "Content-Encoding: gzip"))
        await writer.drain()

    async with serve(gzipped) as (_, url):
        response = await pool.post(url, b"{}", {})
        assert await response.read() == b'{"big": "' + b"x" * 5000 + b'"}'


async def test_a_kept_connection_the_server_drops_unanswered_is_replaced_once(
    pool: Pool,
) -> None:
    async def one_answer_per_connection(state: Server, reader: Reader, writer: Writer) -> None:
        await state.read_request(reader)
        writer.write(answer(b"{}"))  # says keep-alive...
        await writer.drain()
        await state.read_request(reader)  # ...but hangs up on the next request (idle timeout)

    async with serve(one_answer_per_connection) as (state, url):
        first = await pool.post(url, b"{}", {})
        assert await first.read() == b"{}"
        second = await pool.post(url, b"{}", {})
        assert second.status == 200 and await second.read() == b"{}"
    assert state.connections == 2
    assert len(state.requests) == 3  # the dropped one was sent again on a new connection


async def test_connection_close_is_honoured(pool: Pool) -> None:
    async def closing(state: Server, reader: Reader, writer: Writer) -> None:
        while await state.read_request(reader) is not None:
            writer.write(answer(b"{}", "Connection: close"))
            await writer.drain()

    async with serve(closing) as (state, url):
        for _ in range(2):
            response = await pool.post(url, b"{}", {})
            assert await response.read() == b"{}"
    assert state.connections == 2


async def test_a_body_that_ends_with_the_connection_is_read_whole(pool: Pool) -> None:
    async def until_close(state: Server, reader: Reader, writer: Writer) -> None:
        await state.read_request(reader)
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"whole"')
        await writer.drain()
        writer.write(b": true}")

    async with serve(until_close) as (_, url):
        response = await pool.post(url, b"{}", {})
        assert await response.read() == b'{"whole": true}'


async def test_a_body_cut_short_raises_a_payload_error(pool: Pool) -> None:
    async def cut(state: Server, reader: Reader, writer: Writer) -> None:
        await state.read_request(reader)
        writer.write(answer(b'{"complete": false}')[:-5])

    async with serve(cut) as (_, url):
        response = await pool.post(url, b"{}", {})
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()


async def test_a_server_that_closes_before_answering_is_a_disconnect(pool: Pool) -> None:
    async def hang_up(state: Server, reader: Reader, writer: Writer) -> None:
        await state.read_request(reader)

    async with serve(hang_up) as (_, url):
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await pool.post(url, b"{}", {})


async def test_silence_mid_body_longer_than_the_stall_timeout_is_a_timeout() -> None:
    pool = Pool(connect_timeout=5, stall_timeout=0.2, user_agent="omni/test")
    release = asyncio.Event()

    async def silent(state: Server, reader: Reader, writer: Writer) -> None:
        await state.read_request(reader)
        writer.write(answer(b'{"never": "finished"}')[:-3])
        await writer.drain()
        await release.wait()

    try:
        async with serve(silent) as (_, url):
            response = await pool.post(url, b"{}", {})
            with pytest.raises(TimeoutError):
                await response.read()
            release.set()
    finally:
        await pool.close()


async def test_a_refused_connection_is_an_os_error(pool: Pool) -> None:
    async with serve(keep_answering) as (_, url):
        pass  # the port is free again
    with pytest.raises(OSError):
        await pool.post(url, b"{}", {})


async def test_releasing_an_unread_answer_drops_its_connection(pool: Pool) -> None:
    async def big(state: Server, reader: Reader, writer: Writer) -> None:
        while await state.read_request(reader) is not None:
            writer.write(answer(b"x" * 100)[:-50])  # half now; the rest never
            await writer.drain()

    async with serve(big) as (state, url):
        first = await pool.post(url, b"{}", {})
        assert await first.content.read(10) == b"x" * 10
        first.release()
        second = await pool.post(url, b"{}", {})
        assert second.status == 200
        second.close()
    assert state.connections == 2


async def test_a_header_value_with_a_line_break_is_refused(pool: Pool) -> None:
    async with serve(keep_answering) as (state, url):
        with pytest.raises(ValueError, match="line break"):
            await pool.post(url, b"{}", {"X-Bad": "a\r\nInjected: yes"})
    assert state.requests == []


async def test_an_interim_answer_is_skipped_for_the_real_one(pool: Pool) -> None:
    async def early_hints(state: Server, reader: Reader, writer: Writer) -> None:
        await state.read_request(reader)
        writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n")
        writer.write(answer(b'{"real": true}'))
        await writer.drain()

    async with serve(early_hints) as (_, url):
        response = await pool.post(url, b"{}", {})
        assert response.status == 200
        assert await response.read() == b'{"real": true}'


async def test_a_path_with_spaces_is_sent_percent_encoded(pool: Pool) -> None:
    async with serve(keep_answering) as (state, url):
        response = await pool.post(url.replace("/chat/", "/my models/") + "?q=a b", b"{}", {})
        assert response.status == 200
        await response.read()
    assert state.requests[0].startswith(b"POST /v1/my%20models/completions?q=a%20b HTTP/1.1\r\n")


async def test_no_answer_before_the_first_byte_deadline_is_a_timeout(pool: Pool) -> None:
    hung_up = asyncio.Event()

    async def mute(state: Server, reader: Reader, writer: Writer) -> None:
        await state.read_request(reader)
        await reader.read()  # returns when the client gives up on the connection
        hung_up.set()

    async with serve(mute) as (_, url):
        with pytest.raises(TimeoutError):
            await pool.post(url, b"{}", {}, first_byte_s=0.2)
        await hung_up.wait()


async def test_a_broken_gzip_body_is_an_error_not_a_short_answer(pool: Pool) -> None:
    async def broken(state: Server, reader: Reader, writer: Writer) -> None:
        await state.read_request(reader)
        writer.write(answer(b"\x1f\x8b\x08\x00not really gzip at all", "Content-Encoding: gzip"))
        await writer.drain()

    async with serve(broken) as (_, url):
        response = await pool.post(url, b"{}", {})
        with pytest.raises(aiohttp.ClientPayloadError, match="compressed"):
            await response.read()
