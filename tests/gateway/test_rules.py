"""The rules of fallback, one by one: per-step retries, credential refresh on 401, deadlines
per provider and per combo, attempt caps, the global fallback model, operator caps and
their queue, breakers that survive a restart, and a client that goes away.

Providers p1 and p2 (keys k1, k2) both point at the one fake upstream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from omni.admin.token import read_admin_token
from omni.config import Settings
from omni.providers.executor import Target
from omni.serve import keys
from omni.store.usage import UsageRecord
from tests.fakes.upstream import Reply
from tests.gateway.test_fallback import keys_called
from tests.serve.conftest import usage_rows

BODY = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def start(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any],
    settings: Settings,
) -> Callable[..., Any]:  # fmt: skip
    async def go(
        resilience: dict[str, Any] | None = None,
        rate_limits: dict[str, Any] | None = None,
        combo: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> Any:
        for n in (1, 2):
            await asyncio.to_thread(
                add_provider, f"p{n}", base_url=f"{upstream.url}/v1", api_key=f"k{n}",
                models=["m"], sync_models=False,
            )  # fmt: skip
        http = await make_client(**overrides)
        admin = {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}
        for path, document in (("/api/resilience", resilience), ("/api/rate-limit", rate_limits)):
            if document is not None:
                response = await http.put(path, json=document, headers=admin)
                assert response.status == 200, await response.text()
        if combo is not None:
            spec = {"name": "chain", "steps": ["p1/m", "p2/m"], **combo}
            response = await http.post("/api/combos", json=spec, headers=admin)
            assert response.status == 201, await response.text()
        upstream.requests.clear()
        return http

    return go


async def chat(http: Any, model: str = "chain") -> Any:
    return await http.post("/v1/chat/completions", json={"model": model, **BODY})


# -- per-step retries --------------------------------------------------------------------------


async def test_a_step_with_retries_tries_its_account_again_after_a_5xx(
    start: Any, upstream: Any
) -> None:
    http = await start(combo={"config": {"retries": 1}})
    upstream.push(Reply(status=502, error_message="blip"), Reply(text="second try"))
    response = await chat(http)
    assert response.status == 200
    assert keys_called(upstream) == ["k1", "k1"]


async def test_a_429_is_never_retried_on_the_same_account(start: Any, upstream: Any) -> None:
    http = await start(combo={"config": {"retries": 2}})
    upstream.push(Reply(status=429, error_message="slow down"), Reply(text="p2 answers"))
    response = await chat(http)
    assert response.status == 200
    assert keys_called(upstream) == ["k1", "k2"]


# -- credentials refreshed on 401 --------------------------------------------------------------


async def test_a_401_refreshes_the_credentials_once_and_retries(start: Any, upstream: Any) -> None:
    http = await start(combo={})
    refreshed: list[str] = []

    async def refresh(target: Target) -> Target:
        refreshed.append(target.account_name)
        return replace(target, headers={**target.headers, "Authorization": "Bearer fresh"})

    http.app[keys.GATEWAY].refresher = refresh
    upstream.push(Reply(status=401, error_message="token expired"), Reply(text="ok now"))
    response = await chat(http)
    assert response.status == 200
    assert keys_called(upstream) == ["k1", "fresh"]
    assert refreshed == ["default"]


async def test_a_401_that_cannot_be_refreshed_moves_to_the_next_account(
    start: Any, upstream: Any
) -> None:
    http = await start(combo={})
    upstream.push(Reply(status=401, error_message="bad key"), Reply(text="p2 answers"))
    response = await chat(http)
    assert response.status == 200
    assert keys_called(upstream) == ["k1", "k2"]


# -- deadlines ---------------------------------------------------------------------------------


async def test_a_providers_own_first_byte_deadline_moves_on(start: Any, upstream: Any) -> None:
    http = await start(
        resilience={"providers": {"p1": {"first_byte_timeout_s": 0.3}}},
        combo={},
        first_byte_timeout=60,
    )
    upstream.push(Reply(first_byte_delay=10, text="too late"), Reply(text="p2 in time"))
    response = await chat(http)
    assert response.status == 200
    assert "p2 in time" in (await response.json())["choices"][0]["message"]["content"]


async def test_a_combos_step_deadline_moves_on(start: Any, upstream: Any) -> None:
    http = await start(
        combo={"config": {"steps": {"p1/m": {"timeout_s": 0.3}}}}, first_byte_timeout=60
    )
    upstream.push(Reply(first_byte_delay=10, text="too late"), Reply(text="p2 in time"))
    response = await chat(http)
    assert response.status == 200
    assert response.headers["X-OmniRoute-Provider"] == "p2"


# -- attempt cap and global fallback -----------------------------------------------------------


async def test_a_combos_attempt_cap_stops_early(start: Any, upstream: Any) -> None:
    http = await start(combo={"config": {"max_attempts": 1}})
    upstream.push(Reply(status=500, error_message="down"))
    response = await chat(http)
    assert response.status == 502
    assert keys_called(upstream) == ["k1"]


async def test_the_global_fallback_model_is_tried_once_when_all_else_failed(
    start: Any, upstream: Any, settings: Settings
) -> None:
    http = await start(resilience={"fallback_model": "p2/m"})
    upstream.push(Reply(status=503, error_message="overloaded"), Reply(text="rescued"))
    response = await chat(http, "p1/m")
    assert response.status == 200
    assert response.headers["X-OmniRoute-Model"] == "p2/m"
    assert keys_called(upstream) == ["k1", "k2"]
    (row,) = await usage_rows(http, settings)
    assert "fallback to p2/m" in row["route"]


async def test_the_fallback_model_is_not_used_for_a_bad_request(start: Any, upstream: Any) -> None:
    http = await start(resilience={"fallback_model": "p2/m"})
    upstream.push(Reply(status=400, error_message="messages[0].content is invalid"))
    response = await chat(http, "p1/m")
    assert response.status == 400
    assert keys_called(upstream) == ["k1"]


# -- operator caps -----------------------------------------------------------------------------


async def test_a_provider_at_its_rpm_cap_hands_over_to_the_next_target(
    start: Any, upstream: Any
) -> None:
    http = await start(rate_limits={"providers": {"p1": {"rpm": 1}}}, combo={})
    for _ in range(3):
        assert (await chat(http)).status == 200
    assert keys_called(upstream) == ["k1", "k2", "k2"]


async def test_a_token_cap_counts_what_the_upstream_reported(start: Any, upstream: Any) -> None:
    # The fake reports 11 + 7 tokens per answer: the second request would pass 25 TPM.
    http = await start(rate_limits={"models": {"p1/m": {"tpm": 25}}}, combo={})
    for _ in range(2):
        assert (await chat(http)).status == 200
    assert keys_called(upstream) == ["k1", "k2"]


async def test_concurrency_cap_queues_then_serves(start: Any, upstream: Any) -> None:
    http = await start(
        rate_limits={"accounts": {"p1/default": {"concurrency": 1}}, "queue": {"wait_s": 30}}
    )
    upstream.push(Reply(first_byte_delay=0.3, text="first"), Reply(text="second"))
    first, second = await asyncio.gather(chat(http, "p1/m"), chat(http, "p1/m"))
    assert (first.status, second.status) == (200, 200)
    texts = {(await r.json())["choices"][0]["message"]["content"] for r in (first, second)}
    assert texts == {"first", "second"}


async def test_a_full_cap_fails_with_429_when_no_slot_frees_in_time(
    start: Any, upstream: Any
) -> None:
    http = await start(
        rate_limits={"providers": {"p1": {"concurrency": 1}}, "queue": {"wait_s": 0.2}}
    )
    upstream.push(Reply(first_byte_delay=3, text="slow"))
    slow, refused = sorted(
        await asyncio.gather(chat(http, "p1/m"), chat(http, "p1/m")), key=lambda r: r.status
    )
    assert (slow.status, refused.status) == (200, 429)
    assert (await refused.json())["error"]["code"] == "operator_cap"
    assert "Retry-After" in refused.headers
    assert len(upstream.requests) == 1


async def test_a_full_queue_refuses_at_once(start: Any, upstream: Any) -> None:
    http = await start(rate_limits={"providers": {"p1": {"concurrency": 1}}, "queue": {"depth": 0}})
    upstream.push(Reply(first_byte_delay=1, text="slow"))
    slow, refused = sorted(
        await asyncio.gather(chat(http, "p1/m"), chat(http, "p1/m")), key=lambda r: r.status
    )
    assert (slow.status, refused.status) == (200, 429)
    assert (await refused.json())["error"]["code"] == "queue_full"


async def test_caps_and_their_use_are_visible(start: Any, settings: Settings) -> None:
    http = await start(rate_limits={"providers": {"p1": {"rpm": 5}}})
    await chat(http, "p1/m")
    admin = {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}
    state = await (await http.get("/api/rate-limits", headers=admin)).json()
    assert state["caps"] == [
        {"scope": "provider:p1", "rpm": 5, "tpm": None, "concurrency": None,
         "requests_last_minute": 1, "tokens_last_minute": 18, "in_flight": 0}
    ]  # fmt: skip


# -- breakers survive a restart ----------------------------------------------------------------


async def test_an_open_circuit_is_still_open_after_a_restart(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any]
) -> None:
    await asyncio.to_thread(
        add_provider, "lp", base_url=f"{upstream.url}/v1", models=["m"], sync_models=False
    )  # a loopback provider: the "local" profile opens after 2 failures, for 15 s
    http = await make_client()
    upstream.push(Reply(status=500), Reply(status=500))
    for _ in range(2):
        await chat(http, "lp/m")
    await http.close()
    upstream.requests.clear()

    restarted = await make_client()
    response = await chat(restarted, "lp/m")
    assert response.status == 503
    assert "circuit open" in (await response.json())["error"]["message"]
    assert upstream.requests == []


# -- the client goes away ----------------------------------------------------------------------


async def test_a_client_that_leaves_stops_the_request_without_penalty(
    start: Any, upstream: Any
) -> None:
    http = await start(combo={})
    gateway = http.app[keys.GATEWAY]
    cancelled = asyncio.Event()
    record = gateway.usage.record

    def watch(row: UsageRecord) -> None:
        record(row)
        if row.status == 499:
            cancelled.set()

    gateway.usage.record = watch
    upstream.push(Reply(first_byte_delay=5, status=500))
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await chat(http)
    await asyncio.wait_for(cancelled.wait(), 10)
    assert keys_called(upstream) == ["k1"]  # p2 never tried for a client that left
    assert gateway.cooldowns.snapshot() == {}
    assert gateway.breakers.snapshot() == {}


# -- the policy API ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "document", "complaint"),
    [
        ("/api/resilience", {"max_attempts": 0}, "'max_attempts' must be at least 1"),
        ("/api/resilience", {"account_strategy": "sometimes"}, "'account_strategy' must be"),
        ("/api/resilience", {"retry": 3}, "unknown field 'retry'"),
        ("/api/resilience", {"profiles": {"cloud": {}}}, "unknown breaker profile 'cloud'"),
        ("/api/rate-limit", {"models": {"gpt-4o": {"rpm": 1}}}, "written 'provider/model'"),
        ("/api/rate-limit", {"providers": {"p1": {"rpm": "lots"}}}, "'providers.p1.rpm'"),
    ],
)
async def test_a_bad_policy_is_refused_and_the_old_one_kept(
    start: Any, settings: Settings, path: str, document: dict[str, Any], complaint: str
) -> None:
    http = await start(resilience={"max_attempts": 3})
    admin = {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}
    response = await http.put(path, json=document, headers=admin)
    assert response.status == 400
    assert complaint in (await response.json())["error"]["message"]
    kept = await (await http.get("/api/resilience", headers=admin)).json()
    assert kept["settings"] == {"max_attempts": 3}


async def test_breaker_profiles_can_be_tuned(start: Any, upstream: Any, settings: Settings) -> None:
    http = await start(resilience={"profiles": {"local": {"failures": 1, "open_s": 60}}})
    upstream.push(Reply(status=500))
    await chat(http, "p1/m")
    response = await chat(http, "p1/m")
    assert response.status == 503  # one failure was enough with the tuned profile
    admin = {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}
    state = await (await http.get("/api/resilience", headers=admin)).json()
    assert state["profiles"]["local"] == {"failures": 1, "open_s": 60}
    assert state["breakers"]["p1"]["state"] == "open"


# -- the route taken is stored and readable ----------------------------------------------------


async def test_the_request_log_says_which_targets_were_tried_and_why(
    start: Any, upstream: Any, settings: Settings
) -> None:
    http = await start(combo={})
    upstream.push(Reply(status=429, headers={"Retry-After": "30"}, error_message="slow down"))
    assert (await chat(http)).status == 200
    assert (await chat(http)).status == 200  # p1 is resting now
    admin = {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}
    logs = await (await http.get("/api/usage/request-logs?limit=2", headers=admin)).json()
    newest, first = logs["requests"]
    assert first["route"] == [
        {"provider": "p1", "account": "default", "outcome": "upstream_429"},
        {"provider": "p2", "account": "default", "outcome": "ok"},
    ]
    assert newest["route"][0]["outcome"].startswith("cooling")
    assert (first["combo"], first["attempts"], first["provider_id"]) == ("chain", 2, "p2")
    served_by_p1 = await http.get("/api/usage/request-logs?provider=p1", headers=admin)
    assert (await served_by_p1.json())["requests"] == []
    bad = await http.get("/api/usage/request-logs?limit=lots", headers=admin)
    assert bad.status == 400
