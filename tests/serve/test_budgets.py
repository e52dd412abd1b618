"""Spending budgets per API key: reserved before the call, settled after, never overshot."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from omni.admin.token import read_admin_token
from omni.config import Settings
from omni.gateway.budgets import period_bounds
from tests.fakes.upstream import Reply

BODY = {"model": "p/m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
COST = (11 + 7) * 1000 / 1e6  # the fake reports 11 + 7 tokens; both priced at $1000 per 1M


@pytest.fixture
def start(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any],
    settings: Settings,
) -> Callable[..., Any]:  # fmt: skip
    """A server requiring keys, provider p (model m priced at $1000/1M) and one key."""

    async def go(limit: float, **budget: Any) -> tuple[Any, dict[str, str], dict[str, str]]:
        await asyncio.to_thread(
            add_provider, "p", base_url=f"{upstream.url}/v1", api_key="kp", models=["m"],
            sync_models=False,
        )  # fmt: skip
        http = await make_client(require_api_key=True)
        admin = {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}
        price = {"p/m": {"input": 1000, "output": 1000}}
        assert (await http.put("/api/pricing", json=price, headers=admin)).status == 200
        created = await (await http.post("/api/keys", json={"name": "ci"}, headers=admin)).json()
        response = await http.post(
            "/api/usage/budget",
            json={"keyId": created["id"], "limit": limit, **budget},
            headers=admin,
        )
        assert response.status == 200, await response.text()
        upstream.requests.clear()
        return http, admin, {"Authorization": f"Bearer {created['key']}"}

    return go


async def test_fifty_concurrent_requests_cannot_overshoot_a_budget_for_ten(
    start: Any, upstream: Any
) -> None:
    http, admin, key = await start(limit=10 * COST, period="daily")
    upstream.default = Reply(first_byte_delay=0.05)  # the requests overlap
    responses = await asyncio.gather(
        *(http.post("/v1/chat/completions", json=BODY, headers=key) for _ in range(50))
    )
    served = [r for r in responses if r.status == 200]
    refused = [r for r in responses if r.status != 200]
    assert 1 <= len(served) <= 10
    assert len(upstream.requests) == len(served)
    assert {r.status for r in refused} == {402}
    error = (await refused[0].json())["error"]
    assert error["code"] == "budget_exceeded"
    assert "daily budget of API key 'ci' is used up" in error["message"]
    assert int(refused[0].headers["Retry-After"]) >= 1
    (budget,) = (await (await http.get("/api/usage/budget", headers=admin)).json())["budgets"]
    assert budget["spent"] == pytest.approx(len(served) * COST)
    assert budget["spent"] <= budget["limit"] + 1e-12
    assert budget["reserved"] == 0


async def test_the_refusal_speaks_the_callers_dialect(start: Any, upstream: Any) -> None:
    http, _, key = await start(limit=0.0)
    anthropic = {"model": "p/m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
    response = await http.post(
        "/v1/messages", json=anthropic, headers={"x-api-key": key["Authorization"][7:]}
    )
    assert response.status == 402
    body = await response.json()
    assert body["type"] == "error" and "budget" in body["error"]["message"]
    assert upstream.requests == []


async def test_a_key_near_its_limit_gets_a_warning(start: Any) -> None:
    http, _, key = await start(limit=3 * COST, warnAt=0.5)
    first = await http.post("/v1/chat/completions", json=BODY, headers=key)
    assert "X-OmniRoute-Budget-Warning" not in first.headers
    second = await http.post("/v1/chat/completions", json=BODY, headers=key)
    assert second.headers["X-OmniRoute-Budget-Warning"].endswith("of the monthly budget")


async def test_budget_api_checks_its_input(start: Any) -> None:
    http, admin, _ = await start(limit=1.0)
    for body, status, words in (
        ({"keyId": 1, "limit": 1, "period": "hourly"}, 400, "'period' must be one of"),
        ({"keyId": 1, "limit": -1}, 400, "'limit' must be a number"),
        ({"keyId": 999, "limit": 1}, 404, "no API key #999"),
        ({"limit": 1}, 400, "give 'keyId' and 'limit'"),
    ):
        response = await http.post("/api/usage/budget", json=body, headers=admin)
        assert response.status == status
        assert words in (await response.json())["error"]["message"]
    assert (await http.delete("/api/usage/budget/1", headers=admin)).status == 200
    assert (await http.delete("/api/usage/budget/1", headers=admin)).status == 404


def test_periods_are_utc_days_weeks_from_monday_and_calendar_months() -> None:
    moment = datetime(2026, 2, 18, 15, 30, tzinfo=UTC).timestamp()  # a Wednesday
    day = period_bounds("daily", moment)
    week = period_bounds("weekly", moment)
    month = period_bounds("monthly", moment)
    as_dates = [
        [datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d") for t in pair]
        for pair in (day, week, month)
    ]
    assert as_dates == [
        ["2026-02-18", "2026-02-19"],
        ["2026-02-16", "2026-02-23"],
        ["2026-02-01", "2026-03-01"],
    ]


async def test_a_keys_own_rate_limit_refuses_with_429(start: Any, upstream: Any) -> None:
    http, admin, key = await start(limit=100.0)
    keys_list = await (await http.get("/api/keys", headers=admin)).json()
    key_id = str(keys_list["keys"][0]["id"])
    limits = {"keys": {key_id: {"rpm": 1}}}
    assert (await http.put("/api/rate-limit", json=limits, headers=admin)).status == 200
    first = await http.post("/v1/chat/completions", json=BODY, headers=key)
    second = await http.post("/v1/chat/completions", json=BODY, headers=key)
    assert (first.status, second.status) == (200, 429)
    error = (await second.json())["error"]
    assert (
        error["code"] == "rate_limited" and "API key 'ci' is at its rate limit" in error["message"]
    )
    assert 1 <= int(second.headers["Retry-After"]) <= 61  # one-second buckets, 60 s window
    assert len(upstream.requests) == 1
    state = await (await http.get("/api/rate-limits", headers=admin)).json()
    assert [c["scope"] for c in state["caps"]] == [f"key:{key_id}"]
    bad = await http.put("/api/rate-limit", json={"keys": {"ci": {"rpm": 1}}}, headers=admin)
    assert bad.status == 400
