"""Accounts, model and combo tests, and usage totals through the real HTTP API and
through the CLI talking to the running server (``--url``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from omni.admin.token import read_admin_token
from omni.config import Settings
from omni.store import usage as usage_repo
from omni.store.db import Database
from omni.store.usage import UsageRecord
from tests.conftest import free_port, run_omni
from tests.fakes.upstream import Reply

CHAT = {"model": "fake/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def _admin(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}


async def test_accounts_api(gateway: Callable[..., Any], settings: Settings) -> None:
    client = await gateway()
    admin = _admin(settings)
    response = await client.post(
        "/api/providers/fake/accounts",
        json={"name": "second", "api_key": "sk-SECOND-7", "priority": 3},
        headers=admin,
    )
    assert response.status == 201, await response.text()
    added = await response.json()
    assert (added["provider"], added["name"], added["auth"]) == ("fake", "second", "api_key")
    assert "sk-SECOND-7" not in json.dumps(added)

    listed = await (await client.get("/api/providers/fake/accounts", headers=admin)).json()
    assert [a["name"] for a in listed["accounts"]] == ["default", "second"]
    everything = await (await client.get("/api/accounts", headers=admin)).json()
    assert len(everything["accounts"]) == 2

    again = await client.post("/api/providers/fake/accounts", json={"name": "second"},
                              headers=admin)  # fmt: skip
    assert again.status == 409
    nameless = await client.post("/api/providers/fake/accounts", json={}, headers=admin)
    assert nameless.status == 400
    missing = await client.get("/api/providers/nope/accounts", headers=admin)
    assert missing.status == 404

    removed = await client.delete("/api/providers/fake/accounts/second", headers=admin)
    assert removed.status == 200 and (await removed.json())["warnings"] == []
    gone = await client.delete("/api/providers/fake/accounts/second", headers=admin)
    assert gone.status == 404


async def test_model_and_combo_tests(
    gateway: Callable[..., Any], settings: Settings, upstream: Any, add_provider: Any
) -> None:
    client = await gateway()
    admin = _admin(settings)
    await client.post(
        "/api/providers",
        json={"name": "gone", "base_url": f"http://127.0.0.1:{free_port()}/v1",
              "api_key": "k", "models": ["m1"], "sync_models": False},
        headers=admin,
    )  # fmt: skip
    await client.post("/api/providers/fake/accounts", json={"name": "b", "api_key": "kb"},
                      headers=admin)  # fmt: skip

    upstream.push(Reply(status=500), Reply(text="pong"))
    response = await client.post("/api/models/test", json={"model": "fake/gpt-4o"}, headers=admin)
    result = await response.json()
    assert response.status == 200 and result["ok"] is True
    assert (result["served_by"], result["account"]) == ("fake/gpt-4o", "b")
    assert [a["ok"] for a in result["attempts"]] == [False, True]
    assert "HTTP 500" in result["attempts"][0]["error"]

    response = await client.post("/api/models/test", json={"model": "nowhere"}, headers=admin)
    result = await response.json()
    assert result["ok"] is False and "unknown model 'nowhere'" in result["error"]
    bad = await client.post("/api/models/test", json={}, headers=admin)
    assert bad.status == 400

    for body in (
        {"name": "inner", "steps": ["gone/m1"]},
        {"name": "duo", "steps": ["fake/gpt-4o-mini", "inner"]},
    ):
        assert (await client.post("/api/combos", json=body, headers=admin)).status == 201
    response = await client.post("/api/combos/duo/test", headers=admin)
    result = await response.json()
    assert response.status == 200
    assert (result["ok"], result["usable"], result["working"]) == (False, True, 1)
    steps = {s["step"]: s for s in result["steps"]}
    assert steps["fake/gpt-4o-mini"]["ok"] is True and steps["fake/gpt-4o-mini"]["via"] is None
    assert steps["gone/m1"]["via"] == "inner" and "could not connect" in steps["gone/m1"]["error"]
    missing = await client.post("/api/combos/nope/test", headers=admin)
    assert missing.status == 404

    url = str(client.make_url("")).rstrip("/")
    code, out, err = await run_omni("--url", url, "combos", "test", "duo", check=False)
    assert code == 1 and "1 of 2 steps work" in out and "gone/m1" in out
    code, _, err = await run_omni("--url", url, "models", "test", "fake/gpt-4o-mini")
    assert code == 0 and "ok: fake/gpt-4o-mini answered via fake/gpt-4o-mini" in err
    code, out, _ = await run_omni("--url", url, "providers", "test", "--json", check=False)
    assert code == 1 and {r["provider"]: r["ok"] for r in json.loads(out)} == {
        "fake": True, "gone": False,
    }  # fmt: skip
    code, out, _ = await run_omni("--url", url, "models", "sync", "fake", "--json")
    assert json.loads(out)[0]["synced"] == 2
    code, out, _ = await run_omni("--url", url, "accounts", "list", "fake", "--json")
    assert [a["name"] for a in json.loads(out)] == ["default", "b"]


async def test_usage_history(
    gateway: Callable[..., Any], settings: Settings, upstream: Any
) -> None:
    client = await gateway(require_api_key=True)
    admin = _admin(settings)
    key = await (await client.post("/api/keys", json={"name": "ci"}, headers=admin)).json()
    bearer = {"Authorization": f"Bearer {key['key']}"}
    for _ in range(2):
        assert (await client.post("/v1/chat/completions", json=CHAT, headers=bearer)).status == 200
    upstream.push(Reply(status=400))
    unknown = {**CHAT, "model": "fake/nothing-like-it"}
    failed = await client.post("/v1/chat/completions", json=unknown, headers=bearer)
    assert failed.status == 400
    old = time.time() - 10 * 86400
    with Database(settings.paths.database).session() as conn:
        usage_repo.insert_many(conn, [UsageRecord(
            ts=old, request_id="old", endpoint="/v1/chat/completions", client_dialect="openai",
            requested_model="fake/gpt-4o", provider_id="fake", model="gpt-4o", status=200,
            input_tokens=100, output_tokens=50, cost_usd=0.5,
        )])  # fmt: skip

    response = await client.get("/api/usage/history?group=provider", headers=admin)
    result = await response.json()
    assert response.status == 200 and result["group"] == "provider"
    [fake] = [r for r in result["rows"] if r["name"] == "fake"]
    assert fake["requests"] == 4 and fake["failed"] == 1
    assert result["total"]["requests"] == 4
    assert fake["input_tokens"] == 100 + 2 * 11 and fake["cost_usd"] >= 0.5

    recent = await (
        await client.get("/api/usage/history?group=model&since=7d", headers=admin)
    ).json()
    by_model = {r["name"]: r["requests"] for r in recent["rows"]}
    assert by_model == {"fake/gpt-4o-mini": 2, "fake/nothing-like-it": 1}
    assert recent["since"] is not None

    by_key = await (await client.get("/api/usage/history?group=key", headers=admin)).json()
    assert {r["name"]: r["requests"] for r in by_key["rows"]} == {
        f"ci ({key['prefix']}…)": 3, "-": 1,
    }  # fmt: skip
    days = await (await client.get("/api/usage/history?group=day", headers=admin)).json()
    assert len(days["rows"]) == 2 and days["rows"][0]["requests"] == 1

    bad = await client.get("/api/usage/history?group=week", headers=admin)
    assert (
        bad.status == 400 and "day, provider, model, key" in (await bad.json())["error"]["message"]
    )
    bad = await client.get("/api/usage/history?since=yesterday", headers=admin)
    assert bad.status == 400

    url = str(client.make_url("")).rstrip("/")
    _, out, _ = await run_omni("--url", url, "usage", "--by", "provider", "--since", "7d", "--json")
    assert [r["requests"] for r in json.loads(out)["rows"] if r["name"] == "fake"] == [3]
    _, out, _ = await run_omni("--url", url, "usage", "--by", "provider")
    assert out.startswith("Usage by provider") and "│ total" in out and "$0.5000" in out
