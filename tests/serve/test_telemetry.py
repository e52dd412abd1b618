"""Cost per request, the price table, telemetry summary and Prometheus metrics."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from omni.admin.token import read_admin_token
from omni.config import Settings
from omni.gateway.telemetry import MAX_SERIES, Telemetry
from omni.providers.catalog import load_catalog
from omni.store.usage import UsageRecord
from tests.fakes.upstream import Reply, Usage
from tests.serve.conftest import usage_rows

BODY = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def start(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any],
    settings: Settings,
) -> Callable[..., Any]:  # fmt: skip
    async def go() -> tuple[Any, dict[str, str]]:
        await asyncio.to_thread(
            add_provider, "openai", base_url=f"{upstream.url}/v1", api_key="ko", sync_models=False
        )
        await asyncio.to_thread(
            add_provider, "custom", base_url=f"{upstream.url}/v1", api_key="kc", models=["m"],
            sync_models=False,
        )  # fmt: skip
        http = await make_client()
        return http, {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}

    return go


async def test_cost_uses_the_catalog_price_and_the_cached_rate(
    start: Any, upstream: Any, settings: Settings
) -> None:
    http, _ = await start()
    upstream.push(Reply(usage=Usage(input=1000, output=200, cache_read=400)))
    response = await http.post("/v1/chat/completions", json={"model": "openai/gpt-4o-mini", **BODY})
    assert response.status == 200
    price = next(m.price for m in load_catalog().get("openai").models if m.id == "gpt-4o-mini")
    assert price is not None and price.cached_input is not None
    expected = (600 * price.input + 400 * price.cached_input + 200 * price.output) / 1e6
    assert float(response.headers["X-OmniRoute-Response-Cost"]) == pytest.approx(expected)
    (row,) = await usage_rows(http, settings)
    assert row["cost_usd"] == pytest.approx(expected)


async def test_an_unpriced_model_has_no_cost_until_the_user_prices_it(
    start: Any, settings: Settings
) -> None:
    http, admin = await start()
    response = await http.post("/v1/chat/completions", json={"model": "custom/m", **BODY})
    assert "X-OmniRoute-Response-Cost" not in response.headers
    priced = await http.put(
        "/api/pricing", json={"custom/m": {"input": 1.0, "output": 2.0}}, headers=admin
    )
    assert priced.status == 200
    table = (await priced.json())["prices"]
    assert table["custom/m"] == {
        "input": 1.0, "output": 2.0, "cached_input": None, "cache_write": None,
        "source": "override",
    }  # fmt: skip
    assert table["openai/gpt-4o"]["source"] == "catalog"
    response = await http.post("/v1/chat/completions", json={"model": "custom/m", **BODY})
    # The fake reports 11 input and 7 output tokens.
    assert float(response.headers["X-OmniRoute-Response-Cost"]) == pytest.approx(25e-6)
    rows = await usage_rows(http, settings)
    assert [r["cost_usd"] for r in rows] == [None, pytest.approx(25e-6)]


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ({"gpt-4o": {"input": 1, "output": 1}}, "written 'provider/model'"),
        ({"a/b": {"input": -1, "output": 1}}, "must be a number"),
        ({"a/b": {"input": 1}}, "needs at least 'input' and 'output'"),
        ({"a/b": {"input": 1, "output": 1, "reasoning": 1}}, "unknown price 'reasoning'"),
    ],
)
async def test_bad_prices_are_refused(start: Any, document: dict[str, Any], complaint: str) -> None:
    http, admin = await start()
    response = await http.put("/api/pricing", json=document, headers=admin)
    assert response.status == 400
    assert complaint in (await response.json())["error"]["message"]


async def test_telemetry_summary_counts_and_percentiles(start: Any, upstream: Any) -> None:
    http, admin = await start()
    upstream.push(Reply(status=500, error_message="down"))
    for _ in range(5):
        await http.post("/v1/chat/completions", json={"model": "custom/m", **BODY})
    summary = await (await http.get("/api/telemetry/summary", headers=admin)).json()
    custom = summary["providers"]["custom"]
    assert (custom["count"], custom["errors"]) == (5, 1)
    assert custom["p50_ms"] <= custom["p95_ms"] <= custom["p99_ms"]
    assert custom["input_tokens"] == 4 * 11
    assert summary["models"]["custom/m"]["count"] == 5
    anonymous = await http.get("/api/telemetry/summary")
    assert anonymous.status == 401


async def test_metrics_parse_as_prometheus_text(start: Any, upstream: Any) -> None:
    http, _ = await start()
    upstream.push(Reply(status=500, error_message="down"))
    for model in ("custom/m", "custom/m", "openai/gpt-4o-mini"):
        await http.post("/v1/chat/completions", json={"model": model, **BODY})
    response = await http.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    families = {f.name: f for f in text_string_to_metric_families(await response.text())}
    requests = {
        (s.labels["provider"], s.labels["model"], s.labels["status"]): s.value
        for s in families["omni_requests"].samples
    }
    assert requests == {("custom", "m", "5xx"): 1, ("custom", "m", "2xx"): 1,
                        ("openai", "gpt-4o-mini", "2xx"): 1}  # fmt: skip
    durations = families["omni_request_duration_seconds"]
    counts = {s.labels["provider"]: s.value for s in durations.samples if s.name.endswith("_count")}
    assert counts == {"custom": 2, "openai": 1}
    cost = {s.labels["model"]: s.value for s in families["omni_cost_usd"].samples}
    assert cost["gpt-4o-mini"] > 0 and cost["m"] == 0


def test_telemetry_memory_is_bounded_with_random_model_names() -> None:
    telemetry = Telemetry()
    rng = random.Random(1)
    records = [
        UsageRecord(
            ts=0.0,
            request_id=str(i),
            endpoint="/v1/chat/completions",
            client_dialect="openai",
            provider_id=f"p{rng.randrange(50)}",
            model=f"model-{rng.randrange(1_000_000)}",
            status=200,
            latency_ms=rng.random() * 50,
        )
        for i in range(100_000)
    ]
    telemetry.observe(records)
    series = telemetry.series()
    assert len(series) == MAX_SERIES + 1  # the rest counted under ("other", "other")
    assert sum(s.requests for s in series.values()) == 100_000
    assert max(len(s.recent) for s in series.values()) <= 1024


async def test_sessions_show_each_conversation_with_its_use(start: Any, upstream: Any) -> None:
    http, admin = await start()
    for session, times in (("thread-a", 2), ("thread-b", 1)):
        for _ in range(times):
            body = {"model": "custom/m", "prompt_cache_key": session, **BODY}
            assert (await http.post("/v1/chat/completions", json=body)).status == 200
    await http.post("/v1/chat/completions", json={"model": "custom/m", **BODY})  # no session
    sessions = (await (await http.get("/api/sessions", headers=admin)).json())["sessions"]
    assert [(s["session"], s["requests"], s["tokens"], s["model"]) for s in sessions] == [
        ("thread-b", 1, 18, "custom/m"),
        ("thread-a", 2, 36, "custom/m"),
    ]


async def test_usage_of_one_account(start: Any, upstream: Any) -> None:
    http, admin = await start()
    for model in ("custom/m", "custom/m"):
        await http.post("/v1/chat/completions", json={"model": model, **BODY})
    accounts = (await (await http.get("/api/accounts", headers=admin)).json())["accounts"]
    custom = next(a for a in accounts if a["provider"] == "custom")
    usage = await (await http.get(f"/api/usage/{custom['id']}", headers=admin)).json()
    assert (usage["provider"], usage["requests"], usage["inputTokens"]) == ("custom", 2, 22)
    assert usage["byModel"][0]["model"] == "m"
    assert (await http.get("/api/usage/999999", headers=admin)).status == 404
    assert (await http.get("/api/usage/history", headers=admin)).status == 200
