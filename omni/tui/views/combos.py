"""Combos: named model chains (``best`` = try A, then B, …), listed and managed.

``n`` creates one, ``e`` reorders its steps, ``t`` tests it (how it routes now, then one
tiny request through each distinct target it would use, so a dead step shows before a
client finds it), ``d`` deletes it.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from omni.tui import format as fmt
from omni.tui.views.base import View
from omni.tui.widgets.dialogs import ConfirmDialog, FormDialog, OrderDialog
from omni.tui.widgets.tables import LiveTable

# The server's list (omni.admin.combos.STRATEGIES, which a test keeps in step); the server
# validates the choice anyway.
STRATEGIES = [
    "priority", "weighted", "round-robin", "random", "strict-random", "least-used",
    "cost-optimized", "fill-first", "p2c", "lkgp", "context-optimized",
]  # fmt: skip
MAX_TESTS = 6


class CombosView(View):
    TITLE = "Combos"
    KEY = "8"
    HELP = "model chains: create, reorder, test, delete"

    BINDINGS = [
        Binding("n", "new", "New"),
        Binding("e", "order", "Order"),
        Binding("t", "test", "Test"),
        Binding("d", "delete", "Delete"),
    ]
    DEFAULT_CSS = """
    CombosView #cb-detail { height: auto; max-height: 9; border-top: solid $panel; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.combos: list[dict[str, Any]] = []
        self.results: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield LiveTable("combo", "strategy", "steps", id="cb-table")
        yield Static(id="cb-detail", classes="note")

    @work(exclusive=True, group="combos")
    async def load(self) -> None:
        combos = await self.call(self.api.combos())
        if combos is not None:
            self.combos = combos
            self.redraw()

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        rows = [
            (c["name"], [c["name"], c.get("strategy", "priority"),
                         fmt.shorten(" → ".join(c.get("steps") or []), 48)])
            for c in self.combos
        ]  # fmt: skip
        self.query_one("#cb-table", LiveTable).fill(rows)
        self.show_detail()

    def on_data_table_row_highlighted(self) -> None:
        self.show_detail()

    def chosen(self) -> dict[str, Any] | None:
        key = self.selected_key("cb-table")
        return next((c for c in self.combos if c["name"] == key), None)

    def show_detail(self) -> None:
        combo = self.chosen()
        if combo is None:
            text = "No combos yet: press [b]n[/b] to create one." if not self.combos else ""
        else:
            steps = "\n".join(f"  {n}. {s}" for n, s in enumerate(combo.get("steps") or [], 1))
            text = f"[b]{combo['name']}[/b] ({combo.get('strategy')})\n{steps}"
            if combo["name"] in self.results:
                text += "\n" + self.results[combo["name"]]
        self.query_one("#cb-detail", Static).update(text)

    def action_new(self) -> None:
        def submitted(values: dict[str, Any] | None) -> None:
            if values:
                steps = [s.strip() for s in values["steps"].split(",") if s.strip()]
                self.create(values["name"], steps, values["strategy"])

        self.app.push_screen(
            FormDialog(
                "New combo",
                [("name", "Name (what clients ask for as the model)", ""),
                 ("strategy", "Strategy", "priority"),
                 ("steps", "Steps, in order, comma-separated (provider/model, alias, combo)",
                  "")],
                required=("name", "steps"),
                choices={"strategy": STRATEGIES},
            ),
            submitted,
        )  # fmt: skip

    @work(group="combo-action")
    async def create(self, name: str, steps: list[str], strategy: str) -> None:
        if await self.call(self.api.create_combo(name, steps, strategy), "Creating") is not None:
            self.done(f"created combo {name}")
            self.refresh_data()

    def action_order(self) -> None:
        combo = self.chosen()
        if combo is None:
            return

        def reordered(steps: list[str] | None) -> None:
            if steps is not None and steps != combo.get("steps"):
                self.reorder(combo["name"], steps)

        self.app.push_screen(OrderDialog(f"Order of {combo['name']}", combo["steps"]), reordered)

    @work(group="combo-action")
    async def reorder(self, name: str, steps: list[str]) -> None:
        if await self.call(self.api.edit_combo(name, steps=steps), "Saving") is not None:
            self.done(f"{name}: {' → '.join(steps)}")
            self.refresh_data()

    def action_test(self) -> None:
        combo = self.chosen()
        if combo is not None:
            self.test(combo["name"])

    @work(exclusive=True, group="combo-test")
    async def test(self, name: str) -> None:
        self.results[name] = "testing…"
        self.show_detail()
        plan = await self.call(self.api.explain(name), "Test")
        if plan is None:
            self.results.pop(name, None)
            self.show_detail()
            return
        if plan.get("error"):
            self.results[name] = f"[$error]{plan['error']}[/]"
            self.show_detail()
            return
        lines: list[str] = []
        seen: set[tuple[Any, Any]] = set()
        for target in plan.get("targets") or []:
            spot = (target.get("provider"), target.get("model"))
            if spot in seen or len(seen) >= MAX_TESTS:
                continue
            seen.add(spot)
            where = f"{target.get('provider')}/{target.get('model')}"
            if target.get("status") != "ready":
                lines.append(f"  [$warning]skip[/] {where}: {target.get('status')}")
                continue
            result = await self.call(
                self.api.test_provider(
                    str(target["provider"]), target.get("account"), target.get("model")
                )
            )
            if result is None:
                lines.append(f"  [$error]error[/] {where}")
            elif result.get("ok"):
                lines.append(f"  [$success]ok[/] {where} in {fmt.ms(result.get('latency_ms'))}")
            else:
                why = result.get("error") or f"HTTP {result.get('status')}"
                lines.append(f"  [$error]failed[/] {where}: {why}")
        self.results[name] = "test:\n" + ("\n".join(lines) or "  no targets")
        self.show_detail()
        failed = sum("failed" in line or "error" in line for line in lines)
        self.notify(
            f"{name}: {len(lines) - failed} of {len(lines)} targets answered",
            severity="warning" if failed else "information",
        )

    def action_delete(self) -> None:
        combo = self.chosen()
        if combo is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete(combo["name"])

        self.app.push_screen(ConfirmDialog(f"Delete combo {combo['name']}?"), answered)

    @work(group="combo-action")
    async def delete(self, name: str) -> None:
        if await self.call(self.api.remove_combo(name), "Deleting") is not None:
            self.done(f"deleted combo {name}")
            self.refresh_data()
