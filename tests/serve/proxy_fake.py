"""A tiny forwarding HTTP proxy for tests: absolute-URI requests are forwarded to their
target and counted, so a test can prove upstream traffic went through the proxy."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

_HOP = {
    "host",
    "connection",
    "proxy-connection",
    "proxy-authorization",
    "content-length",
    "transfer-encoding",
    "keep-alive",
}


class CountingProxy:
    """Forwards every request it gets to ``http://<Host><path>`` and remembers them."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None]] = []  # (method, url, proxy auth)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> CountingProxy:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._session = aiohttp.ClientSession(auto_decompress=False)
        return self

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        target = f"http://{request.headers['Host']}{request.path_qs}"
        self.seen.append((request.method, target, request.headers.get("Proxy-Authorization")))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        assert self._session is not None
        body = await request.read()
        async with self._session.request(
            request.method, target, headers=headers, data=body or None
        ) as upstream:
            payload = await upstream.read()
            out: dict[str, Any] = {
                k: v for k, v in upstream.headers.items() if k.lower() not in _HOP
            }
            return web.Response(status=upstream.status, body=payload, headers=out)
