"""``X-OmniRoute-Progress: true``: a streaming client hears progress while omni waits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.fakes.upstream import Reply

ASK = {"model": "fake/m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
PROGRESS = {"X-OmniRoute-Progress": "true"}


@pytest.fixture
def start(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any]
) -> Callable[..., Any]:
    async def go() -> Any:
        await asyncio.to_thread(
            add_provider, "fake", base_url=f"{upstream.url}/v1", api_key="k", models=["m"],
            sync_models=False,
        )  # fmt: skip
        return await make_client()

    return go


async def test_progress_comments_come_before_the_answer(start: Any, upstream: Any) -> None:
    http = await start()
    upstream.push(Reply(text="worth the wait", first_byte_delay=1.3))
    response = await http.post("/v1/chat/completions", json=ASK, headers=PROGRESS)
    assert response.status == 200
    assert response.headers["X-OmniRoute-Progress"] == "enabled"
    raw = await response.text()
    assert raw.startswith(": omni-progress waiting 1s\n\n")
    assert ": omni-progress routed to fake/m" in raw
    text = "".join(
        choice["delta"].get("content") or ""
        for line in raw.splitlines()
        if line.startswith("data: {")
        for choice in json.loads(line[6:])["choices"]
    )
    assert text == "worth the wait"


async def test_a_failure_after_progress_is_an_error_event(start: Any, upstream: Any) -> None:
    http = await start()
    upstream.push(Reply(status=400, error_message="messages[0] is malformed"))
    response = await http.post("/v1/messages", json={**ASK, "max_tokens": 5}, headers=PROGRESS)
    assert response.status == 200
    raw = await response.text()
    assert "event: error" in raw and "messages[0] is malformed" in raw


async def test_without_the_header_or_a_stream_nothing_changes(start: Any) -> None:
    http = await start()
    plain = await http.post("/v1/chat/completions", json={**ASK, "stream": False}, headers=PROGRESS)
    assert plain.status == 200 and "X-OmniRoute-Progress" not in plain.headers
    streamed = await http.post("/v1/chat/completions", json=ASK)
    assert "X-OmniRoute-Progress" not in streamed.headers
    assert not (await streamed.text()).startswith(":")
