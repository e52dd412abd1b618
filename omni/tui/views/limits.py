"""Rate limits: the operator caps and their use, the wait queue, what is resting and
for how long.

Caps (``omni limits`` / ``PUT /api/rate-limit``) per provider, model, account or API key
(shown by the key's name) show requests and tokens in the last minute against the limit,
with bars, and requests in flight against the concurrency cap. Accounts cooling down
after rate limits or failures and providers whose circuit is open count down to the
second between polls.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, Static

from omni.tui import format as fmt
from omni.tui.views.base import View
from omni.tui.widgets.dialogs import ConfirmDialog
from omni.tui.widgets.tables import LiveTable, tone


def _use(used: float, limit: float | None, width: int = 8) -> str:
    if not limit:
        return f"{fmt.count(used)} (no cap)"
    return f"{fmt.bar(used / limit, width)} {fmt.count(used)}/{fmt.count(limit)}"


class LimitsView(View):
    TITLE = "Limits"
    KEY = "4"
    HELP = "caps and their use, the queue, cooldowns and open circuits"

    BINDINGS = [Binding("b", "reset", "Reset cooldowns")]
    DEFAULT_CSS = """
    LimitsView #lm-caps { height: 1fr; }
    LimitsView #lm-resting { height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.limits: dict[str, Any] = {}
        self.breakers: dict[str, Any] = {}
        self.key_names: dict[str, str] = {}
        self.loaded_at = 0.0

    def compose(self) -> ComposeResult:
        yield Static(id="lm-queue", classes="note")
        yield Label("Caps (last 60 s)", classes="heading")
        yield LiveTable("scope", "requests/min", "tokens/min", "in flight", id="lm-caps")
        yield Label("Resting", classes="heading")
        yield LiveTable("what", "why", "back in", id="lm-resting")

    @work(exclusive=True, group="limits")
    async def load(self) -> None:
        limits = await self.call(self.api.rate_limits())
        if limits is None:
            return
        resilience = await self.call(self.api.resilience()) or {}
        scopes = [str(cap.get("scope")) for cap in limits.get("caps") or []]
        if any(s.startswith("key:") and s[4:] not in self.key_names for s in scopes):
            keys = await self.call(self.api.keys()) or []
            self.key_names = {str(k["id"]): str(k["name"]) for k in keys}
        self.limits, self.breakers = limits, resilience.get("breakers") or {}
        self.loaded_at = self.omni.clock()
        self.redraw()

    def scope(self, scope: str) -> str:
        """A cap's scope as the user knows it: API keys by name."""
        kind, _, name = scope.partition(":")
        if kind == "key":
            return f"key {self.key_names[name]} (#{name})" if name in self.key_names else scope
        return scope

    def tick(self) -> None:
        if self.limits.get("cooldowns") or self.breakers:
            self.redraw()

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        app = self.omni
        queue = self.limits.get("queue") or {}
        waiting = int(queue.get("waiting") or 0)
        self.query_one("#lm-queue", Static).update(
            f"Queue: [b]{waiting}[/b] waiting (room for {queue.get('depth', '?')}, "
            f"up to {fmt.duration(queue.get('wait_s'))} each) · caps: 'omni limits'"
        )
        caps = []
        for cap in self.limits.get("caps") or []:
            in_flight = int(cap.get("in_flight") or 0)
            conc = cap.get("concurrency")
            caps.append(
                (
                    str(cap["scope"]),
                    [fmt.shorten(self.scope(str(cap["scope"])), 26),
                     _use(cap.get("requests_last_minute") or 0, cap.get("rpm")),
                     _use(cap.get("tokens_last_minute") or 0, cap.get("tpm")),
                     f"{in_flight}/{conc}" if conc else str(in_flight)],
                )
            )  # fmt: skip
        table = self.query_one("#lm-caps", LiveTable)
        table.fill(caps or [("none", [tone(app, "no caps set", "muted"), "", "", ""])])
        elapsed = app.clock() - self.loaded_at
        resting = []
        for pid, state in sorted(self.breakers.items()):
            left = max(0.0, float(state.get("retry_in_s") or 0) - elapsed)
            kind = str(state.get("state"))
            resting.append(
                (
                    f"breaker\t{pid}",
                    [pid, tone(app, f"circuit {kind}, {state.get('failures', 0)} failures",
                               "error" if kind == "open" else "warning"),
                     fmt.duration(left) if kind == "open" else "trial"],
                )
            )  # fmt: skip
        for cool in self.limits.get("cooldowns") or []:
            left = max(0.0, float(cool.get("cooling_s") or 0) - elapsed)
            resting.append(
                (
                    f"account\t{cool.get('account_id')}",
                    [f"{cool.get('provider')}/{cool.get('account')}",
                     tone(app, "account cooling down", "warning"), fmt.duration(left)],
                )
            )  # fmt: skip
        self.query_one("#lm-resting", LiveTable).fill(
            resting or [("none", [tone(app, "nothing is resting", "success"), "", ""])]
        )

    def action_reset(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.omni.reset_resilience()

        self.app.push_screen(
            ConfirmDialog("Reset every circuit breaker and account cooldown now?"), answered
        )
