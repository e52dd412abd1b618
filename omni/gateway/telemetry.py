"""Live telemetry: request counts, errors, latency and TTFT percentiles, tokens and cost,
per provider and per model, in bounded memory.

Fed in batches by the usage writer (off the request path) with finished
:class:`~omni.store.usage.UsageRecord` values. Each series keeps counters, fixed-bucket
histograms (for Prometheus) and a ring of the latest :data:`RING` latencies (for exact
recent percentiles). At most :data:`MAX_SERIES` distinct (provider, model) pairs are
tracked; later ones are counted under ``("other", "other")``, so random model names
cannot grow memory without bound. :func:`prometheus` renders everything in the
Prometheus text format.
"""

from __future__ import annotations

import time
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from omni.store.usage import UsageRecord

MAX_SERIES = 256
MAX_SESSIONS = 2048  # conversations tracked at most (least recently seen dropped)
SESSION_ACTIVE_S = 1800.0
RING = 1024
BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
OTHER = ("other", "other")


@dataclass(slots=True)
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_S) + 1))
    total: float = 0.0
    n: int = 0

    def add(self, seconds: float) -> None:
        for i, bound in enumerate(BUCKETS_S):
            if seconds <= bound:
                self.counts[i] += 1
                break
        else:
            self.counts[-1] += 1
        self.total += seconds
        self.n += 1


@dataclass(slots=True)
class _Series:
    requests: int = 0
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)  # "2xx", "4xx", "5xx"
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float = 0.0
    latency: _Histogram = field(default_factory=_Histogram)
    ttft: _Histogram = field(default_factory=_Histogram)
    recent: array[float] = field(default_factory=lambda: array("f"))
    recent_ttft: array[float] = field(default_factory=lambda: array("f"))

    def add(self, record: UsageRecord) -> None:
        self.requests += 1
        status = record.status
        if status >= 400:
            self.errors += 1
        bucket = f"{status // 100}xx" if status else "other"
        self.statuses[bucket] = self.statuses.get(bucket, 0) + 1
        self.input_tokens += record.input_tokens or 0
        self.output_tokens += record.output_tokens or 0
        self.cache_read_tokens += record.cache_read_tokens or 0
        self.cost_usd += record.cost_usd or 0.0
        latency = (record.latency_ms or 0.0) / 1000
        self.latency.add(latency)
        _ring(self.recent, record.latency_ms or 0.0, self.requests)
        if record.ttft_ms is not None:
            self.ttft.add(record.ttft_ms / 1000)
            _ring(self.recent_ttft, record.ttft_ms, self.ttft.n)


def _ring(values: array[float], value: float, n: int) -> None:
    """Keep the latest :data:`RING` values; ``n`` counts every value seen so far."""
    if len(values) < RING:
        values.append(value)
    else:
        values[n % RING] = value


