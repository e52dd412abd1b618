"""One request through the gateway: resolve, forward, relay, record.

:class:`Gateway` owns the routing snapshot, the upstream session and the usage writer.
Its handlers take the client's raw body and return a :class:`Reply` — a JSON body or an
async iterator of stream bytes — that the server writes out unchanged. OpenAI-in to
OpenAI-out is forwarded byte for byte (only the model name is rewritten, and usage is
observed); errors are raised as :class:`~omni.errors.OmniError` or returned as the
upstream's status with a message in the caller's dialect.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from omni.config import Settings
from omni.errors import (
    InvalidInputError,
    ModelNotFoundError,
    OmniError,
    UnsupportedError,
    UpstreamError,
)
from omni.gateway.registry import Registry, build_registry
from omni.gateway.usage import UsageRecorder
from omni.ir import Dialect, Usage
from omni.providers import openai as openai_exec
from omni.providers.catalog import load_catalog
from omni.providers.executor import Target
from omni.store.db import Database
from omni.store.secrets import SecretBox
from omni.store.usage import UsageRecord
from omni.translate import errors as dialect_errors
from omni.translate import openai_chat

log = logging.getLogger("omni.gateway")

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


class Gateway:
    """The request pipeline over one routing snapshot, one upstream session and one writer."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        secrets: SecretBox,
        session: aiohttp.ClientSession,
        usage: UsageRecorder,
    ) -> None:
        self.settings = settings
        self.db = db
        self.secrets = secrets
        self.session = session
        self.usage = usage
        self.registry = Registry()
        self._conn = db.connect()
        self._models_body = b""
        self._first_byte = settings.first_byte_timeout

    # -- routing snapshot --------------------------------------------------------------

    def reload(self) -> None:
        """Rebuild the routing snapshot from the store (cheap; runs on change only)."""
        version = self.db.config_version(self._conn)
        registry = build_registry(self._conn, load_catalog(), self.settings, self.secrets, version)
        self.registry = registry
        self._models_body = orjson.dumps(self._models_payload(registry))

    def reload_if_changed(self) -> bool:
        """Reload when another process (the CLI, another worker) changed the config."""
        if self.db.config_version(self._conn) != self.registry.version:
            self.reload()
            return True
        return False

    async def watch(self, interval: float = 1.0) -> None:
        """Poll the store's config version forever (a background task)."""
        while True:
            await asyncio.sleep(interval)
            try:
                self.reload_if_changed()
            except OmniError:
                log.exception("could not reload providers; keeping the previous routes")

    def close(self) -> None:
        self._conn.close()

    # -- /v1/models -----------------------------------------------------------------

    @staticmethod
    def _models_payload(registry: Registry) -> dict[str, Any]:
        data = [
            _model_entry(entry.id, model)
            for entry in registry.providers.values()
            for model in entry.models
        ]
        return {"object": "list", "data": data}

    def models_body(self) -> bytes:
        return self._models_body

    def model(self, model_id: str) -> dict[str, Any]:
        """One entry of the model list, or a 404."""
        prefix, _, rest = model_id.partition("/")
        entry = self.registry.provider(prefix)
        if entry is not None and rest in entry.models:
            return _model_entry(entry.id, rest)
        raise ModelNotFoundError(f"model '{model_id}' is not in the model list")

    # -- /v1/chat/completions --------------------------------------------------------

    async def chat_completions(self, body: bytes, wants_sse: bool) -> Reply:
        """Serve an OpenAI Chat Completions request."""
        started = time.perf_counter()
        record = UsageRecord(
            ts=time.time(),
            request_id=uuid.uuid4().hex,
            endpoint="/v1/chat/completions",
            client_dialect=Dialect.OPENAI_CHAT.value,
        )
        try:
            return await self._chat(body, wants_sse, started, record)
        except OmniError as exc:
            record.status = exc.status
            record.error = exc.code
            record.latency_ms = (time.perf_counter() - started) * 1000
            self.usage.record(record)
            raise

    async def _chat(
        self, body: bytes, wants_sse: bool, started: float, record: UsageRecord
    ) -> Reply:
        request = _parse_object(body)
        model = request.get("model")
        if not isinstance(model, str):
            raise InvalidInputError("'model' must be a string naming the model to use")
        record.requested_model = model
        target = self.registry.resolve(model)
        record.provider_id, record.account_id = target.provider_id, target.account_id
        record.model = target.model
        if target.format != Dialect.OPENAI_CHAT.value:
            raise UnsupportedError(
                f"provider '{target.provider_id}' speaks the '{target.format}' format; this "
                "omni cannot translate OpenAI Chat requests to it",
                hint="use an OpenAI-compatible provider for this model",
            )

        stream = request.get("stream")
        if stream is None and wants_sse:
            stream = request["stream"] = True
        stream = stream is True
        record.stream = stream
        request["model"] = target.model
        client_wants_usage = True
        if stream:
            options = request.get("stream_options")
            client_wants_usage = isinstance(options, dict) and options.get("include_usage") is True
            if not client_wants_usage:
                base = options if isinstance(options, dict) else {}
                request["stream_options"] = {**base, "include_usage": True}

        upstream = await openai_exec.chat(
            self.session, target, orjson.dumps(request), self._first_byte
        )
        headers = {
            "X-OmniRoute-Request-Id": record.request_id,
            "X-OmniRoute-Provider": target.provider_id,
            "X-OmniRoute-Model": f"{target.provider_id}/{target.model}",
        }
        if upstream.status >= 400:
            return await self._upstream_error(upstream, target, record, started, headers)
        if stream and upstream.content_type == "text/event-stream":
            relay = openai_chat.StreamRelay(drop_usage_chunk=not client_wants_usage)
            return Reply(
                status=200,
                headers=headers,
                stream=self._relay(upstream, relay, record, started),
                content_type="text/event-stream",
            )
        try:
            payload = await upstream.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _broken(target, exc) from None
        finally:
            upstream.release()
        usage = openai_chat.usage_from_body(payload)
        self._finish(record, started, 200, usage)
        headers["X-OmniRoute-Latency-Ms"] = f"{record.latency_ms:.1f}"
        if usage is not None:
            headers["X-OmniRoute-Tokens-In"] = str(usage.input or 0)
            headers["X-OmniRoute-Tokens-Out"] = str(usage.output or 0)
        return Reply(
            status=200,
            headers=headers,
            body=payload,
            content_type=upstream.content_type or "application/json",
        )

    async def _relay(
        self,
        upstream: aiohttp.ClientResponse,
        relay: openai_chat.StreamRelay,
        record: UsageRecord,
        started: float,
    ) -> AsyncIterator[bytes]:
        status = 200
        try:
            async for chunk in upstream.content.iter_any():
                out = relay.feed(chunk)
                if out:
                    if record.ttft_ms is None:
                        record.ttft_ms = (time.perf_counter() - started) * 1000
                    yield out
            rest = relay.flush()
            if rest:
                yield rest
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, TimeoutError) as exc:
            stalled = isinstance(exc, TimeoutError)
            status = 504 if stalled else 502
            record.error = "upstream_stalled" if stalled else "upstream_cut"
            message = (
                f"provider '{record.provider_id}' went silent for "
                f"{self.settings.stall_timeout:g} s mid-stream"
                if stalled
                else f"provider '{record.provider_id}' broke the connection mid-stream"
            )
            yield dialect_errors.error_event(Dialect.OPENAI_CHAT, status, message, record.error)
        except (GeneratorExit, asyncio.CancelledError):
            status = 499
            record.error = "client_closed"
            raise
        finally:
            if status == 200 and relay.done:
                upstream.release()  # the connection goes back to the pool
            else:
                upstream.close()
            self._finish(record, started, status, relay.usage)

    async def _upstream_error(
        self,
        upstream: aiohttp.ClientResponse,
        target: Target,
        record: UsageRecord,
        started: float,
        headers: dict[str, str],
    ) -> Reply:
        try:
            raw = await upstream.content.read(_MAX_ERROR_BODY)
        except (aiohttp.ClientError, TimeoutError):
            raw = b""
        finally:
            upstream.close()
        status = client_status(upstream.status)
        detail = dialect_errors.upstream_message(raw) or f"HTTP {upstream.status}"
        message = f"provider '{target.provider_id}' answered {upstream.status}: {detail}"
        retry_after = upstream.headers.get("Retry-After")
        if retry_after:
            headers["Retry-After"] = retry_after
        record.error = f"upstream_{upstream.status}"
        self._finish(record, started, status, None)
        return Reply(
            status=status,
            headers=headers,
            body=dialect_errors.error_body(Dialect.OPENAI_CHAT, status, message),
        )

    def _finish(
        self, record: UsageRecord, started: float, status: int, usage: Usage | None
    ) -> None:
        record.status = status
        record.latency_ms = (time.perf_counter() - started) * 1000
        if usage is not None:
            record.input_tokens = usage.input
            record.output_tokens = usage.output
            record.cache_read_tokens = usage.cache_read
            record.cache_write_tokens = usage.cache_write
            record.reasoning_tokens = usage.reasoning
        self.usage.record(record)


def _model_entry(provider_id: str, model: str) -> dict[str, Any]:
    return {
        "id": f"{provider_id}/{model}",
        "object": "model",
        "created": 0,
        "owned_by": provider_id,
    }


def _parse_object(body: bytes) -> dict[str, Any]:
    if not body:
        raise InvalidInputError("the request body is empty; send a JSON object")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInputError("the request body must be a JSON object")
    return data


def _broken(target: Target, exc: BaseException) -> UpstreamError:
    if isinstance(exc, TimeoutError):
        return UpstreamError(
            f"provider '{target.provider_id}' stopped sending its answer",
            status=504,
            code="upstream_timeout",
        )
    return UpstreamError(
        f"provider '{target.provider_id}' broke the connection while answering",
        code="upstream_cut",
    )
