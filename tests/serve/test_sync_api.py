"""Configuration sync: one omni serves an ETag-versioned bundle to its sync token, another
pulls it with ``omni sync pull`` (pulled wins conflicts, local-only entries stay, a dry run
changes nothing); upstream secrets travel only when asked for, with a token allowed to."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omni.admin.token import read_admin_token
from omni.client import LocalAdminClient
from omni.config import Settings, load_settings

SECRET = "sk-upstream-SECRET-42"
HEADER_SECRET = "hdr-secret-7"


async def omni_at(home: Path, *args: str, check: bool = True) -> tuple[int, str, str]:
    """``omni ARGS`` for the instance whose data lives in ``home``."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "omni", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL, env={**os.environ, "OMNI_HOME": str(home)},
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    code = proc.returncode if proc.returncode is not None else -1
    assert not check or code == 0, f"omni {' '.join(args)} -> {code}\n{out.decode()}{err.decode()}"
    return code, out.decode(), err.decode()


async def _source(gateway: Callable[..., Any], settings: Settings) -> tuple[Any, dict[str, str]]:
    """The serving omni: providers (a key, a secret header, an env key), a combo, an alias,
    a setting and a price override."""
    client = await gateway()
    auth = {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}
    for method, path, body in [
        ("PUT", "/api/providers/fake", {"headers": {"X-Api-Token": HEADER_SECRET, "X-Team": "b"}}),
        ("POST", "/api/providers", {"name": "openai", "api_key_env": "OPENAI_KEY_VAR",
                                    "sync_models": False}),
        ("POST", "/api/combos", {"name": "duo", "steps": ["fake/gpt-4o", "openai/gpt-4o"]}),
        ("POST", "/api/models/alias", {"alias": "fast", "target": "fake/gpt-4o-mini"}),
        ("PUT", "/api/settings/thinking-budget", {"mode": "custom", "budget": 1000}),
        ("PUT", "/api/pricing", {"fake/gpt-4o": {"input": 1, "output": 2}}),
    ]:  # fmt: skip
        response = await client.request(method, path, json=body, headers=auth)
        assert response.status < 300, await response.text()
    return client, auth


def _local(home: Path) -> LocalAdminClient:
    return LocalAdminClient(load_settings(env={"OMNI_HOME": str(home)}))


