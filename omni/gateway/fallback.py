"""The fallback loop: try a plan's targets in the router's order until one answers.

For each (step, target) the router proposes, in order: skip an account that is cooling
down, a provider whose circuit is open, a model that cannot serve the request (the
capability filter) and a target at an operator cap; otherwise send. A failure that
another target may not have (rate limit, bad credentials, upstream down, model missing
there, context too long) moves on; one every target would have (a malformed request)
stops at once. Per step: transient failures (408, 5xx, timeouts, connection errors) are
retried on the same account ``retries`` times with jittered backoff, never a 429 (that
account's quota is spent: rotate instead); a 401 refreshes the credentials once when the
provider can. When every account rests briefly, or every target is at its cap, the
request waits (bounded) and tries again; when all else failed, the global fallback
model is tried once. A client that goes away cancels everything, with no penalty to
any account. The route taken, and why each target was skipped or failed, is stored on
the usage record.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from omni import ir
from omni.errors import OmniError, UpstreamError
from omni.gateway.answers import AttemptFailed, Reply, route_headers
from omni.gateway.caps import Lease
from omni.gateway.registry import Plan, Step
from omni.gateway.resilience import Failure
from omni.gateway.routing import Need, session_key, unmet
from omni.ir import Dialect
from omni.providers.executor import Target
from omni.store.usage import UsageRecord
from omni.translate import openai_chat
from omni.translate._common import estimate_tokens

if TYPE_CHECKING:
    from omni.gateway.pipeline import Gateway

Refresher = Callable[[Target], Awaitable[Target | None]]

_TRANSIENT = frozenset({408, 500, 502, 503, 504})
_IMAGE_MARKS = (b"image_url", b"input_image", b"inline_data", b"inlineData", b'"images"')
_IMAGE_TOKENS = 800
RETRY_BASE_S = 0.25
RETRY_MAX_S = 2.0


@dataclass(slots=True)
class _Run:
    """One request's walk over its plan."""

    gw: Gateway
    dialect: Dialect
    obj: dict[str, Any]
    body: bytes
    request: ir.Request | None
    record: UsageRecord
    started: float
    failures: list[Failure] = field(default_factory=list)
    trail: list[tuple[str, str, str]] = field(default_factory=list)
    resting: list[float] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    capped: list[float] = field(default_factory=list)
    unfit: list[str] = field(default_factory=list)
    last: Target | None = None
    _need: Need | None = None

    def skip(self, target: Target, why: str) -> None:
        self.trail.append((target.provider_id, target.account_name, why))

    # -- the capability filter --------------------------------------------------------------

    def unfit_reason(self, target: Target) -> str | None:
        info = target.info
        if info is None:
            return None
        need = self._need
        if need is None:
            body = self.body
            need = self._need = Need(
                tools=bool(self.obj.get("tools")),
                vision=any(mark in body for mark in _IMAGE_MARKS),
                tokens=len(body) // 4,  # an upper bound until a target's window is at stake
            )
        if info.context and need.tokens > info.context and not need.precise:
            need.tokens = estimate_tokens(self.ir_request(), _IMAGE_TOKENS)
            need.precise = True
        return unmet(info, need)

    def ir_request(self) -> ir.Request:
        if self.request is None:
            self.request = openai_chat.decode_request(self.obj)
        return self.request

    # -- one target -------------------------------------------------------------------------

    def send(self, target: Target, first_byte_s: float) -> Awaitable[Reply]:
        gw, record = self.gw, self.record
        record.provider_id, record.account_id = target.provider_id, target.account_id
        record.model = target.model
        if (
            self.dialect is Dialect.OPENAI_CHAT
            and target.format == "openai"
            and (self.request is None or not self.request.normalised)
        ):
            return gw.openai_passthrough(self.obj, target, record, self.started, first_byte_s)
        return gw.exchange(
            self.dialect, self.obj, self.ir_request(), target, record, self.started, first_byte_s
        )

    async def recover(
        self, step: Step, target: Target, first_byte_s: float, exc: Exception
    ) -> Reply | None:
        """After a failed try: refresh credentials once on a 401, retry a transient
        failure ``step.retries`` times; the reply, or None after recording the failure."""
        gw, tries, refreshed = self.gw, 0, False
        while True:
            failure = (
                exc.failure
                if isinstance(exc, AttemptFailed)
                else Failure(exc.status, str(exc), exc.code, client_status=exc.status)
                if isinstance(exc, UpstreamError)
                else Failure(502, str(exc), "upstream_error")
            )
            if failure.status == 401 and not refreshed and gw.refresher is not None:
                refreshed = True
                fresh = await gw.refresher(target)
                if fresh is None:
                    break
                target = fresh
            elif tries < step.retries and failure.status in _TRANSIENT:
                tries += 1
                self.skip(target, f"{failure.code}, retry {tries}")
                await asyncio.sleep(_backoff(tries))
            else:
                break
            try:
                return await self.send(target, first_byte_s)
            except (AttemptFailed, UpstreamError) as again:
                exc = again
        self.failures.append(failure)
        self.skip(target, failure.code)
        gw.cooldowns.failed(target.account_id, failure)
        gw.breakers.failed(target.provider_id, failure, target.breaker)
        gw.router.failed(target)
        return None

    def free(self, lease: Lease) -> None:
        """Give back the cap slots of an attempt that did not answer."""
        held: Lease | None = self.gw.leases.pop(self.record.request_id, None)
        if held is not None:
            self.gw.caps.release(lease)

    # -- the walk over the plan -------------------------------------------------------------

    def admissible(self, target: Target) -> bool:
        """Whether to try ``target`` now; if not, why is noted."""
        gw = self.gw
        rest = gw.cooldowns.remaining(target.account_id)
        if rest:
            self.resting.append(rest)
            self.skip(target, f"cooling {rest:.0f}s")
            return False
        if not gw.breakers.allow(target.provider_id):
            self.broken.append(target.provider_id)
            self.skip(target, "circuit open")
            return False
        why = self.unfit_reason(target)
        if why is not None:
            self.unfit.append(why)
            self.skip(target, f"unfit: {why}")
            return False
        return True

    async def serve(self, plan: Plan) -> Reply:
        """Walk the plan (again, while waiting is worth it) until a target answers."""
        gw, record = self.gw, self.record
        policy = gw.registry.policy
        session = session_key(self.obj) if policy.affinity_ttl_s and plan.choices else None
        cap = plan.max_attempts or policy.max_attempts
        waited, queue_until, fallback_tried = False, 0.0, False
        while True:
            self.resting, self.broken, self.capped, self.unfit = [], [], [], []
            pairs = plan.pairs if plan.fixed and session is None else gw.router.order(plan, session)
            for step, target in pairs:
                if len(self.failures) >= cap:
                    break
                self.last = target
                if (
                    gw.cooldowns.resting or gw.breakers.tripped or target.info is not None
                ) and not self.admissible(target):
                    continue
                lease: Lease | None = None
                if gw.caps.active:
                    admitted = gw.caps.admit(target, len(self.body) // 4)
                    if not isinstance(admitted, Lease):
                        self.capped.append(admitted)
                        self.skip(target, "at its cap")
                        continue
                    lease = gw.leases[record.request_id] = admitted  # freed when finished
                first_byte_s = step.timeout or gw.first_byte_timeout
                try:
                    reply = await self.send(target, first_byte_s)
                except (AttemptFailed, UpstreamError) as exc:
                    answer = await self.recover(step, target, first_byte_s, exc)
                    if answer is None:
                        if lease is not None:
                            self.free(lease)
                        if self.failures[-1].action == "stop":
                            return _give_up(self)
                        continue
                    reply = answer
                except BaseException:
                    if lease is not None:
                        self.free(lease)
                    raise
                gw.cooldowns.succeeded(target.account_id)
                gw.breakers.succeeded(target.provider_id)
                if not plan.fixed or session is not None:
                    gw.router.succeeded(plan, step, target, session)
                record.attempts = len(self.failures) + 1
                if self.trail:
                    self.skip(target, "ok")
                    record.route = orjson.dumps(self.trail).decode()
                reply.headers["X-OmniRoute-Fallback-Attempts"] = str(len(self.failures))
                return reply
            if not self.failures and self.resting and not waited:
                soonest = min(self.resting)
                if soonest <= policy.cooldown_wait_s:
                    waited = True
                    await asyncio.sleep(soonest + 0.01)  # past the end, not just at it
                    continue
            if not self.failures and self.capped and not self.resting:
                now = gw.caps.clock()
                if not queue_until:
                    if gw.caps.waiting >= policy.queue_depth:
                        self.failures.append(_queue_full(policy.queue_depth))
                        return _give_up(self)
                    queue_until = now + policy.queue_wait_s
                if now < queue_until:
                    await gw.caps.wait(min(*self.capped, queue_until - now))
                    continue
            fallback = policy.fallback_model
            if fallback and not fallback_tried and len(self.failures) < cap:
                fallback_tried = True
                try:
                    backup = gw.registry.plan(fallback)
                except OmniError:
                    backup = plan
                if backup is not plan:
                    if self.last is not None:
                        self.skip(self.last, f"fallback to {fallback}")
                    plan, session = backup, None
                    continue
            return _give_up(self)


def _backoff(tries: int) -> float:
    delay: float = min(RETRY_MAX_S, RETRY_BASE_S * 2 ** (tries - 1))
    return delay * random.uniform(0.5, 1.5)


def run_plan(
    gw: Gateway,
    dialect: Dialect,
    obj: dict[str, Any],
    body: bytes,
    request: ir.Request | None,
    plan: Plan,
    record: UsageRecord,
    started: float,
) -> Awaitable[Reply]:
    """Serve the request from the first target of ``plan`` that answers."""
    return _Run(gw, dialect, obj, body, request, record, started).serve(plan)


def _give_up(run: _Run) -> Reply:
    """The error for a request nothing could serve, in the client's dialect."""
    gw, record = run.gw, run.record
    failures = run.failures
    if not failures:
        failures.append(_why_nothing_tried(run))
    record.attempts = len(failures)
    if run.trail:
        record.route = orjson.dumps(run.trail).decode()
    headers = route_headers(record, run.last) if run.last is not None else {}
    headers["X-OmniRoute-Fallback-Attempts"] = str(max(0, len(failures) - 1))
    return gw.failure_reply(run.dialect, failures[-1], record, run.started, headers)


def _why_nothing_tried(run: _Run) -> Failure:
    model = run.record.requested_model
    if run.resting:
        soonest = min(run.resting)
        return Failure(
            429,
            f"every account that can serve '{model}' is cooling down; retry in {soonest:.0f} s",
            "all_accounts_cooling",
            retry_after=soonest,
            client_status=429,
        )
    if run.broken:
        provider = run.broken[0]
        retry_in = run.gw.breakers.retry_in(provider)
        return Failure(
            503,
            f"provider '{provider}' is failing repeatedly and is being rested "
            f"(circuit open); retry in {retry_in:.0f} s",
            "circuit_open",
            retry_after=retry_in,
            client_status=503,
        )
    if run.capped:
        finite = [c for c in run.capped if c != float("inf")]
        return Failure(
            429,
            f"every target for '{model}' is at its operator cap (requests, tokens or "
            "concurrency per minute) and no slot freed in time",
            "operator_cap",
            retry_after=min(finite) if finite else 1.0,
            client_status=429,
        )
    reasons = "; ".join(dict.fromkeys(run.unfit)) or "no target"
    return Failure(
        400,
        f"no target for '{model}' can serve this request: {reasons}",
        "no_capable_target",
        action="stop",
        client_status=400,
    )


def _queue_full(depth: int) -> Failure:
    return Failure(
        429,
        f"too many requests are already waiting for a free slot ({depth}); retry shortly",
        "queue_full",
        retry_after=1.0,
        client_status=429,
    )
