"""Operator caps: requests per minute, tokens per minute and requests in flight, per
provider, per model, per account and per API key, with a bounded wait queue.

The operator sets them (``PUT /api/rate-limit``) to stay under an upstream's quota or to
share one fairly. :meth:`Caps.admit` either takes a :class:`Lease` on every cap that
applies to a target or says how long until one frees; the gateway then tries the next
target, and when none is free waits in a queue of bounded depth for a release or a
window to slide, up to the configured wait. Token use is counted with the request's
estimate when admitted and corrected with the upstream's numbers when it finishes.

Windows are the last minute in one-second buckets, kept on a :class:`~omni.gateway.shared.Board`
so every worker process counts against the same caps. A bucket leaves the window 61 s after
its second began, so no 60-second span ever holds more than the cap. No cost at all when
no cap is set.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from omni.gateway.policy import Limit
from omni.gateway.shared import Board
from omni.providers.executor import Target

WINDOW_S = 60.0
_SPAN = 61  # seconds a bucket counts: a whole 60 s window whatever the offset in its second
_BUCKETS = 64  # > _SPAN, so a bucket is never reused while it still counts
POLL_S = 0.05  # how often a queued request looks again when other processes share the caps


def window_fields(workers: int) -> int:
    """Cells per capped scope: in flight per worker, then window totals, then the buckets."""
    return workers + 3 + 3 * _BUCKETS


def forget_inflight(board: Board, worker: int) -> None:
    """A worker died: its requests are no longer in flight anywhere."""
    for base in board.bases():
        board.ints[base + worker] = 0


@dataclass(slots=True)
class Lease:
    """Slots held by one admitted attempt, given back by :meth:`Caps.release`."""

    bases: list[int]
    second: int
    estimate: int


class Caps:
    """Counters for every capped scope and the queue of requests waiting for one."""

    def __init__(
        self,
        board: Board | None = None,
        workers: int = 1,
        worker: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.board = board if board is not None else Board(window_fields(workers))
        self.clock = clock
        self.limits: Mapping[str, Limit] = {}
        self.active = False
        self.waiting = 0
        self._worker = worker
        # Offsets in a slot: in flight per worker, then these, then the buckets.
        self._count, self._tokens, self._expired = workers, workers + 1, workers + 2
        self._buckets = workers + 3
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

    # -- the window of one slot (call with the board's lock held) --------------------------

    def _bucket(self, base: int, second: int) -> int:
        return base + self._buckets + 3 * (second % _BUCKETS)

    def _roll(self, base: int, second: int) -> None:
        """Drop the buckets that left the window by ``second``."""
        ints = self.board.ints
        horizon, expired = second - _SPAN, ints[base + self._expired]
        if horizon <= expired:
            return
        first = base + self._buckets
        if horizon - expired >= _BUCKETS:  # idle for a while: look at every bucket
            gone = [at for at in range(first, first + 3 * _BUCKETS, 3) if ints[at] <= horizon]
        else:
            gone = []
            for s in range(expired + 1, horizon + 1):
                at = first + 3 * (s % _BUCKETS)
                if ints[at] == s:
                    gone.append(at)
        for at in gone:
            ints[base + self._count] -= ints[at + 1]
            ints[base + self._tokens] -= ints[at + 2]
            ints[at + 1] = ints[at + 2] = 0
        ints[base + self._expired] = horizon

    def _oldest(self, base: int, second: int) -> int:
        """The second of the oldest bucket still in the window."""
        ints = self.board.ints
        for s in range(second - _SPAN + 1, second + 1):
            at = self._bucket(base, s)
            if ints[at] == s and ints[at + 1]:
                return s
        return second

    def _inflight(self, base: int) -> int:
        return sum(self.board.ints[base : base + self._count])

    def _admit(self, scopes: list[tuple[str, Limit]], tokens: int) -> Lease | float:
        board = self.board
        now = self.clock()
        second = int(now)
        with board.lock:
            ints, wait, bases = board.ints, 0.0, []
            for key, limit in scopes:
                base = board.slot(key)
                self._roll(base, second)
                bases.append(base)
                count = ints[base + self._count]
                if limit.concurrency is not None and self._inflight(base) >= limit.concurrency:
                    wait = float("inf")
                if (limit.rpm is not None and count >= limit.rpm) or (
                    limit.tpm is not None
                    and count
                    and ints[base + self._tokens] + tokens > limit.tpm
                ):
                    wait = max(wait, self._oldest(base, second) + _SPAN - now)
            if wait > 0:
                return wait
            for base in bases:
                at = self._bucket(base, second)
                if ints[at] != second:
                    ints[at], ints[at + 1], ints[at + 2] = second, 0, 0
                ints[at + 1] += 1
                ints[at + 2] += tokens
                ints[base + self._worker] += 1
                ints[base + self._count] += 1
                ints[base + self._tokens] += tokens
        return Lease(bases, second, tokens)

    def release(self, lease: Lease, used_tokens: int | None = None) -> None:
        """Give back the lease's slots; count the tokens the upstream reported."""
        board = self.board
        with board.lock:
            ints = board.ints
            for base in lease.bases:
                ints[base + self._worker] -= 1
                if used_tokens is not None and lease.second > ints[base + self._expired]:
                    delta = used_tokens - lease.estimate
                    ints[self._bucket(base, lease.second) + 2] += delta
                    ints[base + self._tokens] += delta
        if self._freed is not None:
            self._freed.set()
            self._freed = None

    async def wait(self, seconds: float) -> None:
        """Sleep until a slot is given back or ``seconds`` pass, whichever comes first
        (other processes' releases are seen by looking again every :data:`POLL_S`)."""
        if self.board.shared:
            seconds = min(seconds, POLL_S)
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
        board, second = self.board, int(self.clock())
        rows: list[dict[str, object]] = []
        with board.lock:
            for key, limit in sorted(self.limits.items()):
                base = board.slot(key)
                self._roll(base, second)
                rows.append(
                    {
                        "scope": key,
                        "rpm": limit.rpm,
                        "tpm": limit.tpm,
                        "concurrency": limit.concurrency,
                        "requests_last_minute": board.ints[base + self._count],
                        "tokens_last_minute": board.ints[base + self._tokens],
                        "in_flight": self._inflight(base),
                    }
                )
        return rows
