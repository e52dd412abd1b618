"""Telemetry: latency percentiles, time to first token and counts per provider and model.

``w`` picks the window: since the server started (the server's own summary, over its
recent-latency sample) or the last 5 minutes, hour or day (computed here from the
request history). A bar beside each row compares its p95 with the slowest row's.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, Static

from omni.tui import format as fmt
from omni.tui.live import percentiles, served_model
from omni.tui.views.base import View
from omni.tui.widgets.tables import LiveTable

WINDOWS: list[tuple[str, float | None]] = [
    ("since start", None),
    ("5 min", 300.0),
    ("1 hour", 3600.0),
    ("24 hours", 86400.0),
]
COLUMNS = ("name", "req", "err", "p50", "p95", "p99", "TTFT", "p95 bar")


def _summaries(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """Per-name stats in the shape of ``/api/telemetry/summary`` entries."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        name = str(row.get("provider_id") or "—") if key == "provider" else served_model(row)
        grouped.setdefault(name, []).append(row)
    out = {}
    for name, group in grouped.items():
        lat = percentiles(r["latency_ms"] for r in group if r.get("latency_ms") is not None)
        ttft = percentiles(r["ttft_ms"] for r in group if r.get("ttft_ms") is not None)
        out[name] = {
            "count": len(group),
            "errors": sum(1 for r in group if (r.get("status") or 0) >= 400 or r.get("error")),
            "p50_ms": lat["p50"], "p95_ms": lat["p95"], "p99_ms": lat["p99"],
            "ttft_p50_ms": ttft["p50"],
        }  # fmt: skip
    return out


class TelemetryView(View):
    TITLE = "Telemetry"
    KEY = "5"
    HELP = "p50/p95/p99, TTFT and counts per provider and model"

    BINDINGS = [Binding("w", "window", "Window")]
    DEFAULT_CSS = """
    TelemetryView #tm-providers { height: 1fr; }
    TelemetryView #tm-models { height: 2fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.window = 0
        self.summary: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="tm-note", classes="note")
        yield Label("Providers", classes="heading")
        yield LiveTable(*COLUMNS, id="tm-providers")
        yield Label("Models", classes="heading")
        yield LiveTable(*COLUMNS, id="tm-models")

    @work(exclusive=True, group="telemetry")
    async def load(self) -> None:
        summary = await self.call(self.api.telemetry())
        if summary is not None:
            self.summary = summary
            self.redraw()

    def action_window(self) -> None:
        self.window = (self.window + 1) % len(WINDOWS)
        self.redraw()

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        label, seconds = WINDOWS[self.window]
        if seconds is None:
            providers = self.summary.get("providers") or {}
            models = self.summary.get("models") or {}
            source = "the server's counters"
        else:
            rows = self.omni.live.since(self.omni.clock() - seconds)
            providers, models = _summaries(rows, "provider"), _summaries(rows, "model")
            source = f"{len(rows)} requests kept here"
        self.query_one("#tm-note", Static).update(
            f"Window: [b]{label}[/b] (w changes it) · from {source}"
        )
        self._fill("#tm-providers", providers)
        self._fill("#tm-models", models)

    def _fill(self, selector: str, stats: dict[str, dict[str, Any]]) -> None:
        slowest = max((s.get("p95_ms") or 0.0 for s in stats.values()), default=0.0)
        rows = []
        for name, s in sorted(stats.items(), key=lambda kv: -int(kv[1].get("count") or 0)):
            share = (s.get("p95_ms") or 0.0) / slowest if slowest else 0.0
            rows.append(
                (name, [fmt.shorten(name, 22), s.get("count", 0), s.get("errors", 0),
                        fmt.ms(s.get("p50_ms")), fmt.ms(s.get("p95_ms")),
                        fmt.ms(s.get("p99_ms")), fmt.ms(s.get("ttft_p50_ms")),
                        fmt.bar(share, 8)])
            )  # fmt: skip
        self.query_one(selector, LiveTable).fill(rows)
