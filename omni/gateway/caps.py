"""Operator caps: requests per minute, tokens per minute and requests in flight, per
provider, per model and per account, with a bounded wait queue.

The operator sets them (``PUT /api/rate-limit``) to stay under an upstream's quota or to
share one fairly. :meth:`Caps.admit` either takes a :class:`Lease` on every cap that
applies to a target or says how long until one frees; the gateway then tries the next
target, and when none is free waits in a queue of bounded depth for a release or a
window to slide, up to the configured wait. Token use is counted with the request's
estimate when admitted and corrected with the upstream's numbers when it finishes.
Windows are the last 60 s. In-process state; no cost at all when no cap is set.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from omni.gateway.policy import Limit
from omni.providers.executor import Target

WINDOW_S = 60.0


@dataclass(slots=True)
class _Use:
    inflight: int = 0
    starts: deque[float] = field(default_factory=deque)
    tokens: deque[list[float]] = field(default_factory=deque)  # [time, tokens], mutable
    token_sum: float = 0.0

    def prune(self, now: float) -> None:
        horizon = now - WINDOW_S
        while self.starts and self.starts[0] <= horizon:
            self.starts.popleft()
        while self.tokens and self.tokens[0][0] <= horizon:
            self.token_sum -= self.tokens.popleft()[1]


@dataclass(slots=True)
class Lease:
    """Slots held by one admitted attempt, given back by :meth:`Caps.release`."""

    uses: list[_Use]
    entries: list[list[float]]
    estimate: int


class Caps:
    """Counters for every capped scope and the queue of requests waiting for one."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.limits: Mapping[str, Limit] = {}
        self.active = False
        self.waiting = 0
        self._uses: dict[str, _Use] = {}
        self._freed: asyncio.Event | None = None

    def configure(self, limits: Mapping[str, Limit]) -> None:
        self.limits = limits
        self.active = bool(limits)

    def scopes(self, target: Target) -> list[tuple[str, Limit]]:
        found = []
        for key in (
            f"provider:{target.provider_id}",
            f"model:{target.provider_id}/{target.model}",
            f"account:{target.provider_id}/{target.account_name}",
        ):
            limit = self.limits.get(key)
            if limit is not None:
                found.append((key, limit))
        return found

    def admit_key(self, key_id: int, tokens: int) -> Lease | float | None:
        """A lease on an API key's own cap (None: the key has none), or the seconds until
        it may free."""
        limit = self.limits.get(f"key:{key_id}")
        if limit is None:
            return None
        return self._admit([(f"key:{key_id}", limit)], tokens)

    def admit(self, target: Target, tokens: int) -> Lease | float:
        """A lease on every cap of ``target``, or the seconds until one may free
        (``inf``: when a request in flight finishes)."""
        return self._admit(self.scopes(target), tokens)

    def _admit(self, scopes: list[tuple[str, Limit]], tokens: int) -> Lease | float:
        now, wait = self.clock(), 0.0
        uses = []
        for key, limit in scopes:
            use = self._uses.get(key)
            if use is None:
                use = self._uses[key] = _Use()
            use.prune(now)
            uses.append(use)
            if limit.concurrency is not None and use.inflight >= limit.concurrency:
                wait = float("inf")
            if limit.rpm is not None and len(use.starts) >= limit.rpm:
                wait = max(wait, use.starts[0] + WINDOW_S - now)
            if limit.tpm is not None and use.tokens and use.token_sum + tokens > limit.tpm:
                wait = max(wait, use.tokens[0][0] + WINDOW_S - now)
        if wait > 0:
            return wait
        entries = []
        for use in uses:
            use.inflight += 1
            use.starts.append(now)
            entry = [now, float(tokens)]
            use.tokens.append(entry)
            use.token_sum += tokens
            entries.append(entry)
        return Lease(uses, entries, tokens)

    def release(self, lease: Lease, used_tokens: int | None = None) -> None:
        """Give back the lease's slots; count the tokens the upstream reported."""
        for use, entry in zip(lease.uses, lease.entries, strict=True):
            use.inflight -= 1
            if used_tokens is not None:
                use.token_sum += used_tokens - entry[1]
                entry[1] = float(used_tokens)
        if self._freed is not None:
            self._freed.set()
            self._freed = None

    async def wait(self, seconds: float) -> None:
        """Sleep until a slot is given back or ``seconds`` pass, whichever comes first."""
        if self._freed is None:
            self._freed = asyncio.Event()
        freed = self._freed
        self.waiting += 1
        try:
            async with asyncio.timeout(seconds):
                await freed.wait()
        except TimeoutError:
            pass
        finally:
            self.waiting -= 1

    def snapshot(self) -> list[dict[str, object]]:
        """Every cap with its current use (for ``/api/rate-limits`` and the TUI)."""
        now = self.clock()
        rows: list[dict[str, object]] = []
        for key, limit in sorted(self.limits.items()):
            use = self._uses.get(key) or _Use()
            use.prune(now)
            rows.append(
                {
                    "scope": key,
                    "rpm": limit.rpm,
                    "tpm": limit.tpm,
                    "concurrency": limit.concurrency,
                    "requests_last_minute": len(use.starts),
                    "tokens_last_minute": round(use.token_sum),
                    "in_flight": use.inflight,
                }
            )
        return rows
