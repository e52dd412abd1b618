"""Modal dialogs: forms that return values, a yes/no question, a text panel.

Each dialog is a :class:`~textual.screen.ModalScreen` that dismisses with its result
(``None`` when cancelled with Escape), so a view pushes it with a callback and does the
API call in its own worker. Forms check required fields before dismissing; the server
still validates everything and its message is shown if it refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ListItem, ListView, Select, Static

DIALOG_CSS = """
.dialog {
    width: 76; max-width: 100%; height: auto; max-height: 100%;
    border: round $accent; background: $surface; padding: 0 1;
}
.dialog .title { text-style: bold; color: $accent; }
.dialog .hint { color: $text-muted; }
.dialog Label { margin-top: 1; }
.dialog .title { margin-top: 0; }
.dialog Input, .dialog Select { margin: 0; background: $boost; }
.dialog Input:focus, .dialog Select:focus { background: $primary 30%; }
.dialog .buttons { height: auto; margin-top: 1; align-horizontal: right; }
.dialog .buttons Button { margin-left: 2; min-width: 8; }
.dialog .error { color: $error; height: auto; }
"""


class FormDialog(ModalScreen[dict[str, Any] | None]):
    """A form of labelled inputs; dismisses with ``{name: value}`` on submit."""

    DEFAULT_CSS = "FormDialog { align: center middle; }" + DIALOG_CSS
    AUTO_FOCUS = "Input, Select"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        fields: Sequence[tuple[str, str, str]],
        required: Sequence[str] = (),
        secret: Sequence[str] = (),
        choices: dict[str, list[str]] | None = None,
        hint: str = "",
    ) -> None:
        """``fields`` are (name, label, initial value); ``choices`` make a field a select."""
        super().__init__()
        self.form_title = title
        self.fields = list(fields)
        self.required = set(required)
        self.secret = set(secret)
        self.choices = choices or {}
        self.hint = hint

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Label(self.form_title, classes="title")
            for name, label, value in self.fields:
                yield Label(label)
                if name in self.choices:
                    options = [(c, c) for c in self.choices[name]]
                    yield Select(
                        options, value=value, allow_blank=False, compact=True, id=f"f-{name}"
                    )
                else:
                    yield Input(
                        value=value, password=name in self.secret, compact=True, id=f"f-{name}"
                    )
            if self.hint:
                yield Static(self.hint, classes="hint")
            yield Static(id="form-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Save", id="save", variant="primary", compact=True)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, _, _ in self.fields:
            if name in self.choices:
                out[name] = self.query_one(f"#f-{name}", Select).value
            else:
                out[name] = self.query_one(f"#f-{name}", Input).value.strip()
        return out

    def submit(self) -> None:
        values = self.values()
        missing = [n for n in self.required if not values.get(n)]
        if missing:
            labels = {n: label for n, label, _ in self.fields}
            self.query_one("#form-error", Static).update(
                "Required: " + ", ".join(labels[n] for n in missing)
            )
            return
        self.dismiss(values)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question; ``y`` or Enter says yes, ``n`` or Escape says no."""

    DEFAULT_CSS = "ConfirmDialog { align: center middle; }" + DIALOG_CSS
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question)
            with Horizontal(classes="buttons"):
                yield Button("No", id="no", compact=True)
                yield Button("Yes", id="yes", variant="error", compact=True)

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class TextDialog(ModalScreen[None]):
    """A scrollable panel of (markup) text, closed with Escape, Enter or ``q``."""

    DEFAULT_CSS = (
        "TextDialog { align: center middle; }"
        + DIALOG_CSS
        + "TextDialog .dialog { width: 100; height: auto; }"
    )
    BINDINGS = [Binding("escape,enter,q", "close", "Close")]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.panel_title = title
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Label(self.panel_title, classes="title")
            yield Static(self.body, id="body")
            yield Static("Esc closes", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#body", Static).update(self.body)  # set_body may have come first

    def set_body(self, body: str) -> None:
        self.body = body
        for widget in self.query("#body").results(Static):
            widget.update(body)

    def action_close(self) -> None:
        self.dismiss(None)


class OrderDialog(ModalScreen[list[str] | None]):
    """Reorder a list: ↑/↓ choose, ``K``/``J`` (or shift+↑/↓) move, Enter saves."""

    DEFAULT_CSS = (
        "OrderDialog { align: center middle; }"
        + DIALOG_CSS
        + "OrderDialog ListView { height: auto; max-height: 12; }"
    )
    BINDINGS = [
        Binding("K,shift+up", "move(-1)", "Move up"),
        Binding("J,shift+down", "move(1)", "Move down"),
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, title: str, items: Sequence[str]) -> None:
        super().__init__()
        self.order_title = title
        self.items = list(items)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.order_title, classes="title")
            yield ListView(*[ListItem(Label(i)) for i in self.items], id="items")
            yield Static(
                "K/J or shift+↑/↓ move the step · Enter saves · Esc cancels", classes="hint"
            )

    def _redraw(self, index: int) -> None:
        view = self.query_one("#items", ListView)
        for item, text in zip(view.children, self.items, strict=True):
            item.query_one(Label).update(text)
        view.index = index

    def action_move(self, delta: int) -> None:
        view = self.query_one("#items", ListView)
        index = view.index or 0
        target = index + delta
        if 0 <= target < len(self.items):
            self.items[index], self.items[target] = self.items[target], self.items[index]
            self._redraw(target)

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        event.stop()
        self.dismiss(self.items)

    def action_save(self) -> None:
        self.dismiss(self.items)

    def action_cancel(self) -> None:
        self.dismiss(None)
