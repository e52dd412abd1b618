"""Tokens stay fresh without the client noticing: proactive refresh ahead of expiry, one
refresh for many concurrent requests, refresh-and-retry on a 401, and a revoked refresh
token taking the account out of routing ("needs login") with a clear message."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from omni.serve import keys
from tests.conftest import run_omni
from tests.fakes.oauth import FakeSubscriptions
from tests.fakes.upstream import Reply
from tests.oauth.conftest import api_login, chat

MODEL = "cc/claude-sonnet-4-5"


def _bearer(subs: FakeSubscriptions) -> str:
    return subs.last.headers["Authorization"].removeprefix("Bearer ")


async def test_proactive_refresh_about_five_minutes_before_expiry(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, admin = await app()
    await api_login(http, admin, "claude")
    first_access, _ = subs.issued[-1]
    keeper = http.app[keys.OAUTH]
    assert await keeper.sweep() == 0, "an hour left: nothing to do yet"
    keeper.clock = lambda: time.time() + subs.expires_in - 600  # ten minutes left
    assert await keeper.sweep() == 0
    keeper.clock = lambda: time.time() + subs.expires_in - 240  # four minutes left
    assert await keeper.sweep() == 1
    assert subs.refreshes == 1
    new_access, _ = subs.issued[-1]
    assert new_access != first_access
    response = await http.post("/v1/chat/completions", json=chat(MODEL))
    assert response.status == 200
    assert _bearer(subs) == new_access, "requests use the new token at once"
    account = (await (await http.get("/api/providers/claude", headers=admin)).json())["accounts"][0]
    assert account["login"] == "ok" and account["expires_at"]


async def test_fifty_concurrent_requests_at_expiry_cause_one_refresh(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, admin = await app()
    await api_login(http, admin, "claude")
    old_access, _ = subs.issued[-1]
    subs.expire(old_access)  # the provider no longer takes it
    subs.refresh_delay = 0.2  # every request hits the 401 while the refresh is under way
    subs.default = Reply(text="fine")
    responses = await asyncio.gather(
        *(http.post("/v1/chat/completions", json=chat(MODEL)) for _ in range(50))
    )
    assert [r.status for r in responses] == [200] * 50
    assert subs.refreshes == 1
    new_access, _ = subs.issued[-1]
    used = {r.headers["Authorization"] for r in subs.requests if r.path == "/v1/messages"}
    assert used == {f"Bearer {old_access}", f"Bearer {new_access}"}
    assert all(r.headers["X-OmniRoute-Fallback-Attempts"] == "0" for r in responses)


async def test_a_401_mid_session_refreshes_and_retries_once(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, admin = await app()
    await api_login(http, admin, "codex")
    assert (await http.post("/v1/chat/completions", json=chat("cx/gpt-5"))).status == 200
    old_access, _ = subs.issued[-1]
    subs.expire(old_access)  # revoked upstream well before its stated expiry
    subs.push(Reply(text="after refresh"))
    response = await http.post("/v1/chat/completions", json=chat("cx/gpt-5"))
    assert response.status == 200
    assert (await response.json())["choices"][0]["message"]["content"] == "after refresh"
    assert subs.refreshes == 1
    calls = [r.headers["Authorization"] for r in subs.requests if r.path == "/v1/responses"]
    assert calls[-2:] == [f"Bearer {old_access}", f"Bearer {subs.issued[-1][0]}"]


async def test_a_refresh_that_does_not_help_is_not_repeated(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, admin = await app()
    await api_login(http, admin, "claude")
    subs.require_bearer = False
    subs.push(Reply(status=401, error_message="still no"), Reply(status=401))
    response = await http.post("/v1/chat/completions", json=chat(MODEL))
    assert response.status == 502, "omni's own credential failed: not the client's fault"
    assert subs.refreshes == 1


async def test_revoked_refresh_token_needs_login_and_falls_back(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, admin = await app()
    await api_login(http, admin, "claude", account="a")
    a_access, a_refresh = subs.issued[-1]
    await api_login(http, admin, "claude", account="b")
    b_access, _ = subs.issued[-1]
    subs.expire(a_access)
    subs.revoke(a_refresh)
    response = await http.post("/v1/chat/completions", json=chat(MODEL))
    assert response.status == 200, await response.text()
    assert _bearer(subs) == b_access, "the next account served it"
    accounts = (await (await http.get("/api/providers/claude", headers=admin)).json())["accounts"]
    state = {a["name"]: (a["login"], a["login_error"]) for a in accounts}
    assert state["b"] == ("ok", None)
    assert state["a"][0] == "needs login"
    assert "omni providers login claude --account a" in state["a"][1]
    again = await http.post("/v1/chat/completions", json=chat(MODEL))
    assert again.status == 200 and _bearer(subs) == b_access
    assert subs.refreshes == 1, "a dead account is not refreshed again"
    _, out, _ = await run_omni("providers", "show", "claude")
    assert "account a: oauth, NEEDS LOGIN" in out
    assert "run 'omni providers login claude --account a'" in out


async def test_the_client_error_when_no_account_is_left(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, admin = await app()
    await api_login(http, admin, "claude")
    access, refresh = subs.issued[-1]
    subs.expire(access)
    subs.revoke(refresh)
    for _ in range(2):  # the request that finds out, then one routed after the reload
        response = await http.post("/v1/chat/completions", json=chat(MODEL))
        assert response.status == 503
        error = (await response.json())["error"]
        assert "needs a new sign-in" in error["message"]
        assert "omni providers login claude" in error["message"]
        assert error["code"] == "account_needs_login"
        assert access not in str(error) and refresh not in str(error)
    await api_login(http, admin, "claude")  # signing in again brings it back
    assert (await http.post("/v1/chat/completions", json=chat(MODEL))).status == 200


async def test_copilot_token_renewed_before_expiry_and_github_revocation(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, admin = await app()
    await api_login(http, admin, "github")
    keeper = http.app[keys.OAUTH]
    keeper.clock = lambda: time.time() + subs.copilot_expires_in - 120
    assert await keeper.sweep() == 1
    assert subs.grants.count("copilot") == 2, "a new Copilot token from the same GitHub token"
    assert subs.refreshes == 0, "Copilot has no refresh grant"
    response = await http.post("/v1/chat/completions", json=chat("gh/gpt-4o"))
    assert response.status == 200
    assert _bearer(subs) == max((t for t in subs.access if t.startswith("cop-")),
                                key=lambda t: int(t[4:]))  # fmt: skip
    github_token = next(t for t in subs.access if t.startswith("at-"))
    subs.expire(github_token)  # the user revoked omni at GitHub
    assert await keeper.sweep() == 0
    account = (await (await http.get("/api/providers/github", headers=admin)).json())["accounts"][0]
    assert account["login"] == "needs login"
