"""Usage & cost: requests, tokens and spend by day, provider, model or API key.

Summed from the request history the dashboard keeps (the newest requests of the log, and
every request since); ``m`` loads older pages when a longer span is wanted, and the note
says which span the sums cover. The server has no budget API yet, so no budget bars:
the note says so rather than showing empty ones.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from omni.tui import format as fmt
from omni.tui.live import GROUPINGS
from omni.tui.views.base import View
from omni.tui.widgets.tables import LiveTable, tone


class UsageView(View):
    TITLE = "Usage"
    KEY = "7"
    HELP = "requests, tokens and cost by day, provider, model or key"

    BINDINGS = [
        Binding("g", "group", "Group by"),
        Binding("m", "more", "Older"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.grouping = 0
        self.key_names: dict[int, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="us-note", classes="note")
        yield LiveTable("by day", "req", "err", "tokens in/out", "cost", "share", id="us-table")
        yield Static(id="us-total", classes="note")

    @work(exclusive=True, group="usage")
    async def load(self) -> None:
        keys = await self.call(self.api.keys())
        if keys is not None:
            self.key_names = {int(k["id"]): str(k["name"]) for k in keys}
        self.redraw()

    def action_group(self) -> None:
        self.grouping = (self.grouping + 1) % len(GROUPINGS)
        self.query_one("#us-table", LiveTable).set_columns(
            [f"by {GROUPINGS[self.grouping]}", "req", "err", "tokens in/out", "cost", "share"]
        )
        self.redraw()

    @work(exclusive=True, group="usage-more")
    async def action_more(self) -> None:
        got = await self.call(self.omni.load_older())
        if got is not None:
            self.done(f"loaded {got} older requests" if got else "no older requests")
            self.redraw()

    def live_row(self, row: dict[str, Any]) -> None:
        self.redraw_soon()

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        app, live = self.omni, self.omni.live
        by = GROUPINGS[self.grouping]
        groups = live.group(by, key_names=self.key_names)
        total_cost = sum(g.cost for g in groups)
        rows = []
        for g in groups:
            share = g.cost / total_cost if total_cost else 0.0
            rows.append(
                (g.name, [fmt.shorten(g.name, 26), g.requests,
                          tone(app, str(g.errors), "error") if g.errors else "0",
                          f"{fmt.count(g.input_tokens)}/{fmt.count(g.output_tokens)}",
                          fmt.money(g.cost), f"{fmt.bar(share, 8)} {share * 100:3.0f}%"])
            )  # fmt: skip
        self.query_one("#us-table", LiveTable).fill(rows)
        rows_kept = live.rows()
        span = (
            f"{fmt.day(rows_kept[-1].get('ts') or 0)} → {fmt.day(rows_kept[0].get('ts') or 0)}"
            if rows_kept
            else "no requests yet"
        )
        cover = "all" if live.complete else "newest (m: older)"
        self.query_one("#us-note", Static).update(
            f"[b]By {by}[/b] (g changes it) · {len(rows_kept)} requests ({cover}), {span}"
        )
        tokens = sum(g.input_tokens + g.output_tokens for g in groups)
        self.query_one("#us-total", Static).update(
            f"Total [b]{fmt.money(total_cost)}[/b] · {fmt.count(tokens)} tokens · today "
            f"{fmt.money(live.spend_today())} · budgets: none (no budget API yet)"
        )
