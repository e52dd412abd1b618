"""Fixtures for the dashboard's tests: the in-memory API, an app on a fixed clock, and
:func:`settle`, which waits for the app's workers instead of sleeping."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from textual.pilot import Pilot

from omni.tui.app import OmniApp
from tests.tui.fake_api import NOW, FakeApi


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times of day and dates on screen in UTC, whatever the machine's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


def make_app(api: FakeApi, **kwargs: Any) -> OmniApp:
    """The dashboard on the fake API, its clock stopped at NOW, polling only when told."""
    return OmniApp(api, clock=lambda: NOW, poll_interval=3600, **kwargs)  # type: ignore[arg-type]


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until every worker but the event stream has finished, and the screen is drawn."""
    app = pilot.app
    for _ in range(50):
        await pilot.pause()
        busy = [w for w in app.workers if w.group != "events" and not w.is_finished]
        if not busy:
            break
        await app.workers.wait_for_complete(busy)
    await pilot.pause()


async def press(pilot: Pilot[Any], *keys: str) -> None:
    """Press keys, letting the workers they start finish."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)
