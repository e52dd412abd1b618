"""The one aiohttp ClientSession that carries all upstream traffic.

Pooled keep-alive connections, a DNS cache, no total timeout (streams may run long): the
connect timeout and the silence allowed between reads come from settings; the first-byte
deadline is applied per request by the executor.
"""

from __future__ import annotations

import aiohttp

from omni import __version__

USER_AGENT = f"omni/{__version__}"


def create_session(connect_timeout: float, stall_timeout: float) -> aiohttp.ClientSession:
    """A session for upstream calls; close it when the server stops."""
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
