"""One request through the gateway: decode, resolve, translate, forward, relay, record.

:class:`Gateway` owns the routing snapshot, the upstream session and the usage writer.
:meth:`Gateway.handle` takes a client's raw body in its dialect and returns a
:class:`Reply` — a body or an async iterator of stream bytes — that the server writes out
unchanged. Three paths:

- OpenAI Chat in, OpenAI-compatible upstream: the body is forwarded with only the model
  rewritten (no IR on the way), the answer byte for byte;
- the same non-OpenAI dialect on both sides: forwarded the same way, observed for usage;
- anything else: client dialect → IR → upstream dialect, and the answer back through IR.

Errors are raised as :class:`~omni.errors.OmniError` (the server renders them in the
caller's dialect) or returned as the upstream's status with a message in that dialect.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from omni import ir
from omni.config import Settings
from omni.errors import InvalidInputError, ModelNotFoundError, OmniError, UpstreamError
from omni.gateway import resilience, streams
from omni.gateway.registry import Registry, build_registry
from omni.gateway.resilience import Breakers, Cooldowns, Failure
from omni.gateway.usage import CURRENT_KEY, UsageRecorder
from omni.ir import Dialect, Usage
from omni.providers.catalog import load_catalog
from omni.providers.endpoints import chat_url
from omni.providers.executor import Target, send
from omni.store.db import Database
from omni.store.secrets import SecretBox
from omni.store.usage import UsageRecord
from omni.translate import errors as dialect_errors
from omni.translate import openai_chat
from omni.translate.codec import StreamEncoder, codec
from omni.translate.replay import response_events

log = logging.getLogger("omni.gateway")

_MAX_ERROR_BODY = 64 * 1024
MAX_ATTEMPTS = 8  # targets tried per request at most
MAX_COOLDOWN_WAIT_S = 2.0  # when every account rests, wait this long at most for one
_STREAM_TYPES = ("text/event-stream", "application/x-ndjson")
_ID_PREFIX = {
    Dialect.OPENAI_CHAT: "chatcmpl-",
    Dialect.OPENAI_RESPONSES: "resp_",
    Dialect.ANTHROPIC: "msg_",
}


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


class _AttemptFailed(Exception):
    """An attempt failed before anything reached the client; the loop decides what next."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


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
        self.cooldowns = Cooldowns()
        self.breakers = Breakers()
        self._conn = db.connect()
        self._models_body = b""
        self._first_byte = settings.first_byte_timeout
        # Request ids: random per process, then a counter (unique without a syscall each).
        self._boot = os.urandom(6).hex()
        self._counter = itertools.count(1)
        self._stall = settings.stall_timeout

    # -- routing snapshot --------------------------------------------------------------

    def reload(self) -> None:
        """Rebuild the routing snapshot from the store (cheap; runs on change only)."""
        version = self.db.config_version(self._conn)
        registry = build_registry(self._conn, load_catalog(), self.settings, self.secrets, version)
        self.registry = registry
        self._models_body = orjson.dumps(
            {"object": "list", "data": [_model_entry(m) for m in self.model_ids()]}
        )

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

    # -- model lists ------------------------------------------------------------------

    def model_ids(self) -> list[str]:
        """Every ``provider/model`` this gateway can route, in a stable order."""
        return [
            f"{entry.id}/{model}"
            for entry in self.registry.providers.values()
            for model in entry.models
        ]

    def models_body(self) -> bytes:
        return self._models_body

    def model(self, model_id: str) -> dict[str, Any]:
        """One entry of the model list, or a 404."""
        prefix, _, rest = model_id.partition("/")
        entry = self.registry.provider(prefix)
        if entry is not None and rest in entry.models:
            return _model_entry(f"{entry.id}/{rest}")
        raise ModelNotFoundError(f"model '{model_id}' is not in the model list")

    def resolve(self, model: str, record: UsageRecord | None = None) -> Target:
        target = self.registry.resolve(model)
        if record is not None:
            record.requested_model = model
            record.provider_id, record.account_id = target.provider_id, target.account_id
            record.model = target.model
        return target

    # -- chat in any dialect -------------------------------------------------------------

    async def handle(
        self,
        dialect: Dialect,
        body: bytes,
        *,
        endpoint: str,
        wants_sse: bool = False,
        model: str | None = None,
        stream: bool | None = None,
    ) -> Reply:
        """Serve a chat request written in ``dialect`` (``model``/``stream`` from the URL)."""
        return await self.run(
            dialect,
            endpoint,
            lambda record, started: self._handle(
                dialect, body, record, started, wants_sse, model, stream
            ),
        )

    async def run(
        self,
        dialect: Dialect,
        endpoint: str,
        work: Callable[[UsageRecord, float], Awaitable[Reply]],
    ) -> Reply:
        """Run one request's ``work`` with its usage record; a failure is recorded too."""
        started = time.perf_counter()
        record = UsageRecord(
            ts=time.time(),
            request_id=f"{self._boot}{next(self._counter):010x}",
            endpoint=endpoint,
            client_dialect=dialect.value,
            api_key_id=CURRENT_KEY.get(),
        )
        try:
            return await work(record, started)
        except OmniError as exc:
            record.error = exc.code
            self.finish(record, started, exc.status, None)
            raise

    async def _handle(
        self,
        dialect: Dialect,
        body: bytes,
        record: UsageRecord,
        started: float,
        wants_sse: bool,
        model: str | None,
        stream: bool | None,
    ) -> Reply:
        obj = parse_object(body)
        request: ir.Request | None = None
        if dialect is Dialect.OPENAI_CHAT:
            name = obj.get("model")
            if not isinstance(name, str) or not name:
                raise InvalidInputError("'model' must be a string naming the model to use")
            if not isinstance(obj.get("messages"), list):
                raise InvalidInputError("'messages' must be an array of messages")
            if wants_sse and obj.get("stream") is None:
                obj["stream"] = True
            record.stream = obj.get("stream") is True
        else:
            request = codec(dialect).decode_request(obj, model=model, stream=stream)
            name, record.stream = request.model, request.stream
        plan = self.registry.plan(name)
        record.requested_model, record.combo = name, plan.combo
        return await self._attempts(dialect, obj, request, plan.targets, record, started)

    async def _attempts(
        self,
        dialect: Dialect,
        obj: dict[str, Any],
        request: ir.Request | None,
        targets: tuple[Target, ...],
        record: UsageRecord,
        started: float,
        waited: bool = False,
    ) -> Reply:
        """Try the targets in order until one answers; fall through on failures that
        another target may not have, stop on ones every target would have."""
        failures: list[Failure] = []
        resting: list[float] = []
        broken: list[str] = []
        trail: list[tuple[str, str, str]] = []  # only filled when something goes wrong
        target: Target | None = None
        for target in targets:
            if len(failures) >= MAX_ATTEMPTS:
                break
            rest = self.cooldowns.remaining(target.account_id)
            if rest:
                resting.append(rest)
                trail.append((target.provider_id, target.account_name, f"cooling {rest:.0f}s"))
                continue
            if not self.breakers.allow(target.provider_id):
                broken.append(target.provider_id)
                trail.append((target.provider_id, target.account_name, "circuit open"))
                continue
            record.provider_id, record.account_id = target.provider_id, target.account_id
            record.model = target.model
            try:
                if dialect is Dialect.OPENAI_CHAT and target.format == dialect.value:
                    reply = await self._openai_passthrough(obj, target, record, started)
                else:
                    if request is None:
                        request = openai_chat.decode_request(obj)
                    reply = await self._exchange(dialect, obj, request, target, record, started)
            except (_AttemptFailed, UpstreamError) as exc:
                failure = (
                    exc.failure
                    if isinstance(exc, _AttemptFailed)
                    else Failure(exc.status, str(exc), exc.code, client_status=exc.status)
                )
                failures.append(failure)
                trail.append((target.provider_id, target.account_name, failure.code))
                self.cooldowns.failed(target.account_id, failure)
                self.breakers.failed(target.provider_id, failure, target.breaker)
                if failure.action == "stop":
                    break
                continue
            self.cooldowns.succeeded(target.account_id)
            self.breakers.succeeded(target.provider_id)
            record.attempts = len(failures) + 1
            if trail:
                trail.append((target.provider_id, target.account_name, "ok"))
                record.route = orjson.dumps(trail).decode()
            reply.headers["X-OmniRoute-Fallback-Attempts"] = str(len(failures))
            return reply
        if not failures and broken and not resting:
            provider = broken[0]
            failures.append(
                Failure(
                    503,
                    f"provider '{provider}' is failing repeatedly and is being rested "
                    f"(circuit open); retry in {self.breakers.retry_in(provider):.0f} s",
                    "circuit_open",
                    retry_after=self.breakers.retry_in(provider),
                    client_status=503,
                )
            )
        if not failures and resting:
            soonest = min(resting)
            if soonest <= MAX_COOLDOWN_WAIT_S and not waited:
                await asyncio.sleep(soonest)
                return await self._attempts(
                    dialect, obj, request, targets, record, started, waited=True
                )
            failures.append(
                Failure(
                    429,
                    f"every account that can serve '{record.requested_model}' is cooling down; "
                    f"retry in {soonest:.0f} s",
                    "all_accounts_cooling",
                    retry_after=soonest,
                    client_status=429,
                )
            )
        record.attempts = len(failures)
        if trail:
            record.route = orjson.dumps(trail).decode()
        headers = route_headers(record, target) if target is not None else {}
        headers["X-OmniRoute-Fallback-Attempts"] = str(max(0, len(failures) - 1))
        return self.failure_reply(dialect, failures[-1], record, started, headers)

    async def _exchange(
        self,
        dialect: Dialect,
        obj: dict[str, Any],
        request: ir.Request,
        target: Target,
        record: UsageRecord,
        started: float,
    ) -> Reply:
        """One attempt through the IR (or same-dialect pass-through) at ``target``."""
        upstream_dialect = Dialect(target.format)
        if upstream_dialect is dialect and not request.normalised:
            if dialect is not Dialect.GEMINI:
                obj["model"] = target.model
            payload = obj
        else:
            request.model = target.model
            payload = codec(upstream_dialect).encode_request(request)
        upstream = await send(
            self.session, target, chat_url(target, request.stream), orjson.dumps(payload),
            self._first_byte,
        )  # fmt: skip
        if upstream.status >= 400:
            raise _AttemptFailed(await self.read_failure(upstream, target))
        headers = route_headers(record, target)
        inbound, outbound = codec(dialect), codec(upstream_dialect)
        streamed = upstream.content_type in _STREAM_TYPES
        if request.stream:
            response_id = _ID_PREFIX.get(dialect, "") + record.request_id
            if dialect is Dialect.OPENAI_CHAT:
                encoder: StreamEncoder = openai_chat.StreamEncoder(
                    target.model, response_id, include_usage=request.stream_usage
                )
            else:
                encoder = inbound.StreamEncoder(target.model, response_id)
            if streamed:
                iterator = streams.relay_dialect(
                    upstream, outbound.StreamDecoder(), encoder, record, started, self._stall,
                    self.finish, passthrough=upstream_dialect is dialect,
                )  # fmt: skip
            else:
                answer = outbound.decode_response(await self.read_json(upstream, target))
                self.finish(record, started, 200, answer.usage)
                iterator = streams.replay(response_events(answer), encoder)
            return Reply(200, headers, stream=iterator, content_type=inbound.STREAM_CONTENT_TYPE)
        if streamed:
            upstream.close()
            raise UpstreamError(
                f"provider '{target.provider_id}' answered a non-stream request with a stream"
            )
        raw = await self.read_answer(upstream, target)
        answer = outbound.decode_response(_upstream_json(raw, target))
        if upstream_dialect is dialect:
            out = raw
        else:
            answer.model = target.model
            out = orjson.dumps(inbound.encode_response(answer))
        self.finish(record, started, 200, answer.usage)
        stamp(headers, record, answer.usage)
        return Reply(200, headers, body=out)

    async def _openai_passthrough(
        self, request: dict[str, Any], target: Target, record: UsageRecord, started: float
    ) -> Reply:
        stream = request.get("stream") is True
        request["model"] = target.model
        client_wants_usage = True
        if stream:
            options = request.get("stream_options")
            client_wants_usage = isinstance(options, dict) and options.get("include_usage") is True
            if not client_wants_usage:
                base = options if isinstance(options, dict) else {}
                request["stream_options"] = {**base, "include_usage": True}
        upstream = await send(
            self.session, target, chat_url(target, stream), orjson.dumps(request),
            self._first_byte,
        )  # fmt: skip
        if upstream.status >= 400:
            raise _AttemptFailed(await self.read_failure(upstream, target))
        headers = route_headers(record, target)
        if stream and upstream.content_type == "text/event-stream":
            relay = openai_chat.StreamRelay(drop_usage_chunk=not client_wants_usage)
            iterator = streams.relay_openai(
                upstream, relay, record, started, self._stall, self.finish
            )
            return Reply(200, headers, stream=iterator, content_type="text/event-stream")
        payload = await self.read_answer(upstream, target)
        usage = openai_chat.usage_from_body(payload)
        self.finish(record, started, 200, usage)
        stamp(headers, record, usage)
        return Reply(200, headers, body=payload, content_type=upstream.content_type or "")

    # -- upstream bodies and errors ------------------------------------------------------

    async def read_answer(self, upstream: aiohttp.ClientResponse, target: Target) -> bytes:
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

    async def read_json(self, upstream: aiohttp.ClientResponse, target: Target) -> dict[str, Any]:
        return _upstream_json(await self.read_answer(upstream, target), target)

    async def read_failure(self, upstream: aiohttp.ClientResponse, target: Target) -> Failure:
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

    def failure_reply(
        self,
        dialect: Dialect,
        failure: Failure,
        record: UsageRecord,
        started: float,
        headers: dict[str, str],
    ) -> Reply:
        """The error a client gets for ``failure``, in its dialect; the request is recorded."""
        status = failure.client_status or client_status(failure.status)
        if failure.retry_after is not None:
            headers["Retry-After"] = str(max(1, round(failure.retry_after)))
        record.error = failure.code
        self.finish(record, started, status, None)
        # An upstream's own status speaks for itself; omni's own failures carry their code.
        code = None if failure.code[9:].isdigit() else failure.code
        body = dialect_errors.error_body(dialect, status, failure.message, code)
        return Reply(status, headers, body=body)

    async def error_reply(
        self,
        upstream: aiohttp.ClientResponse,
        dialect: Dialect,
        target: Target,
        record: UsageRecord,
        started: float,
        headers: dict[str, str],
    ) -> Reply:
        """The upstream's error response, passed on in the client's dialect."""
        failure = await self.read_failure(upstream, target)
        return self.failure_reply(dialect, failure, record, started, headers)

    def finish(self, record: UsageRecord, started: float, status: int, usage: Usage | None) -> None:
        """Complete ``record`` and hand it to the batched writer."""
        record.status = status
        record.latency_ms = (time.perf_counter() - started) * 1000
        if usage is not None:
            record.input_tokens = usage.input
            record.output_tokens = usage.output
            record.cache_read_tokens = usage.cache_read
            record.cache_write_tokens = usage.cache_write
            record.reasoning_tokens = usage.reasoning
        self.usage.record(record)


def _model_entry(model_id: str) -> dict[str, Any]:
    owner = model_id.partition("/")[0]
    return {"id": model_id, "object": "model", "created": 0, "owned_by": owner}


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


def _upstream_json(raw: bytes, target: Target) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise UpstreamError(f"provider '{target.provider_id}' sent an answer that is not JSON")
    return data
