"""The dashboard app: composes the frame and the views, and keeps the connection alive.

Holds no view logic. It owns the :class:`~omni.tui.live.LiveLog`, follows the server's
event stream in a worker, polls health and the shown view every ``poll_interval``
seconds, and when the server stops answering shows the banner and keeps polling until it
answers again, then reloads the request log to fill the gap and resumes the stream.
Number keys switch views; ``?`` lists every key; the command palette (ctrl+p) reaches
every view and the global actions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer

from omni.errors import OmniError, ServerNotRunningError
from omni.tui import format as fmt
from omni.tui.client import AdminApi
from omni.tui.live import LiveLog
from omni.tui.views import VIEWS
from omni.tui.views.base import View
from omni.tui.widgets.chrome import Banner, TitleBar
from omni.tui.widgets.dialogs import TextDialog

BACKFILL_PAGE = 1000
BACKFILL_ROWS = 2000
_SCREENS = Binding.Group("views", compact=True)


class OmniApp(App[None]):
    """``omni tui``: the gateway, live, in the terminal."""

    TITLE = "omni"
    CSS = """
    Screen { layout: vertical; }
    #views { height: 1fr; }
    Footer.-compact FooterLabel { margin: 0 1 0 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *[
            Binding(view.KEY, f"show('{view.__name__}')", view.TITLE, group=_SCREENS)
            for view in VIEWS
        ],
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("r", "refresh", "Refresh", show=False),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
    ]

    def __init__(
        self,
        api: AdminApi,
        *,
        note: str | None = None,
        clock: Callable[[], float] = time.time,
        poll_interval: float = 2.0,
        backfill_rows: int = BACKFILL_ROWS,
    ) -> None:
        super().__init__()
        self.api = api
        self.note = note
        self.clock = clock
        self.poll_interval = poll_interval
        self.backfill_rows = backfill_rows
        self.live = LiveLog(clock=clock)
        self.health: dict[str, Any] = {}
        self.health_at = clock()
        self.connected: bool | None = None  # None until the first answer
        self.lost_at: float | None = None
        self.streaming = False

    # ---------------------------------------------------------------- frame and views

    def compose(self) -> ComposeResult:
        yield TitleBar(id="titlebar")
        yield Banner(id="banner")
        with ContentSwitcher(initial=VIEWS[0].__name__, id="views"):
            for view in VIEWS:
                yield view(id=view.__name__)
        yield Footer(compact=True)

    @property
    def view(self) -> View:
        switcher = self.query_one("#views", ContentSwitcher)
        return self.query_one(f"#{switcher.current}", View)

    def on_mount(self) -> None:
        bar = self.query_one(TitleBar)
        bar.server = self.api.url
        bar.view_title = self.view.TITLE
        if self.note:
            self.notify(self.note, title="Server started", timeout=15)
        self.set_interval(1.0, self.tick)
        self.set_interval(self.poll_interval, self.poll)
        self.view.focus_main()
        self.poll()

    def action_show(self, name: str) -> None:
        switcher = self.query_one("#views", ContentSwitcher)
        if switcher.current == name:
            return
        switcher.current = name
        self.query_one(TitleBar).view_title = self.view.TITLE
        self.view.focus_main()
        self.view.redraw()
        if self.connected:
            self.view.refresh_data()

    def action_refresh(self) -> None:
        self.poll()

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def action_help(self) -> None:
        from omni.tui.help import help_text

        self.push_screen(TextDialog("Help", help_text(self, self.view)))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for view in VIEWS:
            yield SystemCommand(
                f"Show {view.TITLE}", f"({view.KEY}) {view.HELP}",
                lambda name=view.__name__: self.action_show(name),
            )  # fmt: skip
        yield SystemCommand("Refresh", "(r) Load everything shown again", self.action_refresh)
        yield SystemCommand(
            "Toggle dark/light theme", "(ctrl+t) Switch the colour theme", self.action_toggle_theme
        )
        yield SystemCommand(
            "Reset circuit breakers and cooldowns",
            "Let every provider and account take requests again",
            self.reset_resilience,
        )

    # ---------------------------------------------------------------- connection

    def poll(self) -> None:
        if not self.is_running:  # shutting down: timers may fire while widgets go
            return
        self.check_health()
        if self.connected:
            self.view.refresh_data()

    def tick(self) -> None:
        if not self.is_running:
            return
        self._show_uptime()
        self.view.tick()

    def _show_uptime(self) -> None:
        if self.connected and "uptime_s" in self.health:
            uptime = float(self.health["uptime_s"]) + (self.clock() - self.health_at)
            self.query_one(TitleBar).uptime = uptime

    @work(exclusive=True, group="health")
    async def check_health(self) -> None:
        try:
            health = await self.api.health()
        except OmniError as exc:
            self.lost(exc.message)
            return
        self.health, self.health_at = health, self.clock()
        self.reached()
        self._show_uptime()

    def reached(self) -> None:
        """The server answered: leave the lost state (resuming the stream) if in it."""
        if self.connected:
            return
        first = self.connected is None
        self.connected, self.lost_at = True, None
        self.query_one(Banner).hide()
        self.backfill()
        self.follow_events()
        if not first:
            self.notify("The server answers again; live updates resumed.", timeout=5)
        self.view.refresh_data()
        self._show_state()

    def lost(self, why: str) -> None:
        """The server did not answer: show the banner; polling goes on."""
        if self.connected is False:
            return
        self.connected, self.streaming = False, False
        self.lost_at = self.clock()
        self.workers.cancel_group(self, "events")
        self.query_one(Banner).show(
            f"Server not answering: {why}. Retrying every {self.poll_interval:g}s; "
            f"figures are from {fmt.clock(self.lost_at)}."
        )
        self._show_state()

    def _show_state(self) -> None:
        bar = self.query_one(TitleBar)
        if not self.connected:
            bar.state = "lost"
        else:
            bar.state = "live" if self.streaming else "polling"

    @work(exclusive=True, group="events")
    async def follow_events(self) -> None:
        try:
            async for name, data in self.api.events():
                if not self.streaming:
                    self.streaming = True
                    self._show_state()
                self.on_server_event(name, data)
        except ServerNotRunningError as exc:
            self.lost(exc.message)
            return
        except OmniError as exc:
            self.notify(f"The live stream is off: {exc.message}", severity="warning")
        self.streaming = False
        self._show_state()

    def on_server_event(self, name: str, data: dict[str, Any]) -> None:
        if name == "request":
            if self.live.add(data):
                self.view.live_row(data)
        elif name == "stats":
            self.live.stats = data
            if "uptime_s" in data:
                self.health = {**self.health, "uptime_s": data["uptime_s"]}
                self.health_at = self.clock()
        elif name == "dropped":
            self.live.dropped += int(data.get("count", 0))

    @work(exclusive=True, group="backfill")
    async def backfill(self) -> None:
        """Load the newest requests from the log (again after a reconnect)."""
        before: int | None = None
        loaded = 0
        while loaded < self.backfill_rows:
            try:
                page = await self.api.request_logs(BACKFILL_PAGE, before)
            except ServerNotRunningError as exc:
                self.lost(exc.message)
                return
            except OmniError as exc:
                self.notify(f"Could not read the request log: {exc.message}", severity="error")
                return
            loaded += len(page)
            done = len(page) < BACKFILL_PAGE
            self.live.backfill(page, complete=done)
            if done or not page:
                break
            before = min(int(r["id"]) for r in page)
        else:
            self.live.complete = False
        self.view.redraw()

    async def load_older(self, rows: int = BACKFILL_PAGE) -> int:
        """Load ``rows`` more requests, older than the oldest kept; how many came."""
        ids = [int(r["id"]) for r in self.live.rows() if r.get("id") is not None]
        page = await self.api.request_logs(rows, min(ids) if ids else None)
        self.live.backfill(page, complete=len(page) < rows)
        return len(page)

    @work(exclusive=True, group="reset")
    async def reset_resilience(self) -> None:
        try:
            await self.api.reset_resilience()
        except OmniError as exc:
            self.notify(f"Reset failed: {exc.message}", severity="error")
            return
        self.notify("Circuit breakers and account cooldowns reset.")
        self.view.refresh_data()

    async def on_unmount(self) -> None:
        await self.api.close()
