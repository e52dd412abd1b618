"""The dashboard's HTTP client against the real management API (the server in-process):
every call the views make, the errors they turn into, logging in again after a 401."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from omni.admin.token import read_admin_token
from omni.config import Settings
from omni.errors import InvalidInputError, NotFoundError, ServerNotRunningError
from omni.tui.client import HttpAdminApi
from tests.conftest import free_port


@pytest.fixture
def start(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any],
    settings: Settings,
) -> Callable[..., Any]:  # fmt: skip
    async def go() -> tuple[Any, HttpAdminApi]:
        await asyncio.to_thread(
            add_provider, "fake", base_url=f"{upstream.url}/v1", api_key="sk-up",
            models=["m1"], sync_models=False,
        )  # fmt: skip
        client = await make_client()
        url = str(client.make_url("")).rstrip("/")
        return client, HttpAdminApi(url, read_admin_token(settings.paths))

    return go


async def test_every_call_the_views_make(start: Callable[..., Any]) -> None:
    client, api = await start()
    try:
        assert (await api.health())["status"] == "ok"
        (provider,) = await api.providers()
        assert provider["id"] == "fake"
        assert (await api.edit_provider("fake", enabled=False))["enabled"] is False
        await api.edit_provider("fake", enabled=True)
        edited = await api.edit_account("fake", "default", enabled=False)
        assert edited["accounts"][0]["enabled"] is False
        await api.edit_account("fake", "default", enabled=True)
        added = await api.add_account(
            "fake", account="spare", api_key="sk-2", base_url=provider["base_url"],
            format="openai", sync_models=False,
        )  # fmt: skip
        assert [a["name"] for a in added["accounts"]] == ["default", "spare"]
        tested = await api.test_provider("fake", "spare", "m1")
        assert tested["ok"] is True and tested["account"] == "spare"

        await api.create_combo("duo", ["fake/m1", "fake/m2"], "round-robin")
        await api.edit_combo("duo", steps=["fake/m2", "fake/m1"])
        assert (await api.combos())[0]["steps"] == ["fake/m2", "fake/m1"]
        plan = await api.explain("duo")
        assert plan["combo"] == "duo" and plan["targets"][0]["model"] == "m2"
        await api.remove_combo("duo")
        assert await api.combos() == []

        key = await api.create_key("ci", scopes=["chat"], models=[], expires_at=None)
        assert key["key"].startswith("sk-")
        assert (await api.edit_key(key["id"], enabled=False))["enabled"] is False
        await api.revoke_key(key["id"])
        assert (await api.keys())[0]["status"] == "revoked"

        resilience = await api.resilience()
        assert resilience["breakers"] == {} and resilience["cooldowns"] == []
        assert (await api.reset_resilience())["reset"] is True
        assert (await api.rate_limits())["queue"]["depth"] > 0
        assert await api.sessions() == []
        assert "providers" in await api.telemetry()

        answer = await client.post(
            "/v1/chat/completions",
            json={"model": "fake/m1", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert answer.status == 200
        (row,) = await api.request_logs(10)
        assert row["requested_model"] == "fake/m1" and row["status"] == 200
        assert await api.request_logs(10, before=row["id"]) == []
    finally:
        await api.close()


async def test_budgets_cache_and_sessions(start: Callable[..., Any]) -> None:
    client, api = await start()
    try:
        key = await api.create_key("laptop", scopes=["chat"])
        assert await api.budgets() == []
        budget = await api.set_budget(key["id"], 5, "daily", 0.5)
        assert budget["keyId"] == key["id"] and budget["warnAt"] == 0.5
        (listed,) = await api.budgets()
        assert listed["keyName"] == "laptop" and listed["limit"] == 5
        assert listed["period"] == "daily" and listed["spent"] == 0
        assert listed["resetsAt"] > listed["periodStart"]
        assert (await api.remove_budget(key["id"]))["removed"] is True
        assert await api.budgets() == []
        with pytest.raises(NotFoundError):
            await api.remove_budget(key["id"])

        assert "hits" in (await api.cache_stats())["exact"]

        (provider,) = await api.providers()  # two accounts: a conversation is kept on one
        await api.add_account(
            "fake",
            account="spare",
            api_key="sk-2",
            base_url=provider["base_url"],
            format="openai",
            sync_models=False,
        )  # fmt: skip
        answer = await client.post(
            "/v1/chat/completions",
            json={"model": "fake/m1", "prompt_cache_key": "conv-1",
                  "messages": [{"role": "user", "content": "hi"}]},
        )  # fmt: skip
        assert answer.status == 200
        (session,) = await api.sessions()
        assert session["session"] == "conv-1" and session["requests"] == 1
        assert session["model"] == "fake/m1" and session["tokens"] > 0
        (pin,) = session["pinned"]
        assert pin["provider"] == "fake" and pin["expires_in_s"] > 0
        accounts = {a["id"]: a["name"] for a in (await api.providers())[0]["accounts"]}
        assert accounts[pin["account_id"]] in ("default", "spare")
    finally:
        await api.close()


async def test_refusals_keep_the_servers_message(start: Callable[..., Any]) -> None:
    _, api = await start()
    try:
        with pytest.raises(InvalidInputError, match="unknown strategy 'fastest'"):
            await api.create_combo("x", ["fake/m1"], "fastest")
        with pytest.raises(NotFoundError):
            await api.edit_provider("nope", enabled=False)
    finally:
        await api.close()


async def test_an_unreachable_server_is_server_not_running() -> None:
    api = HttpAdminApi(f"http://127.0.0.1:{free_port()}", "t")
    with pytest.raises(ServerNotRunningError, match="cannot reach"):
        await api.health()
    with pytest.raises(ServerNotRunningError):
        async for _ in api.events():
            pass
    await api.close()


async def test_a_forgotten_token_is_replaced_by_logging_in_again(
    start: Callable[..., Any], settings: Settings
) -> None:
    _, api = await start()
    url, good = api.url, read_admin_token(settings.paths)
    await api.close()
    logins: list[str] = []

    async def relogin() -> str | None:
        logins.append("again")
        return good

    stale = HttpAdminApi(url, "expired-session", relogin)
    try:
        assert [p["id"] for p in await stale.providers()] == ["fake"]
        assert logins == ["again"]
        assert (await stale.sessions()) == []  # the new token is kept
        assert logins == ["again"]
    finally:
        await stale.close()
