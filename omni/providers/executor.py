"""Sending one request upstream and classifying what went wrong.

An executor knows one wire protocol's URL layout; :func:`send` is shared: it posts the
body on the process's upstream clients (:class:`~omni.providers.http.Upstream`: the lean
pool for a plain call, aiohttp for a proxy or a form) under the first-byte deadline and
turns connection failures and timeouts into :class:`~omni.errors.UpstreamError` with the
status the client should see (502 cannot connect, 504 no answer in time). Error
*responses* (4xx/5xx) are returned to the caller, which decides whether to fall back or
answer the client. A subscription target (``wire`` set) is shaped by its adapter in
:mod:`omni.providers.wire` first.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from omni.errors import UpstreamError
from omni.providers.catalog import ModelInfo
from omni.providers.http import Answer, Upstream

# aiohttp writes a bytes body in one go and warns above 1 MiB; larger ones go as a stream.
_LARGE_BODY = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Target:
    """Where one attempt goes: provider, account, URL root, headers and upstream model."""

    provider_id: str
    account_id: int
    account_name: str
    format: str
    base_url: str
    model: str
    headers: dict[str, str] = field(default_factory=dict)
    breaker: str = "apikey"  # circuit-breaker profile: apikey | oauth | local
    info: ModelInfo | None = None  # the catalog's facts about ``model``, when known
    proxy: str | None = None  # outbound HTTP proxy URL (account, provider or global)
    chat_path: str | None = None  # a custom provider's own chat path under base_url
    # Subscription (OAuth) providers: the adapter in omni.providers.wire that shapes the
    # request and answer, and what it needs besides headers (e.g. the Code Assist project).
    wire: str | None = None
    wire_data: dict[str, str] = field(default_factory=dict)


async def send(
    http: Upstream,
    target: Target,
    url: str,
    body: bytes | aiohttp.FormData,
    first_byte_timeout: float,
) -> Answer:
    """POST ``body`` to ``url`` and return the response once its headers arrived.

    A JSON body goes with the target's headers; a multipart form with the same headers
    minus ``Content-Type`` (the form sets its own boundary).
    """
    if target.wire is not None and isinstance(body, bytes):
        from omni.providers.wire import wire_send

        return await wire_send(http, target, url, body, first_byte_timeout)
    try:
        if isinstance(body, bytes) and target.proxy is None:
            return await http.pool.post(url, body, target.headers, first_byte_timeout)
        async with asyncio.timeout(first_byte_timeout):
            data, headers = _for_aiohttp(body, target.headers)
            return await http.session.post(url, data=data, headers=headers, proxy=target.proxy)
    except TimeoutError:
        raise UpstreamError(
            f"provider '{target.provider_id}' sent no answer within {first_byte_timeout:g} s",
            status=504,
            code="upstream_timeout",
        ) from None
    except aiohttp.ClientProxyConnectionError:
        raise UpstreamError(
            f"cannot reach the outbound proxy for provider '{target.provider_id}'",
            status=502,
            code="proxy_unreachable",
            hint="check the proxy with 'omni proxy test' or change it",
        ) from None
    except aiohttp.ClientConnectorError as exc:
        raise UpstreamError(
            f"cannot connect to provider '{target.provider_id}' at {target.base_url}: "
            f"{exc.os_error.strerror or exc.os_error}",
            status=502,
            code="upstream_unreachable",
            hint="check that the provider is running and its base URL is right",
        ) from None
    except aiohttp.ClientError as exc:
        raise UpstreamError(
            f"provider '{target.provider_id}' connection failed: {type(exc).__name__}",
            status=502,
            code="upstream_connection_error",
        ) from None
    except OSError as exc:  # the lean pool could not connect
        raise UpstreamError(
            f"cannot connect to provider '{target.provider_id}' at {target.base_url}: "
            f"{exc.strerror or exc}",
            status=502,
            code="upstream_unreachable",
            hint="check that the provider is running and its base URL is right",
        ) from None


def _for_aiohttp(
    body: bytes | aiohttp.FormData, headers: dict[str, str]
) -> tuple[Any, dict[str, str]]:
    """The body and headers to give aiohttp's client: a large body as a stream, a form with
    its own Content-Type (the session skips the automatic one, so give the boundary)."""
    if isinstance(body, bytes):
        return (io.BytesIO(body) if len(body) >= _LARGE_BODY else body), headers
    form = body()
    headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    headers["Content-Type"] = form.content_type
    return form, headers
