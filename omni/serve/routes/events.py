"""The live event stream: ``GET /api/events`` (Server-Sent Events) for the TUI and scripts.

Every request the gateway records is sent as an ``event: request`` whose data has the
shape of one entry of ``/api/usage/request-logs`` (without the database ``id``; the
``request_id`` identifies it), and every ``interval`` seconds (``?interval=``, 0.2-60,
default 2) an ``event: stats`` with the counters a dashboard shows live: uptime, requests
written since start, requests waiting in the cap queue, accounts cooling down, open
circuits. A comment line keeps idle connections open through proxies.

The stream is fed by the usage writer's batches (``UsageRecorder.observers``), so it costs
the request path nothing: records are turned into JSON once per batch, and only while
someone listens. Each subscriber has a bounded queue; a slow reader loses its oldest
events (counted, and reported as ``event: dropped``) rather than holding memory. The
route sits under ``/api/``, so it needs the same management credentials as the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import asdict
from typing import Any

from aiohttp import web

from omni.errors import InvalidInputError
from omni.serve import keys
from omni.store.usage import UsageRecord

QUEUE_SIZE = 1000
"""Events kept per subscriber before the oldest are dropped."""
MAX_SUBSCRIBERS = 64


def _entry(record: UsageRecord) -> dict[str, Any]:
    """A usage record in the shape of a request-log entry."""
    row = asdict(record)
    route = json.loads(record.route) if record.route else []
    row["route"] = [{"provider": p, "account": a, "outcome": o} for p, a, o in route]
    return row


class Subscriber:
    """One listener: a bounded queue of encoded events, oldest dropped when full."""

    def __init__(self, size: int = QUEUE_SIZE) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(size)
        self.dropped = 0

    def put(self, item: bytes | None) -> None:
        while True:
            try:
                self.queue.put_nowait(item)
                return
            except asyncio.QueueFull:
                with contextlib.suppress(asyncio.QueueEmpty):
                    self.queue.get_nowait()
                    self.dropped += 1


class EventHub:
    """Fans the usage writer's batches out to every subscriber."""

    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()

    def observe(self, records: list[UsageRecord]) -> None:
        if not self.subscribers:
            return
        encoded = [_event("request", _entry(r)) for r in records]
        for subscriber in self.subscribers:
            for event in encoded:
                subscriber.put(event)

    def subscribe(self, size: int = QUEUE_SIZE) -> Subscriber:
        if len(self.subscribers) >= MAX_SUBSCRIBERS:
            raise InvalidInputError(
                f"too many event streams are open ({MAX_SUBSCRIBERS}); close one first"
            )
        subscriber = Subscriber(size)
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def close(self) -> None:
        """End every stream (the server is stopping)."""
        for subscriber in list(self.subscribers):
            subscriber.put(None)


EVENTS = web.AppKey("events", EventHub)


def _event(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _interval(request: web.Request) -> float:
    raw = request.query.get("interval", "")
    if not raw:
        return 2.0
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInputError("query parameter 'interval' must be a number of seconds") from None
    if not 0.2 <= value <= 60:
        raise InvalidInputError("query parameter 'interval' must be between 0.2 and 60 seconds")
    return value


def _stats(app: web.Application) -> dict[str, Any]:
    gateway = app[keys.GATEWAY]
    breakers = gateway.breakers.snapshot()
    return {
        "ts": time.time(),
        "uptime_s": round(time.time() - app[keys.STARTED_AT], 3),
        "requests": gateway.usage.written,
        "queue_waiting": gateway.caps.waiting,
        "cooling": len(gateway.cooldowns.snapshot()),
        "breakers_open": sum(1 for s in breakers.values() if s["state"] == "open"),
    }


async def events(request: web.Request) -> web.StreamResponse:
    interval = _interval(request)
    hub = request.app[EVENTS]
    subscriber = hub.subscribe()
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    try:
        await response.prepare(request)
        await response.write(_event("stats", _stats(request.app)))
        reported = 0
        while True:
            try:
                async with asyncio.timeout(interval):
                    item = await subscriber.queue.get()
            except TimeoutError:
                await response.write(_event("stats", _stats(request.app)) + b": keep-alive\n\n")
                continue
            if item is None:
                break
            if subscriber.dropped != reported:
                await response.write(_event("dropped", {"count": subscriber.dropped - reported}))
                reported = subscriber.dropped
            await response.write(item)
    finally:
        hub.unsubscribe(subscriber)
    return response


async def _attach(app: web.Application) -> None:
    app[keys.GATEWAY].usage.observers.append(app[EVENTS].observe)


async def _detach(app: web.Application) -> None:
    app[EVENTS].close()


def setup(app: web.Application) -> None:
    app[EVENTS] = EventHub()
    app.on_startup.append(_attach)  # after the engine's cleanup_ctx has built the gateway
    app.on_shutdown.append(_detach)  # open streams end, so a graceful stop does not wait
    app.router.add_get("/api/events", events)
