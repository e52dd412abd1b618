"""A lean HTTP/1.1 client for the gateway's plain upstream calls.

aiohttp's client is the largest single cost on the request path (URL objects, cookie jar,
tracing hooks, timers, a response object built for every feature). The gateway needs far
less: POST a byte body to a known host, read the status, headers and body as it arrives.
:class:`Pool` does just that over keep-alive connections (one list of idle connections
per scheme, host and port; TLS through the standard library) with llhttp parsing the
answer (``httptools``). Calls through an outbound proxy and multipart forms keep aiohttp's
client (:mod:`omni.providers.http` decides).

:class:`Response` reads like the part of ``aiohttp.ClientResponse`` the gateway uses:
``status``, ``headers``, ``content_type``, ``content.iter_any()`` / ``content.read(n)``,
``read()``, ``release()`` and ``close()``. Failures are aiohttp's exception types, so one
set of handlers serves both clients: a connection that cannot be made raises ``OSError``;
a connection lost before the answer :class:`aiohttp.ServerDisconnectedError`; a body cut
short :class:`aiohttp.ClientPayloadError`; silence longer than the stall timeout while
reading :class:`aiohttp.ServerTimeoutError` (a ``TimeoutError``).

A connection goes back to the pool as soon as its answer is complete (the body is kept by
the response); one that failed, was closed early or was told ``Connection: close`` is
dropped. A reused connection that the server had already closed (no byte of an answer
came back) is replaced by a new one once.
"""

from __future__ import annotations

import asyncio
import ssl
import time
import zlib
from collections.abc import AsyncIterator
from functools import lru_cache
from urllib.parse import quote, urlsplit

import aiohttp
import httptools
from multidict import CIMultiDict, CIMultiDictProxy

# Above this much unread body the socket stops reading until the reader catches up.
_HIGH_WATER = 1024 * 1024
_Key = tuple[str, str, int]  # scheme, host, port
# What stays as written in a URL's path and query (anything else is percent-encoded).
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + "?"


class _Stale(Exception):
    """A reused connection closed before any byte of the answer: safe to send again."""


