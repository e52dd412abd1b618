"""Keys: the local API keys clients use to call omni, listed and managed.

``n`` creates a key (its secret is shown once, then only its prefix exists anywhere),
``e`` switches one on or off, ``d`` revokes it for good, ``b`` sets (or removes) its
budget: a spending limit per day, week or month. The list shows scopes, the models a
key may use, expiry, when it was last used, and the selected key's budget.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from omni.tui import format as fmt
from omni.tui.views.base import View
from omni.tui.views.usage import BUDGET_TONE, budget_level
from omni.tui.widgets.dialogs import ConfirmDialog, FormDialog, TextDialog
from omni.tui.widgets.tables import LiveTable, tone

PERIODS = ["daily", "weekly", "monthly"]
_STATUS = {"active": "success", "disabled": "muted", "expired": "warning", "revoked": "error"}


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class KeysView(View):
    TITLE = "Keys"
    KEY = "9"
    HELP = "API keys: create, switch on/off, revoke, budget"

    BINDINGS = [
        Binding("n", "new", "New"),
        Binding("e", "switch", "On/off"),
        Binding("d", "revoke", "Revoke"),
        Binding("b", "budget", "Budget"),
    ]

    DEFAULT_CSS = """
    KeysView #ky-note { height: auto; border-top: solid $panel; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keys: list[dict[str, Any]] = []
        self.budgets: dict[int, dict[str, Any]] = {}

    def compose(self) -> ComposeResult:
        yield LiveTable(
            "id", "name", "prefix", "status", "expires", "last used", id="ky-table"
        )  # fmt: skip
        yield Static(id="ky-note", classes="note")

    @work(exclusive=True, group="keys")
    async def load(self) -> None:
        keys = await self.call(self.api.keys())
        if keys is None:
            return
        budgets = await self.call(self.api.budgets())
        if budgets is not None:
            self.budgets = {int(b["keyId"]): b for b in budgets}
        self.keys = keys
        self.redraw()

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        app = self.omni
        rows = []
        for k in self.keys:
            status = str(k.get("status") or "active")
            rows.append(
                (str(k["id"]),
                 [k["id"], fmt.shorten(str(k["name"]), 18), k.get("prefix", ""),
                  tone(app, status, _STATUS.get(status, "muted")),
                  (k.get("expires_at") or "never")[:10],
                  (k.get("last_used_at") or "never")[:10]])
            )  # fmt: skip
        self.query_one("#ky-table", LiveTable).fill(rows)
        self.show_detail()

    def on_data_table_row_highlighted(self) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        key = self.chosen()
        if key is None:
            text = "No API keys yet: press [b]n[/b] to create one." if not self.keys else ""
        else:
            models = ", ".join(key.get("models") or []) or "every model"
            text = (
                f"[b]{key['name']}[/b] · scopes {', '.join(key.get('scopes') or [])} · "
                f"{fmt.shorten(models, 40)}\n{self.budget_text(int(key['id']))}\n"
                "Clients send it as 'Authorization: Bearer sk-…'."
            )
        self.query_one("#ky-note", Static).update(text)

    def budget_text(self, key_id: int) -> str:
        budget = self.budgets.get(key_id)
        if budget is None:
            return "No budget ([b]b[/b] sets one)."
        limit, spent = float(budget.get("limit") or 0), float(budget.get("spent") or 0)
        share = f" ({spent / limit * 100:.0f}%)" if limit else ""
        colour = {"error": "$error", "warning": "$warning", "success": "$success"}[
            BUDGET_TONE[budget_level(budget)]
        ]
        left = float(budget.get("resetsAt") or 0) - self.omni.clock()
        return (
            f"Budget {fmt.dollars(limit)} {budget.get('period')}: [{colour}]"
            f"{fmt.dollars(spent)} spent{share}[/], resets in {fmt.duration(left)}."
        )

    def chosen(self) -> dict[str, Any] | None:
        key = self.selected_key("ky-table")
        return next((k for k in self.keys if str(k["id"]) == key), None)

    def action_new(self) -> None:
        def submitted(values: dict[str, Any] | None) -> None:
            if values:
                self.create(values)

        self.app.push_screen(
            FormDialog(
                "New API key",
                [("name", "Name (who or what uses it)", ""),
                 ("scopes", "Scopes: chat (client API), admin (management API)", "chat"),
                 ("models", "Models it may use, comma-separated (empty: all)", ""),
                 ("expires_at", "Expires: 30d, 12h, 2026-12-31 (empty: never)", "")],
                required=("name",),
            ),
            submitted,
        )  # fmt: skip

    @work(group="key-action")
    async def create(self, values: dict[str, Any]) -> None:
        created = await self.call(
            self.api.create_key(
                values["name"], scopes=_split(values.get("scopes") or "chat"),
                models=_split(values.get("models") or ""),
                expires_at=values.get("expires_at") or None,
            ),
            "Creating the key",
        )  # fmt: skip
        if created is None:
            return
        self.app.push_screen(
            TextDialog(
                f"Key {created.get('name')} created",
                f"[b]{created.get('key')}[/b]\n\nCopy it now: omni keeps only a hash and "
                "cannot show it again.",
            )
        )
        self.refresh_data()

    def action_switch(self) -> None:
        key = self.chosen()
        if key is not None:
            self.toggle(key)

    @work(group="key-action")
    async def toggle(self, key: dict[str, Any]) -> None:
        enabled = not key.get("enabled", True)
        if await self.call(self.api.edit_key(int(key["id"]), enabled=enabled), "Switching"):
            self.done(f"key {key['name']} switched {'on' if enabled else 'off'}")
            self.refresh_data()

    def action_revoke(self) -> None:
        key = self.chosen()
        if key is None:
            return

        def answered(yes: bool | None) -> None:
            if yes and key is not None:
                self.revoke(key)

        self.app.push_screen(
            ConfirmDialog(
                f"Revoke key {key['name']} ({key.get('prefix')})?\n"
                "Clients using it are refused from the next request on; this cannot be undone."
            ),
            answered,
        )

    def action_budget(self) -> None:
        key = self.chosen()
        if key is None:
            return
        budget = self.budgets.get(int(key["id"]))
        limit = "" if budget is None else f"{float(budget.get('limit') or 0):g}"
        period = "monthly" if budget is None else str(budget.get("period") or "monthly")
        warn = 80.0 if budget is None else float(budget.get("warnAt") or 0.8) * 100

        def submitted(values: dict[str, Any] | None) -> None:
            if values is not None and key is not None:
                self.save_budget(key, values, budget is not None)

        self.app.push_screen(
            FormDialog(
                f"Budget of key {key['name']}",
                [("limit", "Limit in US dollars per period (at list prices)", limit),
                 ("period", "Period (UTC)", period),
                 ("warn", "Warn from this % of the limit on", f"{warn:g}")],
                choices={"period": PERIODS},
                hint="Empty limit: no budget. Requests past the limit are refused until the "
                "period resets.",
            ),
            submitted,
        )  # fmt: skip

    @work(group="key-action")
    async def save_budget(self, key: dict[str, Any], values: dict[str, Any], had: bool) -> None:
        raw = str(values.get("limit") or "").strip().lstrip("$")
        if not raw:
            removed = (
                await self.call(self.api.remove_budget(int(key["id"])), "Removing") if had else None
            )
            if removed is not None:
                self.done(f"key {key['name']} has no budget now")
                self.refresh_data()
            return
        try:
            limit = float(raw)
            warn = float(str(values.get("warn") or "80").rstrip("%")) / 100
        except ValueError:
            self.notify("The limit and the warning share must be numbers.", severity="error")
            return
        period = str(values.get("period") or "monthly")
        saved = await self.call(
            self.api.set_budget(int(key["id"]), limit, period, warn), "Setting the budget"
        )
        if saved is not None:
            self.done(f"key {key['name']}: {fmt.dollars(limit)} per {period} period")
            self.refresh_data()

    @work(group="key-action")
    async def revoke(self, key: dict[str, Any]) -> None:
        if await self.call(self.api.revoke_key(int(key["id"])), "Revoking") is not None:
            self.done(f"key {key['name']} revoked")
            self.refresh_data()
