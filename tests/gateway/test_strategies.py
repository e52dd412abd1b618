"""Which target a request goes to: account strategies, session affinity, combo strategies
and the capability filter, observed through the HTTP API.

Every target points at the one fake upstream with its own API key, so the recorded
``Authorization`` header says which account an attempt went to.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from omni.admin.token import read_admin_token
from omni.config import Settings
from omni.gateway.routing import Need, unmet
from omni.providers.catalog import ModelInfo
from omni.serve import keys
from tests.fakes.upstream import Reply
from tests.gateway.test_fallback import keys_called

BODY = {"messages": [{"role": "user", "content": "hi"}]}
IMAGE = {
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            ],
        }
    ]
}


@pytest.fixture
def start(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any],
    settings: Settings,
) -> Callable[..., Any]:  # fmt: skip
    """A server with provider 'multi' (accounts a, b, c with keys ka, kb, kc) and the catalog
    providers deepseek (key kd) and openai (key ko), all served by the fake upstream."""

    async def go(
        resilience: dict[str, Any] | None = None, combos: dict[str, Any] | None = None
    ) -> Any:
        for account in ("a", "b", "c"):
            await asyncio.to_thread(
                add_provider, "multi", base_url=f"{upstream.url}/v1", api_key=f"k{account}",
                account=account, models=["m"], sync_models=False,
            )  # fmt: skip
        for name, key in (("deepseek", "kd"), ("openai", "ko")):
            await asyncio.to_thread(
                add_provider, name, base_url=f"{upstream.url}/v1", api_key=key, sync_models=False
            )
        http = await make_client()
        admin = {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}
        if resilience is not None:
            response = await http.put("/api/resilience", json=resilience, headers=admin)
            assert response.status == 200, await response.text()
        for name, spec in (combos or {}).items():
            response = await http.post("/api/combos", json={"name": name, **spec}, headers=admin)
            assert response.status == 201, await response.text()
        upstream.requests.clear()
        return http

    return go


async def ask(http: Any, model: str, body: dict[str, Any] = BODY, **extra: Any) -> Any:
    response = await http.post("/v1/chat/completions", json={"model": model, **body, **extra})
    assert response.status == 200, await response.text()
    return response


async def test_fill_first_keeps_using_the_first_account(start: Any, upstream: Any) -> None:
    http = await start()
    for _ in range(4):
        await ask(http, "multi/m")
    assert keys_called(upstream) == ["ka"] * 4


async def test_round_robin_stays_on_an_account_three_times_then_moves_on(
    start: Any, upstream: Any
) -> None:
    http = await start({"providers": {"multi": {"account_strategy": "round-robin"}}})
    for _ in range(7):
        await ask(http, "multi/m")
    assert keys_called(upstream) == ["ka", "ka", "ka", "kb", "kb", "kb", "kc"]


async def test_least_used_spreads_requests_evenly(start: Any, upstream: Any) -> None:
    http = await start({"account_strategy": "least-used"})
    for _ in range(6):
        await ask(http, "multi/m")
    assert Counter(keys_called(upstream)) == {"ka": 2, "kb": 2, "kc": 2}


async def test_random_and_p2c_use_more_than_one_account(start: Any, upstream: Any) -> None:
    http = await start({"providers": {"multi": {"account_strategy": "random"}}})
    http.app[keys.GATEWAY].router.rng = random.Random(7)
    for _ in range(12):
        await ask(http, "multi/m")
    assert len(set(keys_called(upstream))) > 1


async def test_p2c_prefers_the_healthier_of_two_accounts(start: Any, upstream: Any) -> None:
    http = await start({"providers": {"multi": {"account_strategy": "p2c"}}})
    router = http.app[keys.GATEWAY].router
    router.rng = random.Random(3)
    targets = http.app[keys.GATEWAY].registry.plan("multi/m").targets
    for target in targets[:2]:  # a and b failed lately; c is healthy
        for _ in range(3):
            router.failed(target)
    for _ in range(10):
        await ask(http, "multi/m")
    called = Counter(keys_called(upstream))
    # c leads whenever it is one of the two drawn (2 draws in 3); a and b only otherwise.
    assert called["kc"] > called["ka"] + called["kb"]


async def test_a_conversation_stays_on_its_account(start: Any, upstream: Any) -> None:
    http = await start({"providers": {"multi": {"account_strategy": "round-robin"}}})
    await ask(http, "multi/m", user="conversation-1")  # goes to a
    for _ in range(3):  # other traffic moves the rotation on to b
        await ask(http, "multi/m")
    await ask(http, "multi/m", user="conversation-1")
    await ask(http, "multi/m", prompt_cache_key="codex-thread")  # a new one: rotation (b)
    assert keys_called(upstream) == ["ka", "ka", "ka", "kb", "ka", "kb"]
    admin = {"Authorization": f"Bearer {read_admin_token(http.app[keys.SETTINGS].paths)}"}
    sessions = await (await http.get("/api/sessions", headers=admin)).json()
    assert {s["session"] for s in sessions["sessions"]} == {"conversation-1", "codex-thread"}


async def test_affinity_can_be_switched_off(start: Any, upstream: Any) -> None:
    http = await start(
        {"affinity_ttl_s": 0, "providers": {"multi": {"account_strategy": "round-robin"}}}
    )
    for _ in range(4):
        await ask(http, "multi/m", user="conversation-1")
    assert keys_called(upstream) == ["ka", "ka", "ka", "kb"]


# -- combo strategies --------------------------------------------------------------------------

TRIO = ["openai/gpt-4o", "deepseek/deepseek-chat", "openai/gpt-4o-mini"]


def models_called(upstream: Any) -> list[str]:
    return [r.json["model"] for r in upstream.requests]


async def test_cost_optimized_tries_the_cheapest_list_price_first(
    start: Any, upstream: Any
) -> None:
    http = await start(combos={"cheap": {"steps": TRIO, "strategy": "cost-optimized"}})
    upstream.push(Reply(status=500, error_message="down"))
    await ask(http, "cheap")
    # deepseek-chat (0.28 + 0.42) fails, then gpt-4o-mini (0.15 + 0.6), never gpt-4o.
    assert models_called(upstream) == ["deepseek-chat", "gpt-4o-mini"]


async def test_context_optimized_tries_the_largest_window_first(start: Any, upstream: Any) -> None:
    steps = ["deepseek/deepseek-chat", "openai/gpt-4.1", "openai/gpt-4o"]
    http = await start(combos={"wide": {"steps": steps, "strategy": "context-optimized"}})
    await ask(http, "wide")
    assert models_called(upstream) == ["gpt-4.1"]


async def test_round_robin_combo_rotates_the_first_step(start: Any, upstream: Any) -> None:
    http = await start(combos={"rr": {"steps": TRIO, "strategy": "round-robin"}})
    for _ in range(4):
        await ask(http, "rr")
    assert models_called(upstream) == ["gpt-4o", "deepseek-chat", "gpt-4o-mini", "gpt-4o"]


async def test_strict_random_leads_with_each_step_once_per_cycle(start: Any, upstream: Any) -> None:
    http = await start(combos={"deck": {"steps": TRIO, "strategy": "strict-random"}})
    http.app[keys.GATEWAY].router.rng = random.Random(11)
    for _ in range(6):
        await ask(http, "deck")
    called = models_called(upstream)
    assert sorted(called[:3]) == sorted(called[3:]) == sorted(m.split("/")[1] for m in TRIO)


async def test_weighted_follows_the_weights(start: Any, upstream: Any) -> None:
    steps = ["openai/gpt-4o", "deepseek/deepseek-chat"]
    config = {"steps": {"deepseek/deepseek-chat": {"weight": 20}}}
    http = await start(combos={"w": {"steps": steps, "strategy": "weighted", "config": config}})
    http.app[keys.GATEWAY].router.rng = random.Random(5)
    for _ in range(20):
        await ask(http, "w")
    called = Counter(models_called(upstream))
    assert called["deepseek-chat"] >= 15


async def test_lkgp_leads_with_the_step_that_answered_last(start: Any, upstream: Any) -> None:
    http = await start(combos={"lk": {"steps": TRIO, "strategy": "lkgp"}})
    upstream.push(Reply(status=503, error_message="busy"))
    await ask(http, "lk")  # gpt-4o fails, deepseek answers
    http.app[keys.GATEWAY].cooldowns.reset()
    await ask(http, "lk")
    assert models_called(upstream) == ["gpt-4o", "deepseek-chat", "deepseek-chat"]


async def test_least_used_combo_moves_to_the_step_used_least(start: Any, upstream: Any) -> None:
    steps = ["openai/gpt-4o", "deepseek/deepseek-chat"]
    http = await start(combos={"lu": {"steps": steps, "strategy": "least-used"}})
    for _ in range(4):
        await ask(http, "lu")
    assert Counter(models_called(upstream)) == {"gpt-4o": 2, "deepseek-chat": 2}


async def test_a_step_pinned_to_an_account_uses_only_that_account(
    start: Any, upstream: Any
) -> None:
    config = {"steps": {"multi/m": {"account": "c"}}}
    http = await start(combos={"pinned": {"steps": ["multi/m"], "config": config}})
    await ask(http, "pinned")
    assert keys_called(upstream) == ["kc"]


# -- the capability filter ---------------------------------------------------------------------


async def test_a_model_without_vision_is_skipped_for_an_image(start: Any, upstream: Any) -> None:
    steps = ["deepseek/deepseek-chat", "openai/gpt-4o-mini"]
    http = await start(combos={"vis": {"steps": steps}})
    await ask(http, "vis", IMAGE)
    await ask(http, "vis")  # text only: deepseek is fine
    assert models_called(upstream) == ["gpt-4o-mini", "deepseek-chat"]


async def test_a_prompt_larger_than_the_window_skips_that_model(start: Any, upstream: Any) -> None:
    steps = ["deepseek/deepseek-chat", "openai/gpt-4.1-nano"]
    http = await start(combos={"long": {"steps": steps}})
    huge = {"messages": [{"role": "user", "content": "word " * 140_000}]}  # ~175k tokens
    await ask(http, "long", huge)
    await ask(http, "long")
    assert models_called(upstream) == ["gpt-4.1-nano", "deepseek-chat"]


async def test_when_no_target_can_serve_the_request_the_400_says_why(
    start: Any, upstream: Any
) -> None:
    http = await start()
    response = await http.post(
        "/v1/chat/completions", json={"model": "deepseek/deepseek-chat", **IMAGE}
    )
    assert response.status == 400
    message = (await response.json())["error"]["message"]
    assert "deepseek-chat cannot read images" in message
    assert upstream.requests == []


async def test_models_whose_capabilities_are_unknown_are_not_filtered(
    start: Any, upstream: Any, add_provider: Callable[..., Any]
) -> None:
    await asyncio.to_thread(
        add_provider, "perplexity", base_url=f"{upstream.url}/v1", api_key="kp",
        sync_models=False,
    )  # fmt: skip
    http = await start()
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    await ask(http, "perplexity/sonar", IMAGE, tools=tools)
    assert models_called(upstream) == ["sonar"]


def test_unmet_names_the_missing_capability() -> None:
    info = ModelInfo("vision-only", context=1000, capabilities=("vision",))
    assert unmet(info, Need(tools=True)) == "vision-only cannot call tools"
    assert unmet(info, Need(vision=True, tokens=999)) is None
    assert unmet(info, Need(tokens=1001)) == (
        "prompt of ~1001 tokens exceeds vision-only's 1000-token context"
    )
