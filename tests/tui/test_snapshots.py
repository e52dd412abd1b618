"""What each view looks like, at 80x24 (nothing may be cut off) and at 120x40.

The pictures are SVG files under ``__snapshots__``; after a deliberate change to the look,
review the report and accept with ``pytest tests/tui --snapshot-update``. The app runs on
the in-memory API with a stopped clock, so every picture is the same on every run.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import make_app, press, settle
from tests.tui.fake_api import FakeApi

SIZES = [(80, 24), (120, 40)]
VIEWS = ["1", "2", "3", "4", "5", "6", "7", "8", "9"]


def _keys(*keys: str) -> Any:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, *keys)

    return run


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("view", VIEWS)
def test_view(snap_compare: Any, view: str, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(FakeApi()), terminal_size=size, run_before=_keys(view))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(
        make_app(FakeApi()), terminal_size=size, run_before=_keys("2", "question_mark")
    )


def test_request_detail(snap_compare: Any) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        from omni.tui.widgets.tables import LiveTable

        await settle(pilot)
        await press(pilot, "6")
        table = pilot.app.query_one("#rq-table", LiveTable)
        table.move_cursor(row=table.get_row_index("req-0004"))
        await press(pilot, "enter")

    assert snap_compare(make_app(FakeApi()), terminal_size=(80, 24), run_before=run)


def test_lost_server_banner(snap_compare: Any) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        api = pilot.app.api
        await settle(pilot)
        api.go_down()
        await settle(pilot)

    assert snap_compare(make_app(FakeApi()), terminal_size=(80, 24), run_before=run)


def test_light_theme(snap_compare: Any) -> None:
    assert snap_compare(
        make_app(FakeApi()), terminal_size=(80, 24), run_before=_keys("ctrl+t", "2")
    )


def test_budget_dialog(snap_compare: Any) -> None:
    assert snap_compare(make_app(FakeApi()), terminal_size=(80, 24), run_before=_keys("9", "b"))
