"""The resilience endpoints show resting accounts and open circuits, and reset them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from omni.admin.token import read_admin_token
from omni.config import Settings
from tests.fakes.upstream import Reply

BODY = {"model": "fake/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


async def test_cooldown_shows_and_resets(
    gateway: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    http = await gateway()
    auth = {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}
    upstream.push(Reply(status=429, headers={"Retry-After": "60"}, error_message="slow"))
    assert (await http.post("/v1/chat/completions", json=BODY)).status == 429

    state = await (await http.get("/api/resilience", headers=auth)).json()
    [cooling] = state["cooldowns"]
    assert (cooling["provider"], cooling["account"]) == ("fake", "default")
    assert 55 <= cooling["cooling_s"] <= 60
    assert state["profiles"]["local"] == {"failures": 2, "open_s": 15.0}
    limits = await (await http.get("/api/rate-limits", headers=auth)).json()
    assert limits["cooldowns"] == state["cooldowns"]

    assert (await http.post("/api/resilience/reset", headers=auth)).status == 200
    assert (await (await http.get("/api/resilience", headers=auth)).json())["cooldowns"] == []
    upstream.push(Reply(text="back"))
    assert (await http.post("/v1/chat/completions", json=BODY)).status == 200
    assert (await http.get("/api/resilience")).status == 401


async def test_route_explain_shows_live_state(
    gateway: Callable[..., Any], upstream: Any, settings: Settings
) -> None:
    http = await gateway()
    auth = {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}
    upstream.push(Reply(status=429, headers={"Retry-After": "90"}, error_message="slow"))
    await http.post("/v1/chat/completions", json=BODY)
    result = await (
        await http.get("/api/route/explain", params={"model": "fake/gpt-4o-mini"}, headers=auth)
    ).json()
    [target] = result["targets"]
    assert target["status"].startswith("skipped: account cooling down")
    missing = await http.get("/api/route/explain", headers=auth)
    assert missing.status == 400
