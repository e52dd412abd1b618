"""Providers: every provider and its accounts with their state, and what to do about it.

A provider's row shows its circuit (closed, open with the seconds left, half-open) or
that it is switched off, with its request count, errors and latency since the server
started; each account's row shows whether it is ready, cooling down (with a countdown)
or switched off, and for subscription (OAuth) accounts whether the sign-in needs
renewing by hand ("needs login") or its access token runs out within ten minutes
("token expiring", counting down: the server renews tokens before that, so it means
renewing failed). Actions on the selected row: test it with one tiny request, switch it
on or off, reset breakers and cooldowns, add an account (or a new provider).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from omni.tui import format as fmt
from omni.tui.views.base import View
from omni.tui.widgets.dialogs import ConfirmDialog, FormDialog
from omni.tui.widgets.tables import LiveTable, tone

EXPIRING_S = 600.0  # an access token closer than this to its end is shown as expiring


def _timestamp(iso: object) -> float | None:
    if not isinstance(iso, str) or not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


class ProvidersView(View):
    TITLE = "Providers"
    KEY = "2"
    HELP = "providers and accounts: status, traffic, test, on/off"

    BINDINGS = [
        Binding("t", "test", "Test"),
        Binding("e", "switch", "On/off"),
        Binding("b", "reset", "Reset"),
        Binding("a", "add", "Add"),
    ]
    DEFAULT_CSS = """
    ProvidersView #pv-detail { height: auto; max-height: 6; border-top: solid $panel; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.providers: list[dict[str, Any]] = []
        self.telemetry: dict[str, Any] = {}
        self.resilience: dict[str, Any] = {}
        self.loaded_at = 0.0
        self.results: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield LiveTable("provider / account", "status", "req", "err", "p50", "p95", id="pv-table")
        yield Static(id="pv-detail", classes="note")

    @work(exclusive=True, group="providers")
    async def load(self) -> None:
        providers = await self.call(self.api.providers())
        if providers is None:
            return
        telemetry = await self.call(self.api.telemetry())
        resilience = await self.call(self.api.resilience())
        self.providers = providers
        self.telemetry = telemetry or {}
        self.resilience = resilience or {}
        self.loaded_at = self.omni.clock()
        self.redraw()

    def tick(self) -> None:
        if (
            self.resilience.get("cooldowns")
            or self.resilience.get("breakers")
            or any(a.get("expires_at") for p in self.providers for a in p.get("accounts") or [])
        ):
            self.redraw()

    def _left(self, seconds: float | None) -> float:
        return max(0.0, (seconds or 0.0) - (self.omni.clock() - self.loaded_at))

    def _provider_status(self, provider: dict[str, Any]) -> Any:
        app = self.omni
        if not provider.get("enabled", True):
            return tone(app, "disabled", "muted")
        state = (self.resilience.get("breakers") or {}).get(provider["id"])
        if state and state.get("state") == "open":
            return tone(app, f"breaker open {fmt.duration(self._left(state.get('retry_in_s')))}",
                        "error")  # fmt: skip
        if state and state.get("state") == "half-open":
            return tone(app, "half-open", "warning")
        return tone(app, "ok", "success")

    def _token_left(self, account: dict[str, Any]) -> float | None:
        """Seconds until an OAuth account's access token ends (None: not known)."""
        expires = _timestamp(account.get("expires_at"))
        return None if expires is None else expires - self.omni.clock()

    def _account_status(self, provider: dict[str, Any], account: dict[str, Any]) -> Any:
        app = self.omni
        if not account.get("enabled", True):
            return tone(app, "disabled", "muted")
        if account.get("login") == "needs login":
            return tone(app, "needs login", "error")
        for cool in self.resilience.get("cooldowns") or []:
            if cool.get("account_id") == account.get("id"):
                left = self._left(cool.get("cooling_s"))
                if left > 0:
                    return tone(app, f"cooling {fmt.duration(left)}", "warning")
        token = self._token_left(account) if account.get("auth") == "oauth" else None
        if token is not None and token <= 0:
            return tone(app, "token expired", "error")
        if token is not None and token < EXPIRING_S:
            return tone(app, f"token expiring {fmt.duration(token)}", "warning")
        if not provider.get("enabled", True):
            return tone(app, "provider off", "muted")
        return tone(app, "ready", "success")

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        rows: list[tuple[str, list[Any]]] = []
        stats = self.telemetry.get("providers") or {}
        for provider in self.providers:
            pid = provider["id"]
            s = stats.get(pid) or {}
            errors = s.get("errors", 0)
            rows.append(
                (
                    pid,
                    [f"[b]{pid}[/b] ({provider.get('format', '?')})",
                     self._provider_status(provider), s.get("count", 0),
                     tone(self.omni, str(errors), "error") if errors else "0",
                     fmt.ms(s.get("p50_ms")), fmt.ms(s.get("p95_ms"))],
                )
            )  # fmt: skip
            for account in provider.get("accounts") or []:
                rows.append(
                    (
                        f"{pid}\t{account['name']}",
                        [f"  └ {account['name']}", self._account_status(provider, account),
                         "", "", "", ""],
                    )
                )  # fmt: skip
        table = self.query_one("#pv-table", LiveTable)
        table.fill(rows)
        if not rows:
            self.query_one("#pv-detail", Static).update(
                "No providers yet: press [b]a[/b] to add one (or 'omni providers add')."
            )
        else:
            self.show_detail()

    def on_data_table_row_highlighted(self) -> None:
        self.show_detail()

    def selection(self) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        key = self.selected_key("pv-table")
        if key is None:
            return None
        pid, _, account = key.partition("\t")
        provider = next((p for p in self.providers if p["id"] == pid), None)
        if provider is None:
            return None
        found = next((a for a in provider.get("accounts") or [] if a["name"] == account), None)
        return provider, found

    def show_detail(self) -> None:
        chosen = self.selection()
        if chosen is None:
            return
        provider, account = chosen
        where = provider.get("base_url") or "catalog default URL"
        models = len(provider.get("models") or [])
        text = f"[b]{provider['id']}[/b] · {where} · {models} models"
        if account is not None:
            text += f" · account [b]{account['name']}[/b] ({account.get('auth', '?')})"
            text += self._login_detail(provider, account)
        key = self.selected_key("pv-table") or ""
        if key in self.results:
            text += f"\nlast test: {self.results[key]}"
        self.query_one("#pv-detail", Static).update(text)

    def _login_detail(self, provider: dict[str, Any], account: dict[str, Any]) -> str:
        if account.get("auth") != "oauth":
            return ""
        if account.get("login") == "needs login":
            why = f": {account['login_error']}" if account.get("login_error") else ""
            return (
                f"\n[$error]needs login[/]{why} · run 'omni providers login {provider['id']} "
                f"--account {account['name']}'"
            )
        left = self._token_left(account)
        if left is None:
            return "\nsigned in"
        expires = _timestamp(account.get("expires_at")) or 0.0
        if left <= 0:
            return f"\nsigned in; the access token ended at {fmt.clock(expires)} (not renewed)"
        return (
            f"\nsigned in; the access token runs until {fmt.clock(expires)} ({fmt.duration(left)})"
        )

    def action_test(self) -> None:
        chosen = self.selection()
        if chosen is not None:
            provider, account = chosen
            self.run_test(provider["id"], account["name"] if account else None)

    @work(group="provider-action")
    async def run_test(self, provider: str, account: str | None) -> None:
        key = provider if account is None else f"{provider}\t{account}"
        self.results[key] = "testing…"
        self.show_detail()
        result = await self.call(self.api.test_provider(provider, account), "Test")
        if result is None:
            self.results.pop(key, None)
            self.show_detail()
            return
        who = f"{result.get('provider')}/{result.get('account')} {result.get('model')}"
        if result.get("ok"):
            self.results[key] = f"[$success]ok[/] {who} in {fmt.ms(result.get('latency_ms'))}"
            self.done(f"{who}: answered in {fmt.ms(result.get('latency_ms'))}")
        else:
            error = result.get("error") or f"HTTP {result.get('status')}"
            self.results[key] = f"[$error]failed[/] {who}: {error}"
            self.notify(f"{who}: {error}", severity="error", timeout=8)
        self.show_detail()

    def action_switch(self) -> None:
        chosen = self.selection()
        if chosen is not None:
            provider, account = chosen
            self.toggle(provider, account)

    @work(group="provider-action")
    async def toggle(self, provider: dict[str, Any], account: dict[str, Any] | None) -> None:
        if account is None:
            enabled = not provider.get("enabled", True)
            done = await self.call(
                self.api.edit_provider(provider["id"], enabled=enabled), "Switching"
            )
            what = provider["id"]
        else:
            enabled = not account.get("enabled", True)
            done = await self.call(
                self.api.edit_account(provider["id"], account["name"], enabled=enabled),
                "Switching",
            )
            what = f"{provider['id']}/{account['name']}"
        if done is not None:
            self.done(f"{what} switched {'on' if enabled else 'off'}")
            self.refresh_data()

    def action_reset(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.omni.reset_resilience()

        self.app.push_screen(
            ConfirmDialog(
                "Reset every circuit breaker and account cooldown?\n"
                "Providers and accounts resting after failures take requests again at once."
            ),
            answered,
        )

    def action_add(self) -> None:
        chosen = self.selection()
        provider = chosen[0] if chosen else None
        fields = [
            ("provider", "Provider (catalog id, or a new name with a base URL)",
             provider["id"] if provider else ""),
            ("account", "Account name", "default" if provider is None else ""),
            ("api_key", "API key (stored encrypted)", ""),
            ("base_url", "Base URL (only for providers outside the catalog)",
             (provider.get("base_url") or "") if provider and not provider.get("catalog_id")
             else ""),
        ]  # fmt: skip

        def submitted(values: dict[str, Any] | None) -> None:
            if values:
                self.add_account(values, provider)

        self.app.push_screen(
            FormDialog("Add an account", fields, required=("provider", "account"),
                       secret=("api_key",)),
            submitted,
        )  # fmt: skip

    @work(group="provider-action")
    async def add_account(self, values: dict[str, Any], known: dict[str, Any] | None) -> None:
        fields: dict[str, Any] = {
            "account": values["account"],
            "api_key": values.get("api_key") or None,
            "base_url": values.get("base_url") or None,
        }
        if known is not None and known["id"] == values["provider"]:
            fields["format"] = None if known.get("catalog_id") else known.get("format")
            fields["sync_models"] = False
        result = await self.call(self.api.add_account(values["provider"], **fields), "Adding")
        if result is not None:
            self.done(f"added account {values['account']} to {values['provider']}")
            self.refresh_data()