@lru_cache(maxsize=512)
def _split(url: str) -> tuple[_Key, bytes]:
    """The pool key of ``url`` and the start of its request: request line and Host."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise aiohttp.InvalidURL(url)
    port = parts.port or (443 if scheme == "https" else 80)
    hostname = (
        parts.hostname if parts.hostname.isascii() else parts.hostname.encode("idna").decode()
    )
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    target = path + (f"?{quote(parts.query, safe=_QUERY_SAFE)}" if parts.query else "")
    host = hostname if ":" not in hostname else f"[{hostname}]"
    if parts.port is not None and port != (443 if scheme == "https" else 80):
        host = f"{host}:{port}"
    head = f"POST {target} HTTP/1.1\r\nHost: {host}\r\n".encode("latin-1")
    return (scheme, hostname, port), head


def _header_block(headers: dict[str, str], user_agent: str, length: int) -> bytes:
    lines = [f"Content-Length: {length}\r\n"]
    agent = True
    for name, value in headers.items():
        if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
            raise ValueError(f"header {name!r} holds a line break")
        lowered = name.lower()
        if lowered in ("host", "content-length", "transfer-encoding"):
            continue
        if lowered == "user-agent":
            agent = False
        lines.append(f"{name}: {value}\r\n")
    if agent:
        lines.append(user_agent)
    lines.append("Accept: */*\r\nAccept-Encoding: gzip, deflate\r\n\r\n")
    return "".join(lines).encode()


class Body:
    """The body of one answer as it arrives: ``iter_any`` and ``read`` (aiohttp's names)."""

    __slots__ = ("_chunks", "_conn", "_done", "_error", "_inflate", "_size", "_stall", "_waiter")

    def __init__(self, conn: _Connection, stall: float | None, encoding: str) -> None:
        self._conn: _Connection | None = conn
        self._stall = stall
        self._chunks: list[bytes] = []
        self._size = 0
        self._done = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._inflate = (
            zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip"
            else zlib.decompressobj() if encoding == "deflate"
            else None
        )  # fmt: skip

    # -- fed by the connection --

    def _feed(self, data: bytes) -> None:
        if self._inflate is not None:
            try:
                data = self._inflate.decompress(data)
            except zlib.error:
                self._fail(aiohttp.ClientPayloadError("the answer's compressed body is broken"))
                return
        if data:
            self._chunks.append(data)
            self._size += len(data)
            if self._size > _HIGH_WATER and self._conn is not None:
                self._conn.pause()
            self._wake()

    def _finish(self) -> None:
        self._conn = None
        if self._error is not None:
            return  # the framing ended but the content was broken: readers get the error
        if self._inflate is not None:
            rest = self._inflate.flush()
            if rest:
                self._chunks.append(rest)
                self._size += len(rest)
        self._done = True
        self._wake()

    def _fail(self, error: BaseException) -> None:
        if not self._done and self._error is None:
            self._error = error
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- read by the gateway --

    def _take(self) -> bytes:
        chunks = self._chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._chunks = []
        self._size = 0
        if self._conn is not None and self._conn.paused:
            self._conn.resume()
        return data

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    async def _wait(self) -> None:
        self._check()
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = None if self._stall is None else loop.call_later(self._stall, self._stalled)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()
        if not self._chunks:
            self._check()

    def _stalled(self) -> None:
        self._fail(aiohttp.ServerTimeoutError("the upstream went silent"))
        if self._conn is not None:
            self._conn.drop()

    async def iter_any(self) -> AsyncIterator[bytes]:
        """Each piece of the body as soon as it is here (all that waited, joined)."""
        while True:
            if self._chunks:
                yield self._take()
            elif self._done:
                return
            else:
                await self._wait()

    async def read(self, n: int = -1) -> bytes:
        """The whole body, or its first ``n`` bytes (fewer if it ends sooner)."""
        while not self._done and (n < 0 or self._size < n):
            await self._wait()
        data = self._take() if self._chunks else b""
        if 0 <= n < len(data):
            data, rest = data[:n], data[n:]
            self._chunks, self._size = [rest], len(rest)
        return data

    def _abandon(self) -> None:
        if self._conn is not None:
            self._conn.drop()
            self._conn = None


class Response:
    """One upstream answer: its head at once, its body through :attr:`content`."""

    __slots__ = ("content", "headers", "status")

    def __init__(self, status: int, headers: CIMultiDictProxy[str], content: Body) -> None:
        self.status = status
        self.headers = headers
        self.content = content

    @property
    def content_type(self) -> str:
        raw = self.headers.get("Content-Type")
        if not raw:
            return "application/octet-stream"
        return raw.partition(";")[0].strip().lower()

    async def read(self) -> bytes:
        return await self.content.read()

    def release(self) -> None:
        """Done with the answer: its connection is reused if the body was complete."""
        if self.content._conn is not None:
            self.content._abandon()

    def close(self) -> None:
        self.release()


class _Connection(asyncio.Protocol):
    """One keep-alive connection: writes a request, parses the answer into a Response."""

    def __init__(self, pool: Pool, key: _Key) -> None:
        self._pool = pool
        self.key = key
        self.transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[Response] | None = None
        self._raw: list[tuple[str, str]] = []
        self._body: Body | None = None
        self._stall: float | None = None
        self._began = False
        self._interim = False
        self._eof_body = False  # the body ends when the server closes
        self.paused = False
        self.closed = False
        self.used = 0  # answers completed on this connection
        self.idle_since = 0.0

    # -- asyncio.Protocol --

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._waiter is None and self._body is None and not self._began:
            self.drop()  # bytes nobody asked for: the connection cannot be trusted
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._broken(aiohttp.ClientPayloadError(f"the upstream's answer is malformed: {exc}"))

    def eof_received(self) -> bool:
        return False  # the transport closes; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._pool._forget(self)
        body = self._body
        if body is not None and self._eof_body and exc is None:
            body._finish()
        elif self._waiter is not None and not self._waiter.done():
            stale = self.used > 0 and not self._began
            self._waiter.set_exception(_Stale() if stale else aiohttp.ServerDisconnectedError())
        if body is not None and not body._done:
            body._fail(aiohttp.ClientPayloadError("the upstream closed the connection mid-answer"))
        self._body = None

    # -- llhttp callbacks --

    def on_message_begin(self) -> None:
        self._began = True
        self._raw = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self._raw.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        if self._parser.get_status_code() < 200:  # 1xx: the real answer follows
            self._interim = True
            return
        headers = CIMultiDictProxy(CIMultiDict(self._raw))
        encoding = headers.get("Content-Encoding", "").strip().lower()
        body = self._body = Body(self, self._stall, encoding)
        self._eof_body = "Content-Length" not in headers and "chunked" not in headers.get(
            "Transfer-Encoding", ""
        )
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(Response(self._parser.get_status_code(), headers, body))

    def on_body(self, data: bytes) -> None:
        if self._body is not None:
            self._body._feed(data)

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        body, self._body = self._body, None
        self._began = False
        self.used += 1
        if body is not None:
            body._finish()
        if self._parser.should_keep_alive() and not self.closed:
            if self.paused:
                self.resume()
            self._pool._put(self)
        else:
            self.drop()

    # -- used by the pool and the body --

    async def send(self, request: bytes, stall: float | None, deadline: float | None) -> Response:
        assert self.transport is not None
        self._stall = stall
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Response] = loop.create_future()
        self._waiter = waiter
        self.transport.write(request)
        # One timer for the first-byte deadline (cheaper than an asyncio.timeout block).
        late = None if deadline is None else loop.call_at(deadline, _too_late, waiter)
        try:
            return await waiter
        except BaseException:
            self._waiter = None
            self.drop()
            raise
        finally:
            if late is not None:
                late.cancel()

    def _broken(self, error: BaseException) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)
        if self._body is not None:
            self._body._fail(error)
        self.drop()

    def pause(self) -> None:
        if not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()

    def drop(self) -> None:
        if not self.closed:
            self.closed = True
            self._pool._forget(self)
            if self.transport is not None:
                self.transport.close()


