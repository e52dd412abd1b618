"""The live event stream ``GET /api/events``: requests as they are recorded, counters,
authentication, bounded queues and a clean end when the server stops."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from omni.admin.token import read_admin_token
from omni.config import Settings
from omni.serve.routes.events import EVENTS, Subscriber
from omni.store.usage import UsageRecord

BODY = {"messages": [{"role": "user", "content": "hi"}]}


async def _next_event(response: Any, wanted: str) -> dict[str, Any]:
    """Read SSE lines until an event named ``wanted`` arrives; its data."""
    name = ""
    while True:
        line = (await response.content.readline()).decode()
        assert line, "the stream ended"
        line = line.rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name == wanted:
            data: dict[str, Any] = json.loads(line[6:])
            return data


def _auth(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}


async def test_a_request_appears_on_the_stream_with_its_route_and_cost(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway()
    stream = await client.get("/api/events?interval=30", headers=_auth(settings))
    assert stream.status == 200
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    stats = await _next_event(stream, "stats")
    assert stats["requests"] == 0 and stats["breakers_open"] == 0

    answer = await client.post("/v1/chat/completions", json={"model": "fake/gpt-4o-mini", **BODY})
    assert answer.status == 200
    event = await _next_event(stream, "request")
    assert event["requested_model"] == "fake/gpt-4o-mini"
    assert event["provider_id"] == "fake"
    assert event["status"] == 200
    assert event["input_tokens"] == 11 and event["output_tokens"] == 7
    assert event["route"] == []
    # The same request, by id, is in the request log.
    logs = await (await client.get("/api/usage/request-logs", headers=_auth(settings))).json()
    assert logs["requests"][0]["request_id"] == event["request_id"]
    stream.close()


async def test_the_stream_needs_the_admin_credentials(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway(require_api_key=True)
    response = await client.get("/api/events", headers={"Authorization": "Bearer wrong"})
    assert response.status == 401
    bad = await client.get("/api/events?interval=0", headers=_auth(settings))
    assert bad.status == 400
    assert "interval" in (await bad.json())["error"]["message"]


async def test_a_slow_reader_loses_its_oldest_events_not_memory() -> None:
    subscriber = Subscriber(size=3)
    for n in range(5):
        subscriber.put(str(n).encode())
    assert subscriber.dropped == 2
    kept = [subscriber.queue.get_nowait() for _ in range(3)]
    assert kept == [b"2", b"3", b"4"]


async def test_a_batch_reaches_every_subscriber_and_the_stream_ends_on_stop(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway()
    first = await client.get("/api/events", headers=_auth(settings))
    second = await client.get("/api/events", headers=_auth(settings))
    await _next_event(first, "stats")
    await _next_event(second, "stats")
    hub = client.app[EVENTS]
    assert len(hub.subscribers) == 2
    record = UsageRecord(
        ts=1.0, request_id="r-1", endpoint="/v1/chat/completions", client_dialect="openai",
        requested_model="m", status=502, route='[["a", "main", "503"]]', error="boom",
    )  # fmt: skip
    hub.observe([record])
    for stream in (first, second):
        event = await _next_event(stream, "request")
        assert event["request_id"] == "r-1"
        assert event["route"] == [{"provider": "a", "account": "main", "outcome": "503"}]
    hub.close()
    for stream in (first, second):
        assert (await stream.content.read()).strip() == b""  # the stream has ended
