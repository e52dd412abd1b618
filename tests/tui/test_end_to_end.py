"""The dashboard on a real server: ``omni serve`` in its own process, the fake upstream
behind it, the TUI attached the way ``omni tui`` attaches; a request sent by a client
appears in the live request log, and its detail shows the server's route explanation;
a key's budget set with the CLI shows on Usage and Keys, and a conversation a client
names shows on Sessions with its key and model."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import Static

from omni.config import load_settings
from omni.errors import AuthError
from omni.tui.app import OmniApp
from omni.tui.connect import attach
from omni.tui.widgets.dialogs import TextDialog
from omni.tui.widgets.tables import LiveTable
from tests.conftest import free_port, run_omni, wait_healthy
from tests.tui.conftest import press, settle

pytestmark = pytest.mark.slow


class WatchedApp(OmniApp):
    """The dashboard, telling the test about each server event it handled."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handled: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    def on_server_event(self, name: str, data: dict[str, Any]) -> None:
        super().on_server_event(name, data)
        self.handled.put_nowait((name, data))

    async def next_event(self, wanted: str) -> dict[str, Any]:
        async with asyncio.timeout(30):
            while True:
                name, data = await self.handled.get()
                if name == wanted:
                    return data


@pytest.fixture
async def server(upstream: Any, omni_home: Path, tmp_path: Path) -> AsyncIterator[str]:
    await run_omni(
        "providers", "add", "fake", "--base-url", f"{upstream.url}/v1", "--api-key", "sk-up"
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / "serve.log").open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "omni", "serve", "--port", str(port),
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            await wait_healthy(url, proc)
            yield url
        finally:
            proc.terminate()
            async with asyncio.timeout(30):
                await proc.wait()


async def test_a_request_appears_in_the_live_log(server: str) -> None:
    connection = await asyncio.to_thread(attach, load_settings(), None, None, None, False)
    assert connection.url == server and connection.token and connection.note is None
    app = WatchedApp(connection.api(), poll_interval=3600)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.next_event("stats")  # the live stream is up
        await settle(pilot)
        await press(pilot, "6")
        assert app.query_one("#rq-table", LiveTable).row_count == 0

        async with httpx.AsyncClient(base_url=server) as client:
            answer = await client.post(
                "/v1/chat/completions",
                json={"model": "fake/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
            )
        assert answer.status_code == 200
        event = await app.next_event("request")
        assert event["request_id"] == answer.headers["X-OmniRoute-Request-Id"]
        await settle(pilot)

        table = app.query_one("#rq-table", LiveTable)
        assert table.row_count == 1
        cells = [str(c) for c in table.get_row_at(0)]
        assert cells[1] == "fake/gpt-4o-mini" and cells[2] == "200" and cells[3] == "11/7"

        await press(pilot, "enter")
        assert isinstance(app.screen, TextDialog)
        detail = str(app.screen.query_one("#body", Static).render())
        assert "served    fake/gpt-4o-mini" in detail
        assert "1. fake/default gpt-4o-mini: ready" in detail  # the server's explanation


@pytest.fixture
def require_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Client calls need an omni key (set before ``server`` starts), so usage has keys."""
    monkeypatch.setenv("REQUIRE_API_KEY", "true")


async def test_budgets_and_sessions_come_from_the_server(
    require_api_key: None, server: str
) -> None:
    _, out, _ = await run_omni("keys", "add", "laptop", "--json")
    key = json.loads(out)
    await run_omni("budget", "set", str(key["id"]), "2", "--period", "daily")
    async with httpx.AsyncClient(base_url=server) as client:
        answer = await client.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {key['key']}"},
            json={"model": "fake/gpt-4o-mini", "prompt_cache_key": "conv-e2e",
                  "messages": [{"role": "user", "content": "hi"}]},
        )  # fmt: skip
    assert answer.status_code == 200

    connection = await asyncio.to_thread(attach, load_settings(), None, None, None, False)
    app = WatchedApp(connection.api(), poll_interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "3")
        (row,) = [
            [str(c) for c in app.query_one("#ss-table", LiveTable).get_row_at(i)]
            for i in range(app.query_one("#ss-table", LiveTable).row_count)
        ]
        assert row[:5] == ["conv-e2e", "laptop", "fake/gpt-4o-m…", "1", "18"]
        await press(pilot, "7")
        budgets = app.query_one("#us-budgets", LiveTable)
        assert budgets.row_count == 1
        cells = [str(c) for c in budgets.get_row_at(0)]
        assert cells[:2] == ["laptop", "daily"] and "/$2.00" in cells[2]
        await press(pilot, "9")
        note = str(app.query_one("#ky-note", Static).render())
        assert "Budget $2.00 daily" in note


@pytest.fixture
def initial_password(monkeypatch: pytest.MonkeyPatch) -> str:
    """The admin password the server starts with (set before ``server`` starts it)."""
    monkeypatch.setenv("INITIAL_PASSWORD", "correct horse battery")
    return "correct horse battery"


async def test_a_remote_server_is_reached_with_the_admin_password(
    initial_password: str, server: str
) -> None:
    settings = load_settings()
    # Another machine: no local admin token, so the password is asked for.
    settings.paths.admin_token_file.unlink()
    with pytest.raises(AuthError, match="needs the admin password"):
        await asyncio.to_thread(attach, settings, server)
    with pytest.raises(AuthError, match=r"login to .* failed"):
        await asyncio.to_thread(attach, settings, server, "wrong password")
    asked: list[str] = []

    def ask() -> str:
        asked.append("?")
        return initial_password

    connection = await asyncio.to_thread(attach, settings, server, None, ask)
    assert asked == ["?"] and connection.password == initial_password
    assert not connection.local and connection.token
    api = connection.api()
    try:
        assert [p["id"] for p in await api.providers()] == ["fake"]
    finally:
        await api.close()