async def test_bundle_access_etag_and_secrets(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client, auth = await _source(gateway, settings)
    assert (await client.get("/api/sync/cloud")).status == 401
    assert (
        await client.get("/api/sync/cloud", headers={"Authorization": "Bearer oms-no"})
    ).status == 401
    as_admin = await client.get("/api/sync/cloud", headers=auth)
    assert as_admin.status == 200
    assert (await client.get("/api/sync/cloud?withKeys=true", headers=auth)).status == 403

    made = await client.post("/api/sync/initialize", headers=auth)
    assert made.status == 201
    token = (await made.json())["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    response = await client.get("/api/cloud/bundle", headers=bearer)
    text = await response.text()
    assert response.status == 200 and SECRET not in text and HEADER_SECRET not in text
    bundle = json.loads(text)
    etag = response.headers["ETag"]
    assert etag == f'"{bundle["etag"]}"' and bundle["with_keys"] is False
    fake = next(p for p in bundle["providers"] if p["id"] == "fake")
    assert fake["headers"] == {"X-Team": "b"} and fake["headers_omitted"] == ["X-Api-Token"]
    assert fake["accounts"][0]["secret_omitted"] is True and "secret" not in fake["accounts"][0]
    openai = next(p for p in bundle["providers"] if p["id"] == "openai")
    assert openai["accounts"][0]["secret_env"] == "OPENAI_KEY_VAR"
    assert bundle["combos"][0]["steps"] == ["fake/gpt-4o", "openai/gpt-4o"]
    assert bundle["aliases"] == [{"alias": "fast", "target": "fake/gpt-4o-mini"}]
    assert bundle["settings"]["thinking_budget"] == {"mode": "custom", "budget": 1000}
    assert bundle["pricing"] == {"fake/gpt-4o": {"input": 1, "output": 2}}

    same = await client.get("/api/sync/cloud", headers={**bearer, "If-None-Match": etag})
    assert same.status == 304 and same.headers["ETag"] == etag
    await client.post("/api/models/alias", headers=auth, json={"alias": "b", "target": "fake/x"})
    moved = await client.get("/api/sync/cloud", headers={**bearer, "If-None-Match": etag})
    assert moved.status == 200 and moved.headers["ETag"] != etag

    refused = await client.get("/api/sync/cloud?withKeys=true", headers=bearer)
    assert refused.status == 403
    rotated = await (
        await client.post("/api/sync/initialize", headers=auth, json={"withKeys": True})
    ).json()
    assert (await client.get("/api/sync/cloud", headers=bearer)).status == 401, "old token"
    keyed = await client.get(
        "/api/sync/cloud?withKeys=true", headers={"Authorization": f"Bearer {rotated['token']}"}
    )
    keyed_bundle = await keyed.json()
    fake = next(p for p in keyed_bundle["providers"] if p["id"] == "fake")
    assert fake["accounts"][0]["secret"] == SECRET and fake["headers"]["X-Api-Token"]
    status = await (await client.get("/api/sync/status", headers=auth)).json()
    assert status["token"]["withKeys"] is True and status["token"]["last_used_at"]
    assert rotated["token"] not in json.dumps(status)
    assert (await (await client.delete("/api/sync/token", headers=auth)).json())["revoked"]


async def test_pull_dry_run_then_merge_with_pulled_winning(
    gateway: Callable[..., Any], settings: Settings, tmp_path: Path
) -> None:
    client, auth = await _source(gateway, settings)
    url = str(client.make_url("")).rstrip("/")
    token = (await (await client.post("/api/sync/initialize", headers=auth)).json())["token"]
    other = tmp_path / "other-home"
    mine = _local(other)
    mine.create_combo("duo", ["somewhere/else"])
    mine.set_alias("mine", "x/y")

    _, out, _ = await omni_at(other, "sync", "pull", url, "--token", token, "--dry-run", "--json")
    plan = json.loads(out)
    assert plan["dry_run"] is True and plan["applied"] is False
    assert plan["providers"]["added"] == ["fake", "openai"]
    assert plan["combos"]["changed"] == ["duo"] and plan["aliases"]["kept"] == ["mine"]
    assert set(plan["settings"]["added"]) == {"thinking_budget", "pricing"}
    assert _local(other).list_providers() == [], "a dry run changes nothing"

    _, _, err = await omni_at(other, "sync", "pull", url, "--token", token)
    assert "fake/default came without its key" in err
    mine = _local(other)
    providers = {p["id"]: p for p in mine.list_providers()}
    assert set(providers) == {"fake", "openai"}
    assert providers["fake"]["headers"] == {"X-Team": "b"}
    assert providers["fake"]["accounts"][0]["enabled"] is False, "no key: parked"
    assert providers["openai"]["accounts"][0]["auth"] == "env:OPENAI_KEY_VAR"
    assert providers["openai"]["accounts"][0]["enabled"] is True
    assert mine.get_combo("duo")["steps"] == ["fake/gpt-4o", "openai/gpt-4o"], "pulled wins"
    assert {a["alias"] for a in mine.list_aliases()} == {"fast", "mine"}
    assert _local(other).sync_status()["last_pull"]["source"] == url
    from omni.admin.settings import SettingsService
    from omni.admin.usage import PricingService

    assert SettingsService(mine._ctx).thinking_budget() == {"mode": "custom", "budget": 1000}
    assert PricingService(mine._ctx).prices()["overrides"] == {
        "fake/gpt-4o": {"input": 1, "output": 2}
    }
    database = load_settings(env={"OMNI_HOME": str(other)}).paths.database
    assert SECRET.encode() not in database.read_bytes()

    _, _, err = await omni_at(other, "sync", "pull", url, "--token", token)
    assert "nothing to do" in err, "the same ETag: a 304"


async def test_pull_with_keys_into_a_running_server_and_a_bad_bundle_changes_nothing(
    gateway: Callable[..., Any],
    settings: Settings,
    tmp_path: Path,
    upstream: Any,
    aiohttp_client: Any,
) -> None:
    from omni.serve.app import RUNNER_OPTIONS, create_app

    client, auth = await _source(gateway, settings)
    url = str(client.make_url("")).rstrip("/")
    made = await client.post("/api/sync/initialize", headers=auth, json={"withKeys": True})
    token = (await made.json())["token"]
    other = tmp_path / "other-home"
    target = await aiohttp_client(
        create_app(load_settings(env={"OMNI_HOME": str(other)})),
        server_kwargs=dict(RUNNER_OPTIONS),
    )
    target_url = str(target.make_url("")).rstrip("/")
    await omni_at(other, "--url", target_url, "sync", "pull", url, "--token", token, "--with-keys")
    answer = await target.post(
        "/v1/chat/completions",
        json={"model": "fast", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert answer.status == 200, "the pulled alias, provider and key serve at once"
    assert upstream.last.headers["Authorization"] == f"Bearer {SECRET}"
    assert upstream.last.headers["X-Api-Token"] == HEADER_SECRET
    mine = _local(other)
    fake = next(p for p in mine.list_providers() if p["id"] == "fake")
    assert fake["accounts"][0]["enabled"] is True and fake["headers"]["X-Api-Token"] == "***"
    from omni.store import providers as repo

    with mine._ctx.db.session() as conn:
        stored = repo.list_accounts(conn, "fake")[0].secret
    assert stored is not None and stored != SECRET and mine._ctx.secrets.decrypt(stored) == SECRET
    database = load_settings(env={"OMNI_HOME": str(other)}).paths.database
    assert SECRET.encode() not in database.read_bytes()

    bundle = await (await client.get("/api/sync/cloud", headers=auth)).json()
    bundle["providers"].append({"id": "new-one", "format": "openai", "accounts": []})
    bundle["combos"].append({"name": "bad", "strategy": "nope", "steps": ["a/b"]})
    response = await client.post(
        "/api/sync/apply", headers=auth, json={"bundle": bundle, "dryRun": False}
    )
    assert response.status == 400
    assert "unknown strategy" in (await response.json())["error"]["message"]
    listed = await (await client.get("/api/providers", headers=auth)).json()
    assert "new-one" not in {p["id"] for p in listed["providers"]}
    foreign = await client.post("/api/sync/apply", headers=auth, json={"bundle": {"x": 1}})
    assert foreign.status == 400
