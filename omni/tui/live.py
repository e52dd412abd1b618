"""The request history the dashboard keeps, and the sums its views draw from it.

Rows come from two places with one shape: the request log (``/api/usage/request-logs``,
read when the dashboard connects and again after a reconnect, to fill the gap) and the
live event stream (``event: request``). They are merged by ``request_id``, newest kept up
to a capacity. Everything else here is arithmetic on those rows: requests per second and
error rate in time buckets (the sparklines), latency percentiles, spend since midnight,
and sums by day, provider, model or key.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from omni.tui import format as fmt

Row = dict[str, Any]

GROUPINGS = ("day", "provider", "model", "key")


def _ts(row: Row) -> float:
    return float(row.get("ts") or 0.0)


def failed(row: Row) -> bool:
    status = row.get("status") or 0
    return bool(row.get("error")) or status >= 400 or status == 0


def served_model(row: Row) -> str:
    provider, model = row.get("provider_id"), row.get("model")
    if provider and model:
        return f"{provider}/{model}"
    return str(row.get("requested_model") or "—")


def percentiles(values: Iterable[float]) -> dict[str, float | None]:
    """p50/p95/p99 (nearest rank) of ``values``; ``None`` each when there are none."""
    ordered = sorted(values)
    if not ordered:
        return {"p50": None, "p95": None, "p99": None}

    def rank(q: float) -> float:
        index = max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))
        return ordered[index]

    return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99)}


@dataclass
class Group:
    """The sums of one group of requests (a day, a provider, a model or a key)."""

    name: str
    requests: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    latencies: list[float] = field(default_factory=list)
    ttfts: list[float] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.requests += 1
        self.errors += failed(row)
        self.input_tokens += row.get("input_tokens") or 0
        self.output_tokens += row.get("output_tokens") or 0
        self.cost += row.get("cost_usd") or 0.0
        if row.get("latency_ms") is not None:
            self.latencies.append(float(row["latency_ms"]))
        if row.get("ttft_ms") is not None:
            self.ttfts.append(float(row["ttft_ms"]))


class LiveLog:
    """The newest requests seen (at most ``capacity``), merged from the log and the stream."""

    def __init__(self, capacity: int = 5000, clock: Callable[[], float] = time.time) -> None:
        self.capacity = capacity
        self.clock = clock
        self._rows: dict[str, Row] = {}
        self._ordered: list[Row] | None = []
        self.complete = True  # False when older requests exist than the ones kept
        self.stats: dict[str, Any] = {}
        self.dropped = 0

    def __len__(self) -> int:
        return min(len(self._rows), self.capacity)

    def add(self, row: Row) -> bool:
        """Keep ``row``; False when it was already known."""
        key = str(row.get("request_id") or row.get("id"))
        known = key in self._rows
        self._rows[key] = {**self._rows.get(key, {}), **row}
        self._ordered = None
        if len(self._rows) > self.capacity:
            self.complete = False
            if len(self._rows) > self.capacity + self.capacity // 10:  # trim in chunks
                ordered = sorted(self._rows.values(), key=_ts, reverse=True)
                for old in ordered[self.capacity :]:
                    self._rows.pop(str(old.get("request_id") or old.get("id")), None)
        return not known

    def backfill(self, rows: list[Row], complete: bool) -> None:
        """Merge a page of the request log; ``complete`` when it reached the first request."""
        for row in rows:
            self.add(row)
        if not complete:
            self.complete = False

    def rows(self) -> list[Row]:
        """The kept rows (at most ``capacity``), newest first."""
        if self._ordered is None:
            ordered = sorted(self._rows.values(), key=_ts, reverse=True)
            self._ordered = ordered[: self.capacity]
        return self._ordered

    def since(self, ts: float) -> list[Row]:
        return [r for r in self.rows() if (r.get("ts") or 0.0) >= ts]

    def buckets(self, width: int, seconds: float) -> tuple[list[float], list[float]]:
        """Requests per second and error rate in ``width`` buckets of ``seconds`` each,
        oldest first, ending now."""
        now = self.clock()
        start = now - width * seconds
        totals, errors = [0] * width, [0] * width
        for row in self.since(start):
            index = min(width - 1, int(((row.get("ts") or 0.0) - start) // seconds))
            totals[index] += 1
            errors[index] += failed(row)
        rate = [t / seconds for t in totals]
        error_rate = [e / t if t else 0.0 for e, t in zip(errors, totals, strict=True)]
        return rate, error_rate

    def midnight(self) -> float:
        now = time.localtime(self.clock())
        return time.mktime((now.tm_year, now.tm_mon, now.tm_mday, 0, 0, 0, 0, 0, -1))

    def spend_today(self) -> float:
        return sum(r.get("cost_usd") or 0.0 for r in self.since(self.midnight()))

    def group(
        self, by: str, rows: list[Row] | None = None, key_names: dict[int, str] | None = None
    ) -> list[Group]:
        """Sums per day (newest first) or per provider, model or key (costliest first)."""
        names = key_names or {}
        groups: dict[str, Group] = {}
        for row in self.rows() if rows is None else rows:
            if by == "day":
                name = fmt.day(row.get("ts") or 0.0)
            elif by == "provider":
                name = str(row.get("provider_id") or "(none)")
            elif by == "model":
                name = served_model(row)
            else:
                key_id = row.get("api_key_id")
                name = "(no key)" if key_id is None else names.get(key_id, f"key {key_id}")
            groups.setdefault(name, Group(name)).add(row)
        if by == "day":
            return sorted(groups.values(), key=lambda g: g.name, reverse=True)
        return sorted(groups.values(), key=lambda g: (-g.cost, -g.requests, g.name))
