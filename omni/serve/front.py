"""The server's front door: a lean HTTP/1.1 lane for the chat endpoints, aiohttp for the rest.

Every connection starts in the lane (:class:`_Lane`, an asyncio protocol). It reads one
request head at a time (parsed by llhttp through ``httptools``). A plain HTTP/1.1 POST to
one of the chat endpoints (:data:`omni.serve.routes.chat.BY_PATH`) with a Content-Length
body within the size limit is served right here: the IP filter, the client API key, the
gateway, the reply (JSON in one write, streams chunked, written as the gateway yields
them). Anything else — another path or method, HTTP/1.0, a chunked, compressed or
``Expect`` body, an upgrade, a multipart form, a head llhttp refuses, a body over the
limit — hands the connection, with every byte read from it so far, to aiohttp's own
request handler, which serves that request and the rest of the connection as it would
without the lane.

Both ways answer alike: the checks are the ones the middlewares use
(:func:`~omni.serve.middlewares.refused`, :func:`~omni.serve.guard.admit`), errors go
through :func:`~omni.serve.middlewares.failure`, and the chat table is shared. What the lane
saves is aiohttp's per-request machinery (request and response objects, middleware
levels, a task hop), the largest part of omni's own time on a request.

A client that goes away cancels its request, as with aiohttp's ``handler_cancellation``.
Shutdown follows aiohttp's: idle connections close, busy ones close after their reply, and
requests still running after the grace period are cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Mapping
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, cast

import httptools
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from omni.gateway.answers import Reply
from omni.gateway.usage import CURRENT_KEY
from omni.serve import guard, keys, middlewares
from omni.serve.routes.chat import BY_PATH, Chat
from omni.serve.routes.reply import STREAM_HEADERS

log = logging.getLogger("omni.serve")

_ROUTES = {path.encode(): (path, chat) for path, chat in BY_PATH.items()}
MAX_HEAD = 64 * 1024  # no end of head by then: aiohttp gets the connection (and refuses it)
KEEPALIVE_S = 3630.0  # an idle keep-alive connection is closed after this long (as aiohttp)
BACKLOG = 1 << 20  # bytes of a pipelined next request buffered before reading pauses
_NOT_OURS = frozenset({b"transfer-encoding", b"content-encoding", b"expect", b"upgrade"})
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "date", "server"})

# path, endpoint, headers, head length, body length, keep-alive
_Request = tuple[str, Chat, CIMultiDictProxy[str], int, int, bool]


def read_head(head: bytes, max_body: int) -> _Request | None:
    """The chat request ``head`` (ending in its blank line) starts, or None when it is not
    one for the lane. llhttp checks the syntax; the lines are then split without a
    callback per header."""
    parser = httptools.HttpRequestParser(_CHECK_ONLY)
    try:
        parser.feed_data(head)
    except httptools.HttpParserError:
        return None
    if parser.get_method() != b"POST" or parser.get_http_version() != "1.1":
        return None
    lines = head[:-4].split(b"\r\n")
    route = _ROUTES.get(lines[0].split(b" ")[1])
    if route is None or head.count(b"\n") != len(lines) + 1:  # bare LFs: not ours
        return None
    length, keep_alive = 0, True
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name[:1] in (b" ", b"\t"):  # a folded line
            return None
        low = name.lower()
        if low == b"content-length":
            length = int(value)  # digits only: llhttp checked, and refuses a second one
        elif low in _NOT_OURS:
            return None
        elif low == b"connection" and b"close" in value.lower():
            keep_alive = False
        headers.add(name.decode("latin-1"), value.strip(b" \t").decode("utf-8", "surrogateescape"))
    if length > max_body or headers.get("Content-Type", "")[:10].lower() == "multipart/":
        return None
    return route[0], route[1], CIMultiDictProxy(headers), len(head), length, keep_alive


_CHECK_ONLY = object()  # llhttp without callbacks: a syntax check


_status_lines: dict[int, str] = {}
_clock: list[Any] = [0, ""]  # the second and its Date header line


def _status_line(status: int) -> str:
    line = _status_lines.get(status)
    if line is None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        line = _status_lines[status] = f"HTTP/1.1 {status} {phrase}\r\n"
    return line


def _date_line() -> str:
    now = int(time.time())
    if now != _clock[0]:
        _clock[0], _clock[1] = now, f"Date: {formatdate(now, usegmt=True)}\r\n"
    return cast(str, _clock[1])


def response_head(
    status: int,
    content_type: str | None,
    headers: Mapping[str, str],
    framing: str,
    keep_alive: bool,
) -> bytes:
    """A response head; header lines that would break the framing are left out."""
    parts = [_status_lines.get(status) or _status_line(status)]
    if content_type is not None:
        parts.append(f"Content-Type: {content_type}\r\n")
    for name, value in headers.items():
        line = f"{name}: {value}\r\n"
        if "\n" in line[:-1] or "\r" in line[:-2] or name.lower() in _FRAMING:
            continue
        parts.append(line)
    parts.append(framing)
    if not keep_alive:
        parts.append("Connection: close\r\n")
    parts.append(_clock[1] if int(time.time()) == _clock[0] else _date_line())
    parts.append("Server: omni\r\n\r\n")
    return "".join(parts).encode("utf-8", "replace")


class Front:
    """What the sites call for each new connection: a lane, in front of aiohttp's server
    (``server``), which gets every connection the lane hands over."""

    def __init__(self, server: web.Server, app: web.Application) -> None:
        self._server = server
        self.app = app
        self.max_body = app[keys.SETTINGS].max_body_bytes
        self.lanes: set[_Lane] = set()
        self._stopping = False
        self.keepalive_s = KEEPALIVE_S
        self._sweeper: asyncio.TimerHandle | None = None

    def __call__(self) -> asyncio.BaseProtocol:
        if self._stopping:
            return self._server()
        if self._sweeper is None:
            self._sweep()
        return _Lane(self)

    def _sweep(self) -> None:
        """Close connections idle for longer than ``keepalive_s``; again in a while."""
        loop = asyncio.get_running_loop()
        cutoff = loop.time() - self.keepalive_s
        for lane in list(self.lanes):
            lane.close_if_idle_since(cutoff)
        self._sweeper = loop.call_later(min(self.keepalive_s / 2, 60.0), self._sweep)

    def __getattr__(self, name: str) -> Any:  # anything else aiohttp asks of its server
        return getattr(self._server, name)

    def handler(self) -> asyncio.Protocol:
        """aiohttp's handler for a connection the lane hands over."""
        return self._server()

    async def answer(
        self, path: str, chat: Chat, headers: CIMultiDictProxy[str], body: bytes, remote: str | None
    ) -> Reply | web.Response:
        """What the middlewares and the route would answer (refusals raise)."""
        app = self.app
        refusal = middlewares.refused(app, path, remote)
        if refusal is not None:
            return refusal
        access = app[keys.ACCESS]
        if access.require_api_key:
            entry = guard.admit(guard.header_key(headers), access)
            if entry.models:
                guard.check_model(app, entry, guard.json_model(body))
            CURRENT_KEY.set(entry.id)  # this request's task only
        return await chat.call(app[keys.GATEWAY], body, headers)

    def pre_shutdown(self) -> None:
        self._stopping = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        for lane in list(self.lanes):
            lane.close_when_idle()
        self._server.pre_shutdown()

    async def shutdown(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 - aiohttp's
        tasks = [lane.task for lane in self.lanes if lane.task is not None]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=timeout)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        for lane in list(self.lanes):
            lane.close_when_idle()
        await self._server.shutdown(timeout)


