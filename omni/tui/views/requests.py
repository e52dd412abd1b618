"""Requests: the live request log, newest on top, and each request's full story.

Rows arrive from the event stream as the gateway records them. Enter opens the request:
what was asked and what answered, tokens, latency, cost, every attempt on its route
(skipped or failed accounts and why), and how the same model would be routed now.
``f`` shows failures only; ``p`` pauses the list while you read it; ``m`` loads older
requests. On a wide terminal the key, provider and cache columns join in.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.widgets import Static

from omni.tui import format as fmt
from omni.tui.live import Row, failed, served_model
from omni.tui.views.base import View
from omni.tui.widgets.dialogs import TextDialog
from omni.tui.widgets.tables import LiveTable, tone

NARROW = ("time", "model (asked → served)", "st", "tokens", "latency", "cost")
WIDE = ("time", "key", "asked", "served", "provider", "st", "tokens", "latency", "cost",
        "cache")  # fmt: skip
SHOWN = 500


def _tokens(row: Row) -> str:
    return f"{fmt.count(row.get('input_tokens'))}/{fmt.count(row.get('output_tokens'))}"


class RequestsView(View):
    TITLE = "Requests"
    KEY = "6"
    HELP = "the live request log; Enter shows a request and its route"

    BINDINGS = [
        Binding("enter", "open", "Detail", show=False),
        Binding("f", "failures", "Failures only"),
        Binding("p", "pause", "Pause"),
        Binding("m", "more", "Older"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.failures_only = False
        self.paused = False
        self.wide = False
        self.key_names: dict[int, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="rq-note", classes="note")
        yield LiveTable(*NARROW, id="rq-table")

    def on_resize(self, event: Resize) -> None:
        wide = event.size.width >= 110
        if wide != self.wide:
            self.wide = wide
            self.query_one("#rq-table", LiveTable).set_columns(WIDE if wide else NARROW)
            self.redraw()

    @work(exclusive=True, group="requests")
    async def load(self) -> None:
        keys = await self.call(self.api.keys())
        if keys is not None:
            names = {int(k["id"]): str(k["name"]) for k in keys}
            if names != self.key_names:
                self.key_names = names
                self.redraw()

    def live_row(self, row: Row) -> None:
        if not self.paused:
            self.redraw_soon()

    def _cells(self, row: Row) -> list[Any]:
        app = self.omni
        status = int(row.get("status") or 0)
        st = tone(app, str(status), "error" if failed(row) else "success")
        asked = str(row.get("requested_model") or "—")
        served = served_model(row)
        cost = fmt.money(row.get("cost_usd"))
        latency = fmt.ms(row.get("latency_ms"))
        if not self.wide:
            model = asked if asked == served else f"{asked} → {served}"
            return [fmt.clock(row.get("ts")), fmt.shorten(model, 34), st, _tokens(row),
                    latency, cost]  # fmt: skip
        key_id = row.get("api_key_id")
        key = "—" if key_id is None else self.key_names.get(key_id, f"#{key_id}")
        cached = row.get("cache_read_tokens") or 0
        return [fmt.clock(row.get("ts")), fmt.shorten(key, 12), fmt.shorten(asked, 24),
                fmt.shorten(str(row.get("model") or "—"), 22),
                row.get("provider_id") or "—", st, _tokens(row), latency, cost,
                tone(app, fmt.count(cached), "success") if cached else "—"]  # fmt: skip

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        live = self.omni.live
        rows = [r for r in live.rows() if not self.failures_only or failed(r)][:SHOWN]
        table = self.query_one("#rq-table", LiveTable)
        table.fill([(str(r.get("request_id") or r.get("id")), self._cells(r)) for r in rows])
        state = "[$warning]paused[/] (p resumes)" if self.paused else "live"
        which = "failures" if self.failures_only else "requests"
        more = "" if live.complete else " · m loads older"
        self.query_one("#rq-note", Static).update(
            f"{len(rows)} {which} shown of {len(live)} kept · {state}{more} · Enter: detail"
        )

    def action_failures(self) -> None:
        self.failures_only = not self.failures_only
        self.redraw()

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.redraw()

    @work(exclusive=True, group="requests-more")
    async def action_more(self) -> None:
        got = await self.call(self.omni.load_older())
        if got is not None:
            self.done(f"loaded {got} older requests" if got else "no older requests")
            self.redraw()

    def on_data_table_row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        key = self.selected_key("rq-table")
        row = next(
            (r for r in self.omni.live.rows() if str(r.get("request_id") or r.get("id")) == key),
            None,
        )
        if row is None:
            return
        dialog = TextDialog(f"Request {row.get('request_id', '')}", self.describe(row))
        self.app.push_screen(dialog)
        self.explain_into(dialog, row)

    def describe(self, row: Row, explained: str = "[$text-muted]asking the server…[/]") -> str:
        key_id = row.get("api_key_id")
        lines = [
            f"[b]when[/b]      {fmt.day(row.get('ts') or 0)} {fmt.clock(row.get('ts'))}",
            f"[b]endpoint[/b]  {row.get('endpoint')} ({row.get('client_dialect')}"
            f"{', stream' if row.get('stream') else ''})",
            f"[b]asked[/b]     {row.get('requested_model')}"
            + (f"  (combo {row['combo']})" if row.get("combo") else ""),
            f"[b]served[/b]    {served_model(row)} · account #{row.get('account_id')}",
            f"[b]status[/b]    {row.get('status')}"
            + (f" · [$error]{row['error']}[/]" if row.get("error") else ""),
            f"[b]tokens[/b]    in {row.get('input_tokens')} · out {row.get('output_tokens')} · "
            f"cache read {row.get('cache_read_tokens') or 0} · "
            f"reasoning {row.get('reasoning_tokens') or 0}",
            f"[b]latency[/b]   {fmt.ms(row.get('latency_ms'))} · first token "
            f"{fmt.ms(row.get('ttft_ms'))}",
            f"[b]cost[/b]      {fmt.money(row.get('cost_usd'))}",
            "[b]key[/b]       "
            + ("none" if key_id is None else self.key_names.get(key_id, f"#{key_id}")),
            "",
            f"[b $accent]Route taken[/] ({row.get('attempts', 1)} attempt(s))",
        ]
        route = row.get("route") or []
        if route:
            lines += [
                f"  {n}. {step.get('provider')}/{step.get('account')} → {step.get('outcome')}"
                for n, step in enumerate(route, 1)
            ]
        else:
            lines.append(f"  first try: {row.get('provider_id') or '—'}")
        lines += ["", "[b $accent]How this model routes now[/]", explained]
        return "\n".join(lines)

    @work(group="requests-explain")
    async def explain_into(self, dialog: TextDialog, row: Row) -> None:
        model = str(row.get("requested_model") or "")
        plan = await self.call(self.api.explain(model)) if model else None
        if plan is None:
            text = "[$text-muted]no explanation available[/]"
        elif plan.get("error"):
            text = f"[$error]{plan['error']}[/]"
        else:
            head = f"  combo {plan['combo']}\n" if plan.get("combo") else ""
            text = head + "\n".join(
                f"  {n}. {t.get('provider')}/{t.get('account')} {t.get('model')}: {t.get('status')}"
                for n, t in enumerate(plan.get("targets") or [], 1)
            )
        if dialog in self.app.screen_stack:
            dialog.set_body(self.describe(row, text or "  no targets"))
