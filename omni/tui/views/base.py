"""What every view shares: its place in the app, its data loading, its error handling.

A view is a container in the app's content switcher with a title and a number key. The
app calls :meth:`View.refresh_data` when the view is shown and on every poll; views load
in exclusive workers (a newer load cancels an older one), so the UI never waits on the
network. :meth:`View.call` runs one API call and turns a failure into what the user
sees: an unreachable server goes to the app's banner, a refusal becomes a notification
with the server's message.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from textual.containers import Vertical

from omni.errors import OmniError, ServerNotRunningError
from omni.tui.client import AdminApi
from omni.tui.live import Row

if TYPE_CHECKING:
    from omni.tui.app import OmniApp

T = TypeVar("T")


class View(Vertical):
    """One screen of the dashboard."""

    TITLE: ClassVar[str] = ""
    KEY: ClassVar[str] = ""
    HELP: ClassVar[str] = ""

    DEFAULT_CSS = """
    View { height: 1fr; padding: 0 1; }
    View .heading { text-style: bold; color: $accent; height: 1; }
    View .note { color: $text-muted; height: auto; }
    """

    _redraw_pending = False

    @property
    def omni(self) -> OmniApp:
        return cast("OmniApp", self.app)

    @property
    def api(self) -> AdminApi:
        return self.omni.api

    def refresh_data(self) -> None:
        """Start loading fresh data in the view's exclusive worker (:meth:`load`)."""
        self.load()

    def load(self) -> Any:
        """The view's loading worker (decorated with ``@work(exclusive=True)``)."""
        return None

    def redraw(self) -> None:
        """Redraw from data already loaded (the live log changed, time moved on)."""

    def tick(self) -> None:
        """Called every second while shown (countdowns)."""

    def live_row(self, row: Row) -> None:
        """A request just arrived on the live stream (the view is shown)."""

    def redraw_soon(self) -> None:
        """Redraw once after the next screen refresh, however many rows arrive before it
        (a burst of events costs one redraw, not one per request)."""
        if not self._redraw_pending:
            self._redraw_pending = True
            self.call_after_refresh(self._redraw_now)

    def _redraw_now(self) -> None:
        self._redraw_pending = False
        self.redraw()

    def focus_main(self) -> None:
        """Give focus to the view's main widget."""
        for widget in self.query("LiveTable, DataTable"):
            if widget.focusable:
                widget.focus()
                return

    async def call(self, call: Awaitable[T], action: str | None = None) -> T | None:
        """Await one API call; on failure tell the user and return ``None``."""
        try:
            result = await call
        except ServerNotRunningError as exc:
            self.omni.lost(exc.message)
            return None
        except OmniError as exc:
            what = f"{action} failed: " if action else ""
            self.notify(f"{what}{exc.message}", severity="error", timeout=8)
            return None
        self.omni.reached()
        return result

    def selected_key(self, table_id: str) -> str | None:
        from omni.tui.widgets.tables import LiveTable

        return self.query_one(f"#{table_id}", LiveTable).selected

    def done(self, message: str, **kwargs: Any) -> None:
        """Report an action that worked."""
        self.notify(message, timeout=kwargs.pop("timeout", 5), **kwargs)