class _Lane(asyncio.Protocol):
    """One client connection while it stays in the lane."""

    def __init__(self, front: Front) -> None:
        self._front = front
        self._transport: asyncio.Transport | None = None
        self._remote: str | None = None
        self._buf = bytearray()
        self._request: _Request | None = None  # its head read, its body still coming
        self.task: asyncio.Task[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self._closing = False
        self._paused = False
        self._loop = asyncio.get_running_loop()
        self._idle_since: float | None = self._loop.time()  # None while a request is on

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self._remote = peer[0] if isinstance(peer, tuple) else None
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)  # as aiohttp
        self._front.lanes.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._front.lanes.discard(self)
        self._transport = None
        if self.task is not None:
            self.task.cancel()
        self.resume_writing()

    def data_received(self, data: bytes) -> None:
        self._buf += data
        self._idle_since = None
        if self.task is None:
            self._next()
        elif len(self._buf) > BACKLOG and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()

    def eof_received(self) -> bool:
        return False  # the client is done sending: close (a request in flight is cancelled)

    def pause_writing(self) -> None:
        self._drain = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        drain, self._drain = self._drain, None
        if drain is not None and not drain.done():
            drain.set_result(None)

    def close_if_idle_since(self, cutoff: float) -> None:
        idle_since = self._idle_since
        if idle_since is not None and idle_since < cutoff and self._transport is not None:
            self._transport.close()

    def close_when_idle(self) -> None:
        self._closing = True
        if self.task is None and self._transport is not None:
            self._transport.close()

    def _next(self) -> None:
        """Start serving the next whole request in the buffer, or hand the connection over."""
        buf = self._buf
        request = self._request
        if request is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEAD:
                    self._hand_over()
                return
            request = read_head(bytes(buf[: end + 4]), self._front.max_body)
            if request is None:
                self._hand_over()
                return
            self._request = request
        path, chat, headers, head_length, length, keep_alive = request
        end = head_length + length
        if len(buf) < end:
            return
        body = bytes(buf[head_length:end])
        del buf[:end]
        self._request = None
        self.task = asyncio.get_running_loop().create_task(
            self._serve(path, chat, headers, body, keep_alive)
        )

    def _hand_over(self) -> None:
        transport = self._transport
        if transport is None:
            return
        self._transport = None
        self._front.lanes.discard(self)
        handler = self._front.handler()
        transport.set_protocol(handler)
        handler.connection_made(transport)
        data = bytes(self._buf)
        self._buf.clear()
        if data:
            handler.data_received(data)

    async def _serve(
        self, path: str, chat: Chat, headers: CIMultiDictProxy[str], body: bytes, keep_alive: bool
    ) -> None:
        front = self._front
        try:
            try:
                answer = await front.answer(path, chat, headers, body, self._remote)
            except Exception as exc:  # noqa: BLE001 - rendered, or re-raised, by failure()
                answer = middlewares.failure(exc, "POST", path, front.app)
            if isinstance(answer, web.Response):
                body = cast(bytes, answer.body)
                self._send(answer.status, None, answer.headers, body, keep_alive)
            elif answer.stream is None:
                reply = answer
                self._send(reply.status, reply.content_type, reply.headers, reply.body, keep_alive)
            else:
                keep_alive = await self._stream(answer, keep_alive)
        except ConnectionError:
            keep_alive = False
        except Exception:
            log.exception("unexpected error answering POST %s", path)
            keep_alive = False
        except asyncio.CancelledError:
            self.task = None
            if self._transport is not None:
                self._transport.abort()
            raise
        self.task = None
        self._done(keep_alive)

    def _send(
        self,
        status: int,
        content_type: str | None,
        headers: Mapping[str, str],
        body: bytes,
        keep_alive: bool,
    ) -> None:
        if self._transport is not None:
            framing = f"Content-Length: {len(body)}\r\n"
            head = response_head(status, content_type, headers, framing, keep_alive)
            self._transport.write(head + body)

    async def _stream(self, reply: Reply, keep_alive: bool) -> bool:
        """Write a streamed reply chunk by chunk; whether the connection may be kept."""
        stream = reply.stream
        assert stream is not None
        try:
            head = response_head(
                reply.status,
                reply.content_type,
                {**reply.headers, **STREAM_HEADERS},
                "Transfer-Encoding: chunked\r\n",
                keep_alive,
            )
            if not self._write(head):
                return False
            async for chunk in stream:
                if not chunk:
                    continue  # an empty chunk would end the body
                if not self._write(b"%x\r\n%b\r\n" % (len(chunk), chunk)):
                    return False
                if self._drain is not None:
                    await self._drain
            return self._write(b"0\r\n\r\n") and keep_alive
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    def _write(self, data: bytes) -> bool:
        """Write ``data`` unless the client has gone; whether it was written."""
        if self._transport is None:
            return False
        self._transport.write(data)
        return True

    def _done(self, keep_alive: bool) -> None:
        transport = self._transport
        if transport is None:
            return
        if not keep_alive or self._closing:
            transport.close()
            return
        if self._paused:
            self._paused = False
            transport.resume_reading()
        if self._buf:
            self._next()
        else:
            self._idle_since = self._loop.time()


class FrontRunner(web.AppRunner):
    """aiohttp's application runner with the lane in front of its server."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return cast(web.Server, Front(server, self.app))
