"""The exact response cache and idempotency keys, through the HTTP API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from omni.admin.token import read_admin_token
from omni.config import Settings
from omni.gateway.cache import request_key
from tests.fakes.upstream import Reply
from tests.serve.conftest import usage_rows

ASK = {"model": "fake/m", "temperature": 0, "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def start(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any],
    settings: Settings,
) -> Callable[..., Any]:  # fmt: skip
    async def go() -> tuple[Any, dict[str, str]]:
        await asyncio.to_thread(
            add_provider, "fake", base_url=f"{upstream.url}/v1", api_key="k", models=["m"],
            sync_models=False,
        )  # fmt: skip
        http = await make_client()
        upstream.requests.clear()
        return http, {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}

    return go


def sse_text(raw: str) -> str:
    text = ""
    for line in raw.splitlines():
        if line.startswith("data: {"):
            for choice in json.loads(line[6:]).get("choices", []):
                text += choice.get("delta", {}).get("content") or ""
    return text


async def test_a_repeated_deterministic_request_is_a_hit(
    start: Any, upstream: Any, settings: Settings
) -> None:
    http, _ = await start()
    upstream.push(Reply(text="the one answer"))
    first = await http.post("/v1/chat/completions", json=ASK)
    second = await http.post("/v1/chat/completions", json=ASK)
    assert (first.headers["X-OmniRoute-Cache"], second.headers["X-OmniRoute-Cache"]) == (
        "MISS",
        "HIT",
    )
    assert await first.read() == await second.read()
    assert len(upstream.requests) == 1
    rows = await usage_rows(http, settings)
    assert [r["status"] for r in rows] == [200, 200]
    assert json.loads(rows[1]["route"]) == [["cache", "", "hit"]]


async def test_a_streamed_answer_is_kept_and_replayed_either_way(start: Any, upstream: Any) -> None:
    http, _ = await start()
    upstream.push(Reply(text="streamed once", chunks=3))
    streamed = await http.post("/v1/chat/completions", json={**ASK, "stream": True})
    assert sse_text(await streamed.text()) == "streamed once"
    whole = await http.post("/v1/chat/completions", json=ASK)
    assert whole.headers["X-OmniRoute-Cache"] == "HIT"
    assert (await whole.json())["choices"][0]["message"]["content"] == "streamed once"
    again = await http.post("/v1/chat/completions", json={**ASK, "stream": True})
    assert again.headers["X-OmniRoute-Cache"] == "HIT"
    assert again.content_type == "text/event-stream"
    raw = await again.text()
    assert sse_text(raw) == "streamed once" and raw.rstrip().endswith("data: [DONE]")
    assert len(upstream.requests) == 1


async def test_anthropic_clients_get_their_own_dialect_from_the_cache(
    start: Any, upstream: Any
) -> None:
    http, _ = await start()
    ask = {**ASK, "max_tokens": 50}
    upstream.push(Reply(text="cached for claude"))
    await http.post("/v1/messages", json=ask)
    hit = await http.post("/v1/messages", json={**ask, "stream": True})
    assert hit.headers["X-OmniRoute-Cache"] == "HIT"
    events = [line[7:] for line in (await hit.text()).splitlines() if line.startswith("event: ")]
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert len(upstream.requests) == 1


@pytest.mark.parametrize(
    ("change", "headers"),
    [
        ({"temperature": 0.7}, {}),
        ({}, {"X-OmniRoute-No-Cache": "true"}),
    ],
)
async def test_requests_that_are_not_deterministic_or_opt_out_are_not_cached(
    start: Any, upstream: Any, change: dict[str, Any], headers: dict[str, str]
) -> None:
    http, _ = await start()
    for _ in range(2):
        response = await http.post("/v1/chat/completions", json={**ASK, **change}, headers=headers)
        assert response.status == 200 and "X-OmniRoute-Cache" not in response.headers
    assert len(upstream.requests) == 2


async def test_a_client_may_ask_for_caching(start: Any, upstream: Any) -> None:
    http, _ = await start()
    ask = {**ASK, "temperature": 0.9}
    for _ in range(2):
        await http.post("/v1/chat/completions", json=ask, headers={"X-OmniRoute-Cache": "true"})
    assert len(upstream.requests) == 1


async def test_failures_are_not_cached(start: Any, upstream: Any) -> None:
    http, _ = await start()
    upstream.push(Reply(status=500, error_message="down"))
    assert (await http.post("/v1/chat/completions", json=ASK)).status == 502
    assert (await http.post("/v1/chat/completions", json=ASK)).status == 200
    assert len(upstream.requests) == 2


async def test_kept_answers_survive_a_restart_and_clear_empties_both_tiers(
    start: Any, upstream: Any, make_client: Callable[..., Any]
) -> None:
    http, admin = await start()
    await http.post("/v1/chat/completions", json=ASK)
    await http.close()
    restarted = await make_client()
    hit = await restarted.post("/v1/chat/completions", json=ASK)
    assert hit.headers["X-OmniRoute-Cache"] == "HIT"
    stats = await (await restarted.get("/api/cache", headers=admin)).json()
    assert set(stats) >= {"semanticCache", "idempotency"}
    assert set(stats["semanticCache"]) >= {"memorySize", "memoryMaxSize", "dbSize", "hitRate"}
    assert set(stats["idempotency"]) == {"activeKeys", "windowMs"}
    assert stats["semanticCache"]["dbSize"] == 1 and stats["semanticCache"]["hitRate"] == 1.0
    cleared = await (await restarted.delete("/api/cache", headers=admin)).json()
    assert cleared == {"cleared": 1}
    miss = await restarted.post("/v1/chat/completions", json=ASK)
    assert miss.headers["X-OmniRoute-Cache"] == "MISS"
    assert len(upstream.requests) == 2


async def test_cache_settings_turn_it_off(start: Any, upstream: Any) -> None:
    http, admin = await start()
    response = await http.put("/api/cache/settings", json={"enabled": False}, headers=admin)
    assert (await response.json())["enabled"] is False
    for _ in range(2):
        await http.post("/v1/chat/completions", json=ASK)
    assert len(upstream.requests) == 2
    bad = await http.put("/api/cache/settings", json={"ttl_s": -1}, headers=admin)
    assert bad.status == 400 and "'ttl_s' must be a number above 0" in await bad.text()


async def test_an_idempotency_key_gets_the_first_answer_again(start: Any, upstream: Any) -> None:
    http, _ = await start()
    ask = {**ASK, "temperature": 1}
    upstream.push(Reply(text="first"), Reply(text="second"))
    key = {"Idempotency-Key": "order-42"}
    first = await http.post("/v1/chat/completions", json=ask, headers=key)
    again = await http.post("/v1/chat/completions", json=ask, headers=key)
    assert "X-OmniRoute-Idempotent" not in first.headers
    assert again.headers["X-OmniRoute-Idempotent"] == "true"
    assert (await again.json())["choices"][0]["message"]["content"] == "first"
    other = await http.post("/v1/chat/completions", json=ask, headers={"X-Request-Id": "other"})
    assert (await other.json())["choices"][0]["message"]["content"] == "second"
    assert len(upstream.requests) == 2


async def test_identical_requests_in_flight_share_one_upstream_call(
    start: Any, upstream: Any
) -> None:
    http, _ = await start()
    upstream.push(Reply(text="shared", first_byte_delay=0.3))
    responses = await asyncio.gather(
        *(http.post("/v1/chat/completions", json=ASK) for _ in range(5))
    )
    texts = [(await r.json())["choices"][0]["message"]["content"] for r in responses]
    assert texts == ["shared"] * 5
    assert len(upstream.requests) == 1
    assert sorted(r.headers["X-OmniRoute-Cache"] for r in responses) == ["HIT"] * 4 + ["MISS"]


def test_keys_differ_by_api_key_dialect_and_content_not_by_stream_or_user() -> None:
    body = {"model": "m", "temperature": 0, "messages": [{"role": "user", "content": "x"}]}
    base = request_key("openai", "1", body, None)
    assert request_key("openai", "1", {**body, "stream": True, "user": "u"}, None) == base
    assert request_key("openai", "2", body, None) != base
    assert request_key("anthropic", "1", body, None) != base
    assert request_key("openai", "1", {**body, "max_tokens": 5}, None) != base
