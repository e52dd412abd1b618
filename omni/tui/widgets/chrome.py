"""The frame around the views: a one-line title bar and the connection banner.

The title bar says which view is showing, which server is watched and whether the live
stream is up; the banner appears only while the server does not answer, says since when
and that the dashboard keeps trying, so stale numbers are never mistaken for live ones.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Static

from omni.tui import format as fmt


class TitleBar(Horizontal):
    """``omni · View`` on the left, the server and its state on the right."""

    DEFAULT_CSS = """
    TitleBar { height: 1; background: $panel; color: $foreground; }
    TitleBar #title { width: 1fr; padding: 0 1; text-style: bold; }
    TitleBar #server { width: auto; padding: 0 1; color: $text-muted; }
    """

    view_title: reactive[str] = reactive("")
    server: reactive[str] = reactive("")
    state: reactive[str] = reactive("connecting")
    uptime: reactive[float | None] = reactive(None)

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        yield Static(id="server")

    def _update(self) -> None:
        if not self.is_mounted:
            return
        self.query_one("#title", Static).update(f"omni · {self.view_title}")
        mark = {"live": "[$success]●[/]", "polling": "[$warning]●[/]"}.get(
            self.state, "[$error]○[/]"
        )
        up = f" · up {fmt.duration(self.uptime)}" if self.uptime is not None else ""
        self.query_one("#server", Static).update(f"{mark} {self.server}{up}")

    def on_mount(self) -> None:
        self._update()

    def watch_view_title(self) -> None:
        self._update()

    def watch_server(self) -> None:
        self._update()

    def watch_state(self) -> None:
        self._update()

    def watch_uptime(self) -> None:
        self._update()


class Banner(Static):
    """Shown while the server is unreachable."""

    DEFAULT_CSS = """
    Banner {
        display: none; height: auto; padding: 0 1;
        background: $error; color: $text; text-style: bold;
    }
    Banner.-shown { display: block; }
    """

    def show(self, message: str) -> None:
        self.update(message)
        self.add_class("-shown")

    def hide(self) -> None:
        self.remove_class("-shown")

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")
