"""Overview: is the gateway well, how busy is it, what does it cost, what needs a look.

Uptime and version from the health check; requests per second and error rate as
sparklines over the last five minutes, latency percentiles, prompt-cache hits and spend
today from the live request history; the response cache's hit rate since the server
started; the most used models today; and alerts: circuits open, accounts cooling down or
needing a new login, providers or accounts switched off, key budgets used up or past
their warning threshold, events the stream lost.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, Sparkline, Static

from omni.tui import format as fmt
from omni.tui.live import Row, failed, percentiles
from omni.tui.views.base import View
from omni.tui.views.usage import budget_level, budget_owner
from omni.tui.widgets.tables import LiveTable, tone

_PER = {"daily": "day", "weekly": "week", "monthly": "month"}
BUCKETS = 60
BUCKET_S = 5.0


class OverviewView(View):
    TITLE = "Overview"
    KEY = "1"
    HELP = "health, traffic, latency, spend and alerts at a glance"

    DEFAULT_CSS = """
    OverviewView #ov-stats { height: auto; }
    OverviewView .spark-row { height: 2; margin-top: 1; }
    OverviewView .spark-row Label { width: 12; }
    OverviewView .spark-row Sparkline { width: 1fr; height: 2; }
    OverviewView .spark-row .now { width: 16; padding-left: 1; }
    OverviewView #ov-errors > .sparkline--max-color { color: $error; }
    OverviewView #ov-latency { height: auto; margin-top: 1; }
    OverviewView #ov-bottom { height: 1fr; margin-top: 1; }
    OverviewView #ov-top { width: 44; height: 1fr; }
    OverviewView #ov-top LiveTable { height: 1fr; }
    OverviewView #ov-alerts-box { width: 1fr; height: 1fr; padding-left: 2; }
    OverviewView #ov-alerts-scroll { height: 1fr; scrollbar-size-vertical: 1; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resilience: dict[str, Any] = {}
        self.providers: list[dict[str, Any]] = []
        self.budgets: list[dict[str, Any]] = []
        self.cache: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="ov-stats")
        with Horizontal(classes="spark-row"):
            yield Label("requests/s")
            yield Sparkline([0.0] * BUCKETS, id="ov-rate")
            yield Static(classes="now", id="ov-rate-now")
        with Horizontal(classes="spark-row"):
            yield Label("error rate")
            yield Sparkline([0.0] * BUCKETS, id="ov-errors")
            yield Static(classes="now", id="ov-errors-now")
        yield Static(id="ov-latency")
        with Horizontal(id="ov-bottom"):
            with Vertical(id="ov-top"):
                yield Label("Top models today", classes="heading")
                yield LiveTable("model", "req", "err", "cost", id="ov-models")
            with Vertical(id="ov-alerts-box"):
                yield Label("Alerts", classes="heading", id="ov-alerts-heading")
                with VerticalScroll(id="ov-alerts-scroll", can_focus=False):
                    yield Static(id="ov-alerts")

    def on_mount(self) -> None:
        self.redraw()

    @work(exclusive=True, group="overview")
    async def load(self) -> None:
        resilience = await self.call(self.api.resilience())
        providers = await self.call(self.api.providers())
        if resilience is not None:
            self.resilience = resilience
        if providers is not None:
            self.providers = providers
        budgets = await self.call(self.api.budgets())
        if budgets is not None:
            self.budgets = budgets
        cache = await self.call(self.api.cache_stats())
        if cache is not None:
            self.cache = cache
        self.redraw()

    def live_row(self, row: Row) -> None:
        self.redraw_soon()

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        app, live = self.omni, self.omni.live
        health = app.health
        today = live.since(live.midnight())
        self.query_one("#ov-stats", Static).update(
            f"[b]omni {health.get('version', '?')}[/b] · up "
            f"{fmt.duration(health.get('uptime_s'))} · {len(self.providers)} providers · "
            f"{len(today)} requests today · spend today [b]{fmt.money(live.spend_today())}[/b]"
        )
        rate, errors = live.buckets(BUCKETS, BUCKET_S)
        self.query_one("#ov-rate", Sparkline).data = rate
        self.query_one("#ov-errors", Sparkline).data = errors
        last_minute = live.since(app.clock() - 60)
        per_s = len(last_minute) / 60
        err = sum(failed(r) for r in last_minute) / len(last_minute) if last_minute else 0.0
        self.query_one("#ov-rate-now", Static).update(f"{per_s:.2f}/s (1 min)")
        self.query_one("#ov-errors-now", Static).update(f"{fmt.percent(err)} (1 min)")
        hour = live.since(app.clock() - 3600)
        latency = percentiles(r["latency_ms"] for r in hour if r.get("latency_ms") is not None)
        ttft = percentiles(r["ttft_ms"] for r in hour if r.get("ttft_ms") is not None)
        cached = sum(1 for r in hour if (r.get("cache_read_tokens") or 0) > 0)
        hit = fmt.percent(cached / len(hour)) if hour else fmt.NONE
        self.query_one("#ov-latency", Static).update(
            f"Last hour: p50 [b]{fmt.ms(latency['p50'])}[/b] · p95 [b]{fmt.ms(latency['p95'])}"
            f"[/b] · p99 [b]{fmt.ms(latency['p99'])}[/b] · TTFT {fmt.ms(ttft['p50'])} · "
            f"cache {hit}\n{self.response_cache()}"
        )
        groups = live.group("model", today)[:8]
        self.query_one("#ov-models", LiveTable).fill(
            [
                (g.name, [fmt.shorten(g.name, 22), g.requests,
                          tone(app, str(g.errors), "error") if g.errors else "0",
                          fmt.money(g.cost)])
                for g in sorted(groups, key=lambda g: -g.requests)
            ]
        )  # fmt: skip
        alerts = self.alerts()
        self.query_one("#ov-alerts", Static).update(
            "\n".join(alerts) if alerts else "[$success]✓ all clear[/]"
        )
        self.query_one("#ov-alerts-heading", Label).update(
            f"Alerts ({len(alerts)})" if alerts else "Alerts"
        )

    def response_cache(self) -> str:
        exact = self.cache.get("exact")
        if not isinstance(exact, dict):
            return "Response cache: —"
        if not exact.get("enabled"):
            return "Response cache: off ('omni cache' turns it on)"
        hits, misses = int(exact.get("hits") or 0), int(exact.get("misses") or 0)
        if not hits + misses:
            return "Response cache: on, nothing looked up yet"
        rate = fmt.percent(hits / (hits + misses))
        return (
            f"Response cache: [b]{rate}[/b] hits ({hits} of {hits + misses}) · saved "
            f"{fmt.money(exact.get('savedUsd'))}"
        )

    def alerts(self) -> list[str]:
        lines = []
        for provider, state in sorted((self.resilience.get("breakers") or {}).items()):
            if state.get("state") == "open":
                lines.append(
                    f"[$error]● breaker open[/] {provider} "
                    f"(retry in {fmt.duration(state.get('retry_in_s'))})"
                )
            elif state.get("state") == "half-open":
                lines.append(f"[$warning]● half-open[/] {provider} (trying one request)")
        for cool in self.resilience.get("cooldowns") or []:
            lines.append(
                f"[$warning]● cooling[/] {cool['provider']}/{cool['account']} "
                f"({fmt.duration(cool.get('cooling_s'))})"
            )
        for provider in self.providers:
            if not provider.get("enabled", True):
                lines.append(f"[$text-muted]○ disabled[/] {provider['id']}")
            for account in provider.get("accounts") or []:
                if not account.get("enabled", True):
                    lines.append(f"[$text-muted]○ disabled[/] {provider['id']}/{account['name']}")
                elif account.get("login") == "needs login":
                    lines.append(f"[$error]● needs login[/] {provider['id']}/{account['name']}")
        for budget in self.budgets:
            level = budget_level(budget)
            limit = float(budget.get("limit") or 0)
            period = str(budget.get("period", "?"))
            per = f"{fmt.dollars(limit)}/{_PER.get(period, period)}"
            if level == "exhausted":
                lines.append(f"[$error]● budget used up[/] {budget_owner(budget)} ({per})")
            elif level == "warning":
                used = float(budget.get("spent") or 0) + float(budget.get("reserved") or 0)
                share = f"{used / limit * 100:.0f}%" if limit else ""
                lines.append(f"[$warning]● budget {share}[/] {budget_owner(budget)} ({per})")
        if self.omni.live.dropped:
            lines.append(f"[$warning]● {self.omni.live.dropped} live events lost[/] (slow link)")
        waiting = self.omni.live.stats.get("queue_waiting")
        if waiting:
            lines.append(f"[$warning]● {waiting} requests waiting for a cap[/]")
        return lines