def _percentiles(values: Iterable[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    if not ordered:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    last = len(ordered) - 1
    return {
        name: round(ordered[min(last, int(q * len(ordered)))], 2)
        for name, q in (("p50_ms", 0.50), ("p95_ms", 0.95), ("p99_ms", 0.99))
    }


@dataclass(slots=True)
class _Session:
    key_id: int | None
    model: str
    requests: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    first_seen: float = 0.0
    last_seen: float = 0.0


class Telemetry:
    """Counters and percentiles since the server started, and the live conversations."""

    def __init__(self) -> None:
        self.started = time.time()
        self._series: dict[tuple[str, str], _Series] = {}
        self._sessions: OrderedDict[str, _Session] = OrderedDict()

    def observe(self, records: Iterable[UsageRecord]) -> None:
        series = self._series
        for record in records:
            if record.session is not None:
                self._seen(record)
            key = (record.provider_id or "none", record.model or record.requested_model or "none")
            entry = series.get(key)
            if entry is None:
                if len(series) >= MAX_SERIES:
                    key = OTHER
                entry = series.get(key)
                if entry is None:
                    entry = series[key] = _Series()
            entry.add(record)

    def summary(self) -> dict[str, Any]:
        """Counts and recent latency percentiles per provider and per model."""
        providers: dict[str, list[_Series]] = {}
        for (provider, _), entry in self._series.items():
            providers.setdefault(provider, []).append(entry)
        return {
            "since": self.started,
            "providers": {p: _describe(entries) for p, entries in sorted(providers.items())},
            "models": {
                f"{p}/{m}": _describe([entry]) for (p, m), entry in sorted(self._series.items())
            },
        }

    def _seen(self, record: UsageRecord) -> None:
        assert record.session is not None
        session = self._sessions.get(record.session)
        if session is None:
            model = record.requested_model or record.model or ""
            session = self._sessions[record.session] = _Session(
                record.api_key_id, model, first_seen=record.ts
            )
            if len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(record.session)
        session.requests += 1
        session.tokens += (record.input_tokens or 0) + (record.output_tokens or 0)
        session.cost_usd += record.cost_usd or 0.0
        session.last_seen = record.ts

    def sessions(self, active_s: float = SESSION_ACTIVE_S) -> list[dict[str, Any]]:
        """Conversations seen in the last ``active_s`` seconds, most recent first."""
        horizon = time.time() - active_s
        return [
            {
                "session": name,
                "keyId": s.key_id,
                "model": s.model,
                "requests": s.requests,
                "tokens": s.tokens,
                "costUsd": round(s.cost_usd, 8),
                "firstSeen": s.first_seen,
                "lastSeen": s.last_seen,
            }
            for name, s in reversed(self._sessions.items())
            if s.last_seen >= horizon
        ]

    def series(self) -> Mapping[tuple[str, str], _Series]:
        return self._series

    def reset(self) -> None:
        self._series.clear()


def _describe(entries: list[_Series]) -> dict[str, Any]:
    latencies = [v for e in entries for v in e.recent]
    ttfts = [v for e in entries for v in e.recent_ttft]
    ttft = _percentiles(ttfts)
    return {
        "count": sum(e.requests for e in entries),
        "errors": sum(e.errors for e in entries),
        **_percentiles(latencies),
        "ttft_p50_ms": ttft["p50_ms"],
        "ttft_p95_ms": ttft["p95_ms"],
        "input_tokens": sum(e.input_tokens for e in entries),
        "output_tokens": sum(e.output_tokens for e in entries),
        "cost_usd": round(sum(e.cost_usd for e in entries), 6),
    }


def _labels(**values: str) -> str:
    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in values.items()) + "}"


def prometheus(telemetry: Telemetry, extra: Iterable[str] = ()) -> str:
    """Everything in the Prometheus text exposition format (version 0.0.4)."""
    lines = [
        "# HELP omni_requests_total Requests answered, by provider, model and status class.",
        "# TYPE omni_requests_total counter",
    ]
    series = sorted(telemetry.series().items())
    for (provider, model), entry in series:
        for status, n in sorted(entry.statuses.items()):
            lines.append(
                f"omni_requests_total{_labels(provider=provider, model=model, status=status)} {n}"
            )
    lines += [
        "# HELP omni_tokens_total Tokens as the upstream reported them.",
        "# TYPE omni_tokens_total counter",
    ]
    for (provider, model), entry in series:
        for kind, n in (
            ("input", entry.input_tokens),
            ("output", entry.output_tokens),
            ("cache_read", entry.cache_read_tokens),
        ):
            lines.append(
                f"omni_tokens_total{_labels(provider=provider, model=model, kind=kind)} {n}"
            )
    lines += [
        "# HELP omni_cost_usd_total Cost at list prices.",
        "# TYPE omni_cost_usd_total counter",
    ]
    for (provider, model), entry in series:
        lines.append(
            f"omni_cost_usd_total{_labels(provider=provider, model=model)} {entry.cost_usd:.8f}"
        )
    for name, attr, doc in (
        ("omni_request_duration_seconds", "latency", "Time to the full answer."),
        ("omni_time_to_first_token_seconds", "ttft", "Time to the first streamed content."),
    ):
        lines += [f"# HELP {name} {doc}", f"# TYPE {name} histogram"]
        by_provider: dict[str, list[_Histogram]] = {}
        for (provider, _), entry in series:
            by_provider.setdefault(provider, []).append(getattr(entry, attr))
        for provider, histograms in sorted(by_provider.items()):
            cumulative = 0
            for i, bound in enumerate((*BUCKETS_S, float("inf"))):
                cumulative += sum(h.counts[i] for h in histograms)
                le = "+Inf" if bound == float("inf") else f"{bound:g}"
                lines.append(f"{name}_bucket{_labels(provider=provider, le=le)} {cumulative}")
            total = sum(h.total for h in histograms)
            lines.append(f"{name}_sum{_labels(provider=provider)} {total:.6f}")
            lines.append(f"{name}_count{_labels(provider=provider)} {cumulative}")
    lines.extend(extra)
    return "\n".join(lines) + "\n"


def gauge(name: str, doc: str, values: Mapping[str, float], label: str) -> list[str]:
    """Lines for one gauge with a single label."""
    lines = [f"# HELP {name} {doc}", f"# TYPE {name} gauge"]
    lines += [f"{name}{_labels(**{label: k})} {v:g}" for k, v in sorted(values.items())]
    return lines
