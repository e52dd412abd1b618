"""Sessions: the conversations the gateway keeps on one account (session affinity).

A client that names its conversation (a session header or the Responses API's previous
response) is kept on the account that served it, so prompt caches stay warm. The server
lists each pinned conversation with its provider, account and how long the pin lasts;
the countdown runs here between polls.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.widgets import Static

from omni.tui import format as fmt
from omni.tui.views.base import View
from omni.tui.widgets.tables import LiveTable


class SessionsView(View):
    TITLE = "Sessions"
    KEY = "3"
    HELP = "conversations pinned to an account, and for how long"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sessions: list[dict[str, Any]] = []
        self.accounts: dict[int, str] = {}
        self.loaded_at = 0.0

    def compose(self) -> ComposeResult:
        yield Static(id="ss-note", classes="note")
        yield LiveTable("session", "provider", "account", "pinned for", id="ss-table")

    @work(exclusive=True, group="sessions")
    async def load(self) -> None:
        sessions = await self.call(self.api.sessions())
        if sessions is None:
            return
        if any(s.get("account_id") not in self.accounts for s in sessions):
            providers = await self.call(self.api.providers()) or []
            self.accounts = {a["id"]: a["name"] for p in providers for a in p.get("accounts") or []}
        self.sessions, self.loaded_at = sessions, self.omni.clock()
        self.redraw()

    def tick(self) -> None:
        if self.sessions:
            self.redraw()

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        elapsed = self.omni.clock() - self.loaded_at
        rows = []
        for s in self.sessions:
            left = max(0.0, float(s.get("expires_in_s") or 0) - elapsed)
            account = self.accounts.get(s.get("account_id") or -1, f"#{s.get('account_id')}")
            session = str(s.get("session", "?"))
            rows.append(
                (f"{session}\t{s.get('provider')}",
                 [fmt.shorten(session, 36), s.get("provider", "?"), account,
                  fmt.duration(left)])
            )  # fmt: skip
        self.query_one("#ss-table", LiveTable).fill(rows)
        self.query_one("#ss-note", Static).update(
            f"{len(rows)} conversations pinned to an account."
            if rows
            else "No conversation is pinned right now. Clients that send a session id "
            "(or chain Responses) stay on one account while it lasts."
        )
