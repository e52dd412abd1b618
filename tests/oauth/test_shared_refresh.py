"""Several server processes on one data folder refresh an OAuth account as one: rotating
refresh tokens work once, so a refresh another process already did is picked up from the
store instead of being done again (which the provider would refuse)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from omni.oauth.keeper import TokenKeeper
from omni.serve import keys
from omni.store import oauth as oauth_repo
from omni.store.db import Database
from tests.fakes.oauth import FakeSubscriptions
from tests.oauth.conftest import api_login, chat

MODEL = "cc/claude-sonnet-4-5"


async def _workers(app: Callable[..., Any], count: int = 2) -> tuple[list[Any], dict[str, str]]:
    """``count`` omni apps on one data folder (as the workers of one server), signed in once."""
    servers = []
    for _ in range(count):
        http, admin = await app()
        servers.append(http)
    await api_login(servers[0], admin, "claude")
    return servers, admin


async def _keepers(servers: list[Any], clock: Callable[[], float]) -> tuple[list[TokenKeeper], int]:
    keepers: list[TokenKeeper] = [s.app[keys.OAUTH] for s in servers]
    for server, keeper in zip(servers, keepers, strict=True):
        server.app[keys.GATEWAY].reload_if_changed()  # what its config watch does each second
        keeper.clock = clock
        await keeper.sync()
    [account_id] = keepers[0].accounts
    return keepers, account_id


def _stored_expiry(db: Database, account_id: int) -> float | None:
    with db.session() as conn:
        row = oauth_repo.get_oauth_account(conn, account_id)
    assert row is not None
    return row.expires_at


async def test_two_processes_refreshing_at_once_call_the_token_endpoint_once(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    servers, _ = await _workers(app)
    old_access, _ = subs.issued[-1]
    keepers, account_id = await _keepers(
        servers, lambda: time.time() + subs.expires_in - 240
    )  # four minutes left
    subs.refresh_delay = 0.2  # the second asks while the first is still at the endpoint
    fresh = await asyncio.gather(*(k.refresh(account_id) for k in keepers))
    assert subs.refreshes == 1
    new_access, _ = subs.issued[-1]
    assert new_access != old_access
    assert [c.access_token if c else None for c in fresh] == [new_access, new_access]
    assert fresh[0] == fresh[1]
    assert all(k.accounts[account_id].cred == fresh[0] for k in keepers)
    assert all(k.accounts[account_id].dead is None for k in keepers)
    for server in servers:  # both route with the new token at once
        assert (await server.post("/v1/chat/completions", json=chat(MODEL))).status == 200
        assert subs.last.headers["Authorization"] == f"Bearer {new_access}"


async def test_every_worker_may_sweep_one_refresh_is_done(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    servers, admin = await _workers(app, 3)
    keepers, account_id = await _keepers(servers, lambda: time.time() + subs.expires_in - 240)
    subs.refresh_delay = 0.1
    renewed = await asyncio.gather(*(k.sweep() for k in keepers))
    assert renewed == [1, 1, 1], "each worker ends with a fresh credential"
    assert subs.refreshes == 1
    assert len({k.accounts[account_id].cred.access_token for k in keepers}) == 1
    assert [await k.sweep() for k in keepers] == [0, 0, 0], "nothing left to do"
    assert subs.refreshes == 1
    db = servers[0].app[keys.ADMIN].db
    assert _stored_expiry(db, account_id) == keepers[0].accounts[account_id].cred.expires_at
    account = (await (await servers[2].get("/api/providers/claude", headers=admin)).json())[
        "accounts"
    ][0]
    assert account["login"] == "ok"


async def test_a_refresh_token_refused_at_one_process_is_not_tried_at_another(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    servers, admin = await _workers(app)
    keepers, account_id = await _keepers(servers, time.time)
    _, refresh_token = subs.issued[-1]
    subs.revoke(refresh_token)
    assert await keepers[0].refresh(account_id) is None
    assert subs.refreshes == 1
    assert await keepers[1].refresh(account_id) is None, "the store says: needs a new sign-in"
    assert subs.refreshes == 1
    reason = keepers[1].accounts[account_id].dead
    assert reason is not None and "omni providers login claude" in reason
    account = (await (await servers[1].get("/api/providers/claude", headers=admin)).json())[
        "accounts"
    ][0]
    assert account["login"] == "needs login"
