"""Usage & cost: requests, tokens and spend by day, provider, model or API key, and the
spending limits (budgets) of API keys.

Summed from the request history the dashboard keeps (the newest requests of the log, and
every request since); ``m`` loads older pages when a longer span is wanted, and the note
says which span the sums cover. Budgets come from the server (``GET /api/usage/budget``,
what the running gateway counts, so they hold whatever the dashboard has seen): a bar of
spent against the limit per key, in the warning colour from the key's warning threshold
on and the error colour once it is used up, with what is left and when it resets.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, Static

from omni.tui import format as fmt
from omni.tui.live import GROUPINGS
from omni.tui.views.base import View
from omni.tui.widgets.tables import LiveTable, tone


def budget_level(budget: dict[str, Any]) -> str:
    """``exhausted`` (nothing left), ``warning`` (past the warning threshold, counting
    what requests in flight have set aside, as the gateway does) or ``ok``."""
    limit = float(budget.get("limit") or 0)
    spent = float(budget.get("spent") or 0)
    used = spent + float(budget.get("reserved") or 0)
    if spent >= limit:
        return "exhausted"
    if used >= float(budget.get("warnAt") or 1) * limit:
        return "warning"
    return "ok"


def budget_owner(budget: dict[str, Any]) -> str:
    return str(budget.get("keyName") or f"key #{budget.get('keyId')}")


BUDGET_TONE = {"exhausted": "error", "warning": "warning", "ok": "success"}


class UsageView(View):
    TITLE = "Usage"
    KEY = "7"
    HELP = "usage and cost by day, provider, model or key; budgets"

    BINDINGS = [
        Binding("g", "group", "Group by"),
        Binding("m", "more", "Older"),
    ]
    DEFAULT_CSS = """
    UsageView #us-budgets { height: auto; max-height: 6; }
    UsageView #us-budgets-note { height: auto; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.grouping = 0
        self.key_names: dict[int, str] = {}
        self.budgets: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Static(id="us-note", classes="note")
        yield LiveTable("by day", "req", "err", "tokens in/out", "cost", "share", id="us-table")
        yield Static(id="us-total", classes="note")
        yield Label("Budgets", classes="heading")
        budgets = LiveTable("key", "period", "spent of limit", "left", "resets in", id="us-budgets")
        budgets.show_cursor = False  # a highlighted row would hide its warning colour
        budgets.can_focus = False
        yield budgets
        yield Static(id="us-budgets-note", classes="note")

    @work(exclusive=True, group="usage")
    async def load(self) -> None:
        keys = await self.call(self.api.keys())
        if keys is not None:
            self.key_names = {int(k["id"]): str(k["name"]) for k in keys}
        budgets = await self.call(self.api.budgets())
        if budgets is not None:
            self.budgets = budgets
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
            f"{fmt.money(live.spend_today())}"
        )
        self.draw_budgets()

    def draw_budgets(self) -> None:
        app, now = self.omni, self.omni.clock()
        rows = []
        for b in self.budgets:
            limit, spent = float(b.get("limit") or 0), float(b.get("spent") or 0)
            share = spent / limit if limit else 1.0
            level = budget_level(b)
            used = (f"{fmt.bar(share, 10)} {fmt.dollars(spent)}/{fmt.dollars(limit)} "
                    f"{min(share, 9.99) * 100:3.0f}%")  # fmt: skip
            rows.append(
                (str(b.get("keyId")),
                 [fmt.shorten(budget_owner(b), 16), b.get("period", "?"),
                  tone(app, used, BUDGET_TONE[level]), fmt.dollars(b.get("remaining")),
                  fmt.duration(float(b.get("resetsAt") or now) - now)])
            )  # fmt: skip
        table = self.query_one("#us-budgets", LiveTable)
        table.fill(rows)
        table.display = bool(rows)
        note = self.query_one("#us-budgets-note", Static)
        note.display = not rows
        note.update("No budgets: set one for a key on Keys ([b]b[/b]) or with 'omni budget set'.")
