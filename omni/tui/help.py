"""The ``?`` panel: every key of the dashboard, from the bindings themselves.

Built from the app's and the views' ``BINDINGS`` so it cannot drift from what the keys
do; the view on screen is listed first.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.binding import Binding

from omni.tui.views import VIEWS
from omni.tui.views.base import View


def _keys(binding: Binding) -> str:
    names = [k.strip() for k in binding.key.split(",")]
    return " / ".join(
        {"question_mark": "?", "enter": "Enter", "escape": "Esc"}.get(n, n) for n in names
    )


def _lines(bindings: Any) -> list[str]:
    out = []
    for binding in bindings:
        if isinstance(binding, Binding) and binding.description and binding.group is None:
            out.append(f"  [b]{_keys(binding):<10}[/b] {binding.description}")
    return out


def help_text(app: App[Any], shown: View) -> str:
    lines = [f"[b $accent]{shown.TITLE}[/]: {shown.HELP}", *_lines(shown.BINDINGS), ""]
    lines.append("[b $accent]Everywhere[/]")
    lines += _lines(app.BINDINGS)
    lines.append("  [b]ctrl+p    [/b] Command palette (every view and action)")
    lines += ["", "[b $accent]Views[/]"]
    lines += [f"  [b]{v.KEY}[/b] {v.TITLE:<10} {v.HELP}" for v in VIEWS]
    return "\n".join(lines)
