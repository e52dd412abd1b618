"""Tables that refresh in place: rows replaced by key, the cursor kept on the same row.

Views redraw every few seconds; a plain ``clear()`` would throw the user's selection back
to the top each time. :class:`LiveTable` replaces its rows and puts the cursor back on the
row with the same key. :func:`tone` colours a cell with the theme's own colours, so
statuses stay readable in dark and light themes alike.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.app import App
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

Cells = Sequence[Any]


def tone(app: App[Any], text: str, kind: str) -> Text:
    """``text`` in the theme colour ``kind`` (``success``, ``warning``, ``error``,
    ``accent``, ``primary``, or ``muted``)."""
    if kind == "muted":
        return Text(text, style="dim")
    colour = app.theme_variables.get(kind)
    return Text(text, style=colour or "")


class LiveTable(DataTable[Any]):
    """A row-cursor table whose rows are replaced wholesale, keeping the selection."""

    DEFAULT_CSS = """
    LiveTable { height: 1fr; }
    """

    def __init__(self, *columns: str | tuple[str, int], **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._columns = columns

    def on_mount(self) -> None:
        self.set_columns(self._columns)

    def set_columns(self, columns: Sequence[str | tuple[str, int]]) -> None:
        """Replace the columns (for layouts that change with the terminal's width)."""
        self.clear(columns=True)
        for column in columns:
            if isinstance(column, tuple):
                self.add_column(column[0], width=column[1], key=column[0])
            else:
                self.add_column(column, key=column)

    @property
    def selected(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:
            return None
        return str(key) if key is not None else None

    def fill(self, rows: Sequence[tuple[str, Cells]]) -> None:
        """Show exactly ``rows`` (key, cells), the cursor on the same key as before."""
        keep, scroll = self.selected, self.scroll_y
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if keep is not None:
            with contextlib.suppress(RowDoesNotExist):
                self.move_cursor(row=self.get_row_index(keep), animate=False, scroll=False)
        self.scroll_y = scroll
