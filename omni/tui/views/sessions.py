"""Sessions: the conversations clients are having through the gateway, and the account
each is kept on (session affinity).

A client that names its conversation (``prompt_cache_key``, a session header, Claude
Code's user id, the Responses API's previous response) is tracked while it is active
(the last 30 minutes): which API key and model it uses, its requests, tokens and cost,
when it was last seen, and the account it is pinned to so prompt caches stay warm, with
how long the pin lasts. The "last seen" times and the pins count on here between polls.
The detail line below the table tells everything about the selected conversation.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.events import Resize
from textual.widgets import Static

from omni.tui import format as fmt
from omni.tui.views.base import View
from omni.tui.widgets.tables import LiveTable, tone

NARROW = ("session", "key", "model", "req", "tokens", "seen", "pinned to")
WIDE = ("session", "key", "model", "req", "tokens", "last seen", "pinned to", "pin ends")


class SessionsView(View):
    TITLE = "Sessions"
    KEY = "3"
    HELP = "active conversations: key, model, use, pinned account"

    DEFAULT_CSS = """
    SessionsView #ss-detail { height: auto; max-height: 4; border-top: solid $panel; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sessions: list[dict[str, Any]] = []
        self.accounts: dict[int, str] = {}
        self.key_names: dict[int, str] = {}
        self.loaded_at = 0.0
        self.wide = False

    def compose(self) -> ComposeResult:
        yield Static(id="ss-note", classes="note")
        yield LiveTable(*NARROW, id="ss-table")
        yield Static(id="ss-detail", classes="note")

    def on_resize(self, event: Resize) -> None:
        wide = event.size.width >= 110
        if wide != self.wide:
            self.wide = wide
            self.query_one("#ss-table", LiveTable).set_columns(WIDE if wide else NARROW)
            self.redraw()

    @work(exclusive=True, group="sessions")
    async def load(self) -> None:
        sessions = await self.call(self.api.sessions())
        if sessions is None:
            return
        pins = [p for s in sessions for p in s.get("pinned") or []]
        if any(p.get("account_id") not in self.accounts for p in pins):
            providers = await self.call(self.api.providers()) or []
            self.accounts = {a["id"]: a["name"] for p in providers for a in p.get("accounts") or []}
        if any(s.get("keyId") is not None and s["keyId"] not in self.key_names for s in sessions):
            keys = await self.call(self.api.keys()) or []
            self.key_names = {int(k["id"]): str(k["name"]) for k in keys}
        self.sessions, self.loaded_at = sessions, self.omni.clock()
        self.redraw()

    def tick(self) -> None:
        if self.sessions:
            self.redraw()

    def _key(self, session: dict[str, Any]) -> str:
        key_id = session.get("keyId")
        if key_id is None:
            return "(no key)"
        return self.key_names.get(int(key_id), f"#{key_id}")

    def _pins(self, session: dict[str, Any]) -> list[tuple[str, float]]:
        """Where the conversation is pinned: ``provider/account`` and seconds left."""
        elapsed = self.omni.clock() - self.loaded_at
        out = []
        for pin in session.get("pinned") or []:
            account_id = pin.get("account_id")
            account = self.accounts.get(account_id or -1, f"#{account_id}")
            left = max(0.0, float(pin.get("expires_in_s") or 0) - elapsed)
            out.append((f"{pin.get('provider')}/{account}", left))
        return out

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        app, now = self.omni, self.omni.clock()
        rows = []
        for s in self.sessions:
            pins = self._pins(s)
            where: Any = tone(app, "not pinned", "muted")
            ends = ""
            if pins:
                more = f" +{len(pins) - 1}" if len(pins) > 1 else ""
                where = fmt.shorten(pins[0][0], 14 - len(more)) + more
                ends = fmt.duration(pins[0][1])
            seen = fmt.duration(now - float(s.get("lastSeen") or now))
            session, model = str(s.get("session", "?")), str(s.get("model") or fmt.NONE)
            if self.wide:
                cells = [fmt.middle(session, 18), fmt.shorten(self._key(s), 10),
                         fmt.shorten(model, 20), s.get("requests", 0),
                         fmt.count(s.get("tokens")), f"{seen} ago", where, ends]  # fmt: skip
            else:
                cells = [fmt.middle(session, 12), fmt.shorten(self._key(s), 8),
                         fmt.shorten(model, 14), s.get("requests", 0),
                         fmt.count(s.get("tokens")), seen, where]  # fmt: skip
            rows.append((session, cells))
        self.query_one("#ss-table", LiveTable).fill(rows)
        pinned = sum(1 for s in self.sessions if s.get("pinned"))
        self.query_one("#ss-note", Static).update(
            f"{len(rows)} active conversations (last 30 min), {pinned} pinned to an account."
            if rows
            else "No active conversation. Clients that name theirs (prompt_cache_key, a "
            "session header, chained Responses) show here and stay on one account."
        )
        self.show_detail()

    def on_data_table_row_highlighted(self) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        chosen = self.selected_key("ss-table")
        session = next((s for s in self.sessions if str(s.get("session")) == chosen), None)
        if session is None:
            self.query_one("#ss-detail", Static).update("")
            return
        pins = self._pins(session)
        pinned = (
            "pinned to " + ", ".join(f"{where} for {fmt.duration(left)}" for where, left in pins)
            if pins
            else "not pinned to an account"
        )
        self.query_one("#ss-detail", Static).update(
            f"[b]{session.get('session')}[/b] · key {self._key(session)} · "
            f"{session.get('model') or fmt.NONE} · {session.get('requests', 0)} requests, "
            f"{fmt.count(session.get('tokens'))} tokens, {fmt.money(session.get('costUsd'))} · "
            f"since {fmt.clock(session.get('firstSeen'))} · {pinned}"
        )
