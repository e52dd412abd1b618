"""One request through the gateway: decode, resolve, translate, forward, relay, record.

:class:`Gateway` owns the routing snapshot, the upstream clients and the usage writer.
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
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson

from omni import ir
from omni.config import Settings
from omni.errors import (
    InvalidInputError,
    ModelNotFoundError,
    OmniError,
    RateLimitedError,
    UpstreamError,
)
from omni.gateway import reuse, streams
from omni.gateway.answers import (
    AttemptFailed,
    Reply,
    client_status,
    parse_object,
    read_answer,
    read_failure,
    read_json,
    route_headers,
    stamp,
    upstream_json,
)
from omni.gateway.budgets import Budgets, Hold, estimate_cost
from omni.gateway.cache import ResponseCache
from omni.gateway.cache import parse_config as parse_cache_config
from omni.gateway.caps import Caps, Lease
from omni.gateway.cost import cost_of
from omni.gateway.fallback import Refresher, run_plan
from omni.gateway.progress import SSE_DIALECTS, with_progress
from omni.gateway.registry import Plan, Registry, build_registry
from omni.gateway.resilience import Breakers, Cooldowns, Failure
from omni.gateway.routing import Router, session_key
from omni.gateway.shaping import Shaping, shape, shaping_from
from omni.gateway.shared import SharedState
from omni.gateway.telemetry import Telemetry
from omni.gateway.usage import CURRENT_KEY, UsageRecorder
from omni.ir import Dialect, Usage
from omni.providers.catalog import load_catalog
from omni.providers.endpoints import chat_url
from omni.providers.executor import Target, send
from omni.providers.http import Answer, Upstream
from omni.store import budgets as budget_repo
from omni.store import settings as settings_repo
from omni.store.db import Database
from omni.store.secrets import SecretBox
from omni.store.usage import UsageRecord
from omni.translate import errors as dialect_errors
from omni.translate import openai_chat
from omni.translate.codec import StreamEncoder, codec
from omni.translate.replay import response_events

__all__ = ["Gateway", "Reply", "client_status", "parse_object", "route_headers", "stamp"]

log = logging.getLogger("omni.gateway")

_NESTED_SAMPLING = (Dialect.GEMINI, Dialect.OLLAMA)  # temperature inside a config object
_STREAM_TYPES = ("text/event-stream", "application/x-ndjson")
_ID_PREFIX = {
    Dialect.OPENAI_CHAT: "chatcmpl-",
    Dialect.OPENAI_RESPONSES: "resp_",
    Dialect.ANTHROPIC: "msg_",
}


class Gateway:
    """The request pipeline over one routing snapshot, its upstream clients and one writer."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        secrets: SecretBox,
        http: Upstream,
        usage: UsageRecorder,
        shared: SharedState | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.secrets = secrets
        self.http = http
        self.usage = usage
        self.registry = Registry()
        self.cooldowns = Cooldowns()
        self._conn = db.connect()
        self.breakers = Breakers(on_change=self._save_breaker)
        self.breakers.restore(
            {
                row[0]: (int(row[1]), float(row[2]))
                for row in self._conn.execute(
                    "SELECT provider_id, failures, open_until FROM breaker_state"
                )
            }
        )
        self.router = Router()
        self.telemetry = Telemetry()
        usage.observers.append(self.telemetry.observe)
        # Caps and budgets count for the whole server, whatever process serves a request.
        shared = shared or SharedState.create()
        self.caps = Caps(shared.windows, shared.workers, shared.worker)
        self.leases: dict[str, Lease] = {}  # request id → operator-cap slots it holds
        self.key_leases: dict[str, Lease] = {}  # request id → its API key's cap slot
        self.budgets = Budgets(shared.ledgers, shared.workers, shared.worker)
        self.shaping = Shaping()
        self.cache = ResponseCache(db)
        self.cache.load_keys(self._conn)
        self.holds: dict[str, Hold] = {}  # request id → budget it reserved
        self._key_names: dict[int, str] = {}
        # Renews an account's credentials after a 401 (OAuth providers); None: cannot.
        self.refresher: Refresher | None = None
        self.first_byte_timeout = settings.first_byte_timeout
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
        policy = registry.policy
        self.breakers.profiles = policy.profiles
        self.router.affinity_ttl = policy.affinity_ttl_s
        self.caps.configure(policy.limits)
        conn = self._conn
        self.shaping = shaping_from(
            settings_repo.get_setting(conn, "system_prompt"),
            settings_repo.get_setting(conn, "thinking_budget"),
        )
        try:
            self.cache.configure(parse_cache_config(settings_repo.get_setting(conn, "cache")))
        except InvalidInputError as exc:
            log.warning("the stored cache settings are invalid (%s); using the defaults", exc)
        self._key_names = {
            int(r[0]): str(r[1]) for r in conn.execute("SELECT id, name FROM api_keys")
        }
        self.budgets.configure(
            [(b.key_id, b.limit_usd, b.period, b.warn_at) for b in budget_repo.list_budgets(conn)],
            lambda key_id, since: budget_repo.spent_since(conn, key_id, since),
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
        self.cache.close()
        self._conn.close()

    def _save_breaker(self, provider_id: str, failures: int, open_until: float | None) -> None:
        """Keep an open circuit across restarts (called on open and close only)."""
        try:
            if open_until is None:
                self._conn.execute(
                    "DELETE FROM breaker_state WHERE provider_id = ?", (provider_id,)
                )
            else:
                self._conn.execute(
                    "INSERT INTO breaker_state (provider_id, failures, open_until) VALUES "
                    "(?, ?, ?) ON CONFLICT (provider_id) DO UPDATE SET failures = "
                    "excluded.failures, open_until = excluded.open_until",
                    (provider_id, failures, open_until),
                )
        except Exception:  # the breaker still works in memory
            log.exception("could not save the circuit state of provider '%s'", provider_id)

    # -- model lists ------------------------------------------------------------------

    def model_ids(self) -> list[str]:
        """Every model string a client may ask for (models, combos, aliases), stably ordered."""
        return self.registry.model_ids()

    def models_body(self) -> bytes:
        return self.registry.models_body()

    def model(self, model_id: str) -> dict[str, Any]:
        """One entry of the model list, or a 404."""
        entry = self.registry.model_entry(model_id)
        if entry is None:
            raise ModelNotFoundError(f"model '{model_id}' is not in the model list")
        return entry

    def resolve(self, model: str, record: UsageRecord | None = None) -> Target:
        target = self.registry.resolve(model)
        if record is not None:
            record.requested_model = model
            record.provider_id, record.account_id = target.provider_id, target.account_id
            record.model = target.model
        return target

    # -- chat in any dialect -------------------------------------------------------------

    def handle(
        self,
        dialect: Dialect,
        body: bytes,
        *,
        endpoint: str,
        wants_sse: bool = False,
        model: str | None = None,
        stream: bool | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Awaitable[Reply]:
        """Serve a chat request written in ``dialect`` (``model``/``stream`` from the URL).

        Plain functions returning the awaitable (here and in :meth:`_handle`) keep the
        coroutine chain short: every level is resumed on every upstream read."""
        return self.run(
            dialect,
            endpoint,
            lambda record, started: self._handle(
                dialect, body, record, started, wants_sse, model, stream, headers
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
        except asyncio.CancelledError:  # the client went away before the answer began
            record.error = "client_closed"
            self.finish(record, started, 499, None)
            raise

    def _handle(
        self,
        dialect: Dialect,
        body: bytes,
        record: UsageRecord,
        started: float,
        wants_sse: bool,
        model: str | None,
        stream: bool | None,
        headers: Mapping[str, str] | None,
    ) -> Awaitable[Reply]:
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
        record.session = session_key(obj)
        if self.caps.active and record.api_key_id is not None:
            self._key_cap(record, len(body) // 4)
        if self.shaping.active:
            request = shape(self.shaping, dialect, obj, request)
        if (
            headers is not None
            and record.stream
            and "X-OmniRoute-Progress" in headers
            and dialect in SSE_DIALECTS
            and headers["X-OmniRoute-Progress"].lower() in ("true", "1", "yes")
        ):
            return self._with_progress(dialect, obj, body, request, plan, record, started, headers)
        # Cheap tests first: most requests are neither deterministic nor idempotent.
        if (
            headers is not None
            and (
                "Idempotency-Key" in headers
                or "X-Request-Id" in headers
                or (
                    self.cache.config.enabled
                    and (
                        obj.get("temperature") == 0
                        or "X-OmniRoute-Cache" in headers
                        or dialect in _NESTED_SAMPLING
                    )
                )
            )
            and reuse.wanted(self, obj, headers)
        ):
            return reuse.serve(
                self, dialect, obj, model, headers, record, started,
                lambda: self._execute(dialect, obj, body, request, plan, record, started),
            )  # fmt: skip
        return self._execute(dialect, obj, body, request, plan, record, started)

    async def _with_progress(
        self,
        dialect: Dialect,
        obj: dict[str, Any],
        body: bytes,
        request: ir.Request | None,
        plan: Plan,
        record: UsageRecord,
        started: float,
        headers: Mapping[str, str],
    ) -> Reply:
        """Answer at once and report progress until a target answers (see progress.py)."""
        work: Awaitable[Reply]
        if reuse.wanted(self, obj, headers):
            work = reuse.serve(
                self, dialect, obj, None, headers, record, started,
                lambda: self._execute(dialect, obj, body, request, plan, record, started),
            )  # fmt: skip
        else:
            work = self._execute(dialect, obj, body, request, plan, record, started)
        return with_progress(dialect, work)

    def _key_cap(self, record: UsageRecord, tokens: int) -> None:
        """Hold a slot of the API key's own cap, or refuse the request with a 429."""
        assert record.api_key_id is not None
        admitted = self.caps.admit_key(record.api_key_id, tokens)
        if admitted is None:
            return
        if isinstance(admitted, Lease):
            self.key_leases[record.request_id] = admitted
            return
        wait = admitted if admitted != float("inf") else 1.0
        name = self._key_names.get(record.api_key_id) or f"#{record.api_key_id}"
        raise RateLimitedError(
            f"API key '{name}' is at its rate limit (requests, tokens or concurrency)",
            retry_after=wait,
        )

    def _execute(
        self,
        dialect: Dialect,
        obj: dict[str, Any],
        body: bytes,
        request: ir.Request | None,
        plan: Plan,
        record: UsageRecord,
        started: float,
    ) -> Awaitable[Reply]:
        """Run the plan, on the key's budget when it has one."""
        if record.api_key_id is not None and record.api_key_id in self.budgets.ledgers:
            return self._budgeted(dialect, obj, body, request, plan, record, started)
        return run_plan(self, dialect, obj, body, request, plan, record, started)

    async def _budgeted(
        self,
        dialect: Dialect,
        obj: dict[str, Any],
        body: bytes,
        request: ir.Request | None,
        plan: Plan,
        record: UsageRecord,
        started: float,
    ) -> Reply:
        """Run the plan on the key's budget: reserve first, settle when it finishes."""
        key_id = record.api_key_id
        assert key_id is not None
        prices = []
        for _, target in plan.pairs:
            price = self.registry.prices.get((target.provider_id, target.model))
            if price is not None:
                max_output = target.info.max_output if target.info else None
                prices.append((price.input, price.output, max_output))
        estimate = estimate_cost(prices, obj, len(body))
        hold = self.budgets.reserve(key_id, estimate, self._key_names.get(key_id, ""))
        if hold is None:
            return await run_plan(self, dialect, obj, body, request, plan, record, started)
        self.holds[record.request_id] = hold
        try:
            reply = await run_plan(self, dialect, obj, body, request, plan, record, started)
        except BaseException:
            if self.holds.pop(record.request_id, None) is not None:
                self.budgets.settle(hold, None)
            raise
        note = self.budgets.warning(hold)
        if note is not None:
            reply.headers["X-OmniRoute-Budget-Warning"] = note
        return reply

    async def exchange(
        self,
        dialect: Dialect,
        obj: dict[str, Any],
        request: ir.Request,
        target: Target,
        record: UsageRecord,
        started: float,
        first_byte_s: float,
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
            self.http, target, chat_url(target, request.stream), orjson.dumps(payload),
            first_byte_s,
        )  # fmt: skip
        if upstream.status >= 400:
            raise AttemptFailed(await read_failure(upstream, target))
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
                answer = outbound.decode_response(await read_json(upstream, target))
                self.finish(record, started, 200, answer.usage)
                iterator = streams.replay(response_events(answer), encoder)
            return Reply(200, headers, stream=iterator, content_type=inbound.STREAM_CONTENT_TYPE)
        if streamed:
            upstream.close()
            raise UpstreamError(
                f"provider '{target.provider_id}' answered a non-stream request with a stream"
            )
        raw = await read_answer(upstream, target)
        answer = outbound.decode_response(upstream_json(raw, target))
        if upstream_dialect is dialect:
            out = raw
        else:
            answer.model = target.model
            out = orjson.dumps(inbound.encode_response(answer))
        self.finish(record, started, 200, answer.usage)
        stamp(headers, record, answer.usage)
        return Reply(200, headers, body=out)

    async def openai_passthrough(
        self,
        request: dict[str, Any],
        target: Target,
        record: UsageRecord,
        started: float,
        first_byte_s: float,
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
            self.http, target, chat_url(target, stream), orjson.dumps(request),
            first_byte_s,
        )  # fmt: skip
        if upstream.status >= 400:
            raise AttemptFailed(await read_failure(upstream, target))
        headers = route_headers(record, target)
        if stream and upstream.content_type == "text/event-stream":
            relay = openai_chat.StreamRelay(drop_usage_chunk=not client_wants_usage)
            iterator = streams.relay_openai(
                upstream, relay, record, started, self._stall, self.finish
            )
            return Reply(200, headers, stream=iterator, content_type="text/event-stream")
        payload = await read_answer(upstream, target)
        usage = openai_chat.usage_from_body(payload)
        self.finish(record, started, 200, usage)
        stamp(headers, record, usage)
        return Reply(200, headers, body=payload, content_type=upstream.content_type or "")

    # -- upstream bodies and errors ------------------------------------------------------

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
        upstream: Answer,
        dialect: Dialect,
        target: Target,
        record: UsageRecord,
        started: float,
        headers: dict[str, str],
    ) -> Reply:
        """The upstream's error response, passed on in the client's dialect."""
        failure = await read_failure(upstream, target)
        return self.failure_reply(dialect, failure, record, started, headers)

    def finish(self, record: UsageRecord, started: float, status: int, usage: Usage | None) -> None:
        """Complete ``record`` and hand it to the batched writer."""
        record.status = status
        record.latency_ms = (time.perf_counter() - started) * 1000
        if self.leases or self.key_leases:
            used = None if usage is None else (usage.input or 0) + (usage.output or 0)
            for leases in (self.leases, self.key_leases):
                lease = leases.pop(record.request_id, None)
                if lease is not None:
                    self.caps.release(lease, used)
        if usage is not None:
            price = self.registry.prices.get((record.provider_id or "", record.model or ""))
            if price is not None:
                record.cost_usd = cost_of(price, usage)
            record.input_tokens = usage.input
            record.output_tokens = usage.output
            record.cache_read_tokens = usage.cache_read
            record.cache_write_tokens = usage.cache_write
            record.reasoning_tokens = usage.reasoning
        if self.holds:
            hold = self.holds.pop(record.request_id, None)
            if hold is not None:
                self.budgets.settle(hold, record.cost_usd)
        self.usage.record(record)
