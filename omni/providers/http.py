"""The upstream clients of a process and what their answers look like to the gateway.

:class:`Upstream` holds both: the lean keep-alive pool of :mod:`omni.providers.h1` for
plain calls (a byte body, no outbound proxy: the request path), and one aiohttp
``ClientSession`` made on first use for calls through an outbound proxy and multipart
forms. Neither has a total timeout (streams may run long): the connect timeout and the
silence allowed between reads come from settings; the first-byte deadline is applied per
request by the executor.

:class:`Answer` is what the gateway reads of an upstream answer; aiohttp's
``ClientResponse``, :class:`omni.providers.h1.Response` and the wire adapters' rewritten
answers all have it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

import aiohttp
from multidict import CIMultiDictProxy

from omni import __version__
from omni.providers.h1 import Pool

USER_AGENT = f"omni/{__version__}"


class Reader(Protocol):
    """An answer's body: each piece as it comes, or the first ``n`` bytes / all of it."""

    def iter_any(self) -> AsyncIterator[bytes]: ...

    async def read(self, n: int = -1) -> bytes: ...


class Answer(Protocol):
    """An upstream answer whose head has arrived."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> CIMultiDictProxy[str]: ...

    @property
    def content_type(self) -> str: ...

    @property
    def content(self) -> Reader: ...

    async def read(self) -> bytes: ...

    def release(self) -> object: ...

    def close(self) -> None: ...


class Upstream:
    """Both upstream clients of one process; close it when the server stops."""

    def __init__(self, connect_timeout: float, stall_timeout: float) -> None:
        self._connect_timeout = connect_timeout
        self._stall_timeout = stall_timeout
        self.pool = Pool(connect_timeout, stall_timeout, USER_AGENT)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """aiohttp's client, for proxied calls and forms (made on first use)."""
        if self._session is None:
            self._session = _aiohttp_session(self._connect_timeout, self._stall_timeout)
        return self._session

    async def close(self) -> None:
        await self.pool.close()
        if self._session is not None:
            await self._session.close()


def _aiohttp_session(connect_timeout: float, stall_timeout: float) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        limit=0,  # concurrency is capped by the gateway, not by the pool
        limit_per_host=0,
        ttl_dns_cache=300,
        keepalive_timeout=60,
        enable_cleanup_closed=False,
    )
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=connect_timeout, sock_read=stall_timeout
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        auto_decompress=True,
        skip_auto_headers=("Content-Type",),
    )


def auth_headers(style: str, secret: str | None) -> dict[str, str]:
    """Headers that carry ``secret`` in the way a provider's ``auth`` style asks."""
    if not secret or style == "none":
        return {}
    if style == "x-api-key":
        return {"x-api-key": secret}
    if style == "x-goog-api-key":
        return {"x-goog-api-key": secret}
    return {"Authorization": f"Bearer {secret}"}
