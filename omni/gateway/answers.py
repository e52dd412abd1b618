"""Reading what an upstream answered: bodies, JSON, and error responses as failures.

Shared by the chat pipeline and the media endpoints. An upstream error response becomes a
:class:`~omni.gateway.resilience.Failure` (status, message in plain words, whether another
target may do better, how long the upstream asked us to wait); transport failures while
reading become :class:`~omni.errors.UpstreamError` with the status a client should see.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from omni.errors import InvalidInputError, UpstreamError
from omni.gateway import resilience
from omni.gateway.resilience import Failure
from omni.ir import Usage
from omni.providers.executor import Target
from omni.providers.http import Answer
from omni.store.usage import UsageRecord
from omni.translate import errors as dialect_errors

_MAX_ERROR_BODY = 64 * 1024


@dataclass(slots=True)
class Reply:
    """What the server sends back: a status, headers and a body or a byte stream."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    content_type: str = "application/json"


def client_status(upstream_status: int) -> int:
    """The status a client sees for an upstream error status.

    The upstream rejecting omni's own credentials is not the client's fault (502, so its
    SDK does not ask the user for a new key); rate limits and request errors pass through;
    upstream server errors become 502.
    """
    if upstream_status in (401, 407) or upstream_status >= 500:
        return 502
    return upstream_status


class AttemptFailed(Exception):
    """An attempt failed before anything reached the client; the loop decides what next."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


async def read_answer(upstream: Answer, target: Target) -> bytes:
    try:
        return await upstream.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        timed_out = isinstance(exc, TimeoutError)
        raise UpstreamError(
            f"provider '{target.provider_id}' "
            + ("stopped sending its answer" if timed_out else "broke the connection"),
            status=504 if timed_out else 502,
            code="upstream_timeout" if timed_out else "upstream_cut",
        ) from None
    finally:
        upstream.release()


async def read_json(upstream: Answer, target: Target) -> dict[str, Any]:
    return upstream_json(await read_answer(upstream, target), target)


async def read_failure(upstream: Answer, target: Target) -> Failure:
    """An upstream error response as a :class:`Failure` (status, message, what to do)."""
    try:
        raw = await upstream.content.read(_MAX_ERROR_BODY)
    except (aiohttp.ClientError, TimeoutError):
        raw = b""
    finally:
        upstream.close()
    status = upstream.status
    detail = dialect_errors.upstream_message(raw) or f"HTTP {status}"
    return Failure(
        status,
        f"provider '{target.provider_id}' answered {status}: {detail}",
        f"upstream_{status}",
        retry_after=resilience.retry_after(upstream.headers, detail),
        action=resilience.classify(status, detail),
        client_status=client_status(status),
    )


def route_headers(record: UsageRecord, target: Target) -> dict[str, str]:
    return {
        "X-OmniRoute-Request-Id": record.request_id,
        "X-OmniRoute-Provider": target.provider_id,
        "X-OmniRoute-Model": f"{target.provider_id}/{target.model}",
    }


def stamp(headers: dict[str, str], record: UsageRecord, usage: Usage | None) -> None:
    headers["X-OmniRoute-Latency-Ms"] = f"{record.latency_ms or 0:.1f}"
    if usage is not None:
        headers["X-OmniRoute-Tokens-In"] = str(usage.input or 0)
        headers["X-OmniRoute-Tokens-Out"] = str(usage.output or 0)
    if record.cost_usd is not None:
        headers["X-OmniRoute-Response-Cost"] = f"{record.cost_usd:.8f}"


def parse_object(body: bytes) -> dict[str, Any]:
    """The client's JSON body, or a 400 saying what is wrong with it."""
    if not body:
        raise InvalidInputError("the request body is empty; send a JSON object")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInputError("the request body must be a JSON object")
    return data


def upstream_json(raw: bytes, target: Target) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise UpstreamError(f"provider '{target.provider_id}' sent an answer that is not JSON")
    return data