def _too_late(waiter: asyncio.Future[Response]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class Pool:
    """Keep-alive connections to every upstream, shared by all requests of a process."""

    def __init__(
        self,
        connect_timeout: float,
        stall_timeout: float | None,
        user_agent: str,
        keepalive_s: float = 60.0,
    ) -> None:
        self._connect_timeout = connect_timeout or None  # 0: no limit
        self._stall = stall_timeout or None  # 0: no limit
        self._agent = f"User-Agent: {user_agent}\r\n"
        self._keepalive = keepalive_s
        self._idle: dict[_Key, list[_Connection]] = {}
        self._busy: set[_Connection] = set()
        self._tls: ssl.SSLContext | None = None

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], first_byte_s: float | None = None
    ) -> Response:
        """POST ``body`` and return the answer once its head arrived; ``TimeoutError`` if
        that takes longer than ``first_byte_s`` (connecting included)."""
        key, head = _split(url)
        request = head + _header_block(headers, self._agent, len(body)) + body
        deadline = (
            None if first_byte_s is None else asyncio.get_running_loop().time() + first_byte_s
        )
        conn = self._take(key)
        if conn is not None:
            try:
                return await conn.send(request, self._stall, deadline)
            except _Stale:
                pass  # the server had closed it while idle: once more on a new one
        conn = await self._connect(key, deadline)
        try:
            return await conn.send(request, self._stall, deadline)
        except _Stale:
            raise aiohttp.ServerDisconnectedError() from None

    def _take(self, key: _Key) -> _Connection | None:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if conn.closed:
                continue
            if now - conn.idle_since > self._keepalive:
                conn.drop()
                continue
            self._busy.add(conn)
            return conn
        return None

    async def _connect(self, key: _Key, deadline: float | None) -> _Connection:
        scheme, host, port = key
        loop = asyncio.get_running_loop()
        if self._connect_timeout is not None:
            limit = loop.time() + self._connect_timeout
            deadline = limit if deadline is None else min(deadline, limit)
        tls = None
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        conn = _Connection(self, key)
        async with asyncio.timeout_at(deadline):
            await loop.create_connection(
                lambda: conn, host, port, ssl=tls, server_hostname=host if tls else None
            )
        self._busy.add(conn)
        return conn

    def _put(self, conn: _Connection) -> None:
        self._busy.discard(conn)
        conn.idle_since = time.monotonic()
        self._idle.setdefault(conn.key, []).append(conn)

    def _forget(self, conn: _Connection) -> None:
        self._busy.discard(conn)
        idle = self._idle.get(conn.key)
        if idle and conn in idle:
            idle.remove(conn)

    async def close(self) -> None:
        """Close every connection, idle or busy."""
        conns = [c for idle in self._idle.values() for c in idle] + list(self._busy)
        for conn in conns:
            conn.drop()
        self._idle.clear()
        self._busy.clear()
