"""Fallback that never strands the user: accounts, combos, failure classes, cooldowns.

All targets point at the one fake upstream; each has its own API key, so the recorded
``Authorization`` header says which target an attempt went to.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from omni.admin import AdminContext
from omni.config import Settings
from omni.serve import keys
from omni.store import combos as combo_repo
from tests.fakes.upstream import Reply
from tests.serve.conftest import usage_rows

BODY = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def setup(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any],
    settings: Settings,
) -> Callable[..., Any]:  # fmt: skip
    """Providers p1..p3 (one account each, keys k1..k3) and combo 'chain' = p1, p2, p3."""

    async def start(**overrides: Any) -> Any:
        for n in (1, 2, 3):
            await asyncio.to_thread(
                add_provider, f"p{n}", base_url=f"{upstream.url}/v1", api_key=f"k{n}",
                models=["m"], sync_models=False,
            )  # fmt: skip
        ctx = AdminContext.open(settings)
        with ctx.db.transaction() as conn:
            combo_repo.upsert_combo(conn, "chain", "priority", ["p1/m", "p2/m", "p3/m"])
        upstream.requests.clear()
        return await make_client(**overrides)

    return start


def keys_called(upstream: Any) -> list[str]:
    return [r.headers["Authorization"].removeprefix("Bearer ") for r in upstream.requests]


async def test_combo_falls_through_429_and_timeout_then_skips_the_cooling_account(
    setup: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    http = await setup(first_byte_timeout=0.5)
    upstream.push(
        Reply(status=429, headers={"Retry-After": "30"}, error_message="rate limited"),
        Reply(first_byte_delay=30),
        Reply(text="third one answers"),
    )
    response = await http.post("/v1/chat/completions", json={"model": "chain", **BODY})
    assert response.status == 200
    assert (await response.json())["choices"][0]["message"]["content"] == "third one answers"
    assert response.headers["X-OmniRoute-Fallback-Attempts"] == "2"
    assert response.headers["X-OmniRoute-Provider"] == "p3"
    assert keys_called(upstream) == ["k1", "k2", "k3"]

    # p1 rests for its 30 s; p2 rested briefly after its timeout. The next request goes on.
    upstream.requests.clear()
    upstream.push(Reply(text="again"))
    response = await http.post("/v1/chat/completions", json={"model": "chain", **BODY})
    assert response.status == 200
    assert "k1" not in keys_called(upstream)

    rows = await usage_rows(http, settings)
    assert (rows[0]["attempts"], rows[0]["combo"], rows[0]["provider_id"]) == (3, "chain", "p3")
    assert json.loads(rows[0]["route"]) == [
        ["p1", "default", "upstream_429"], ["p2", "default", "upstream_timeout"],
        ["p3", "default", "ok"],
    ]  # fmt: skip
    provider, account, outcome = json.loads(rows[1]["route"])[0]
    assert (provider, account) == ("p1", "default") and outcome.startswith("cooling ")


async def test_a_plain_400_is_returned_at_once(setup: Callable[..., Any], upstream: Any) -> None:
    http = await setup()
    upstream.push(Reply(status=400, error_message="'temperature' must be at most 2"))
    response = await http.post("/v1/chat/completions", json={"model": "chain", **BODY})
    assert response.status == 400
    assert "temperature" in (await response.json())["error"]["message"]
    assert keys_called(upstream) == ["k1"], "a bad request is not looped over every target"


async def test_context_overflow_400_falls_through(setup: Callable[..., Any], upstream: Any) -> None:
    http = await setup()
    upstream.push(
        Reply(status=400, error_message="This model's maximum context length is 8192 tokens"),
        Reply(text="bigger model"),
    )
    response = await http.post("/v1/chat/completions", json={"model": "chain", **BODY})
    assert response.status == 200
    assert keys_called(upstream) == ["k1", "k2"]


@pytest.mark.parametrize("status", [401, 402, 403, 500, 503])
async def test_account_failures_rotate_to_the_next_account(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any],
    status: int,
) -> None:  # fmt: skip
    for account, key in (("first", "ka"), ("second", "kb")):
        await asyncio.to_thread(
            add_provider, "multi", base_url=f"{upstream.url}/v1", api_key=key, account=account,
            models=["m"], sync_models=False,
        )  # fmt: skip
    http = await make_client()
    upstream.requests.clear()
    upstream.push(Reply(status=status, error_message="nope"), Reply(text="second account"))
    response = await http.post("/v1/chat/completions", json={"model": "multi/m", **BODY})
    assert response.status == 200
    assert keys_called(upstream) == ["ka", "kb"]


async def test_every_account_cooling_fails_fast_with_retry_after(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any]
) -> None:
    await asyncio.to_thread(
        add_provider, "solo", base_url=f"{upstream.url}/v1", api_key="ks", models=["m"],
        sync_models=False,
    )  # fmt: skip
    http = await make_client()
    upstream.push(Reply(status=429, headers={"Retry-After": "40"}, error_message="slow"))
    first = await http.post("/v1/chat/completions", json={"model": "solo/m", **BODY})
    assert first.status == 429
    upstream.requests.clear()
    second = await http.post("/v1/chat/completions", json={"model": "solo/m", **BODY})
    assert second.status == 429
    assert 35 <= int(second.headers["Retry-After"]) <= 40
    assert "cooling down" in (await second.json())["error"]["message"]
    assert upstream.requests == [], "a resting account is not called"


async def test_stream_request_falls_over_before_the_first_byte(
    setup: Callable[..., Any], upstream: Any
) -> None:
    http = await setup()
    upstream.push(Reply(status=503, error_message="overloaded"), Reply(text="streamed", chunks=2))
    response = await http.post(
        "/v1/messages",
        json={"model": "chain", "max_tokens": 50, "stream": True, **BODY},
    )
    assert response.status == 200
    raw = await response.read()
    assert b"event: message_stop" in raw
    assert keys_called(upstream) == ["k1", "k2"]


async def test_all_targets_failing_returns_the_last_error(
    setup: Callable[..., Any], upstream: Any
) -> None:
    http = await setup()
    upstream.push(*[Reply(status=500, error_message=f"down {n}") for n in (1, 2, 3)])
    response = await http.post("/v1/chat/completions", json={"model": "chain", **BODY})
    assert response.status == 502
    assert "down 3" in (await response.json())["error"]["message"]
    assert response.headers["X-OmniRoute-Fallback-Attempts"] == "2"


async def test_breaker_opens_after_repeated_failures_and_half_opens_later(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any],
) -> None:  # fmt: skip
    await asyncio.to_thread(
        add_provider, "lp", base_url=f"{upstream.url}/v1", models=["m"], sync_models=False
    )  # a loopback provider: the "local" profile opens after 2 failures, for 15 s
    http = await make_client()
    upstream.requests.clear()
    upstream.push(Reply(status=500, error_message="boom"), Reply(status=500, error_message="boom"))
    for _ in range(2):
        assert (
            await http.post("/v1/chat/completions", json={"model": "lp/m", **BODY})
        ).status == 502
    # Open: the provider is not called at all.
    resting = await http.post("/v1/chat/completions", json={"model": "lp/m", **BODY})
    assert resting.status == 503
    assert "circuit open" in (await resting.json())["error"]["message"]
    assert len(upstream.requests) == 2

    # 16 s later (without sleeping): half-open lets one trial through; it succeeds and closes.
    breakers = http.app[keys.GATEWAY].breakers
    later = breakers.clock() + 16
    breakers.clock = lambda: later
    upstream.push(Reply(text="healthy again"))
    trial = await http.post("/v1/chat/completions", json={"model": "lp/m", **BODY})
    assert trial.status == 200
    assert len(upstream.requests) == 3
