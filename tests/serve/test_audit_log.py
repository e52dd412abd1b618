"""``GET /api/compliance/audit-log``: management actions over HTTP and from the CLI, with
who, what, from where and how it went; filtered by action prefix and paged by id."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from omni.admin.token import read_admin_token
from omni.config import Settings


async def test_provider_and_combo_changes_are_audited(
    gateway: Callable[..., Any], settings: Settings, upstream: Any
) -> None:
    client = await gateway()  # adds 'fake' in-process, as the CLI does without a server
    admin = {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}
    body = {"name": "second", "base_url": f"{upstream.url}/v1", "api_key": "sk-audit-SECRET"}
    assert (await client.post("/api/providers", json={**body, "sync_models": False},
                              headers=admin)).status == 201  # fmt: skip
    assert (await client.delete("/api/providers/second", headers=admin)).status == 200
    combo = {"name": "duo", "steps": ["fake/gpt-4o"]}
    assert (await client.post("/api/combos", json=combo, headers=admin)).status == 201
    assert (await client.put("/api/combos/duo", json={"strategy": "p2c"}, headers=admin)).ok
    assert (await client.delete("/api/combos/duo", headers=admin)).status == 200

    response = await client.get("/api/compliance/audit-log", headers=admin)
    entries = (await response.json())["entries"]
    seen = [(e["actor"], e["action"], e["target"], e["ip"]) for e in entries]
    assert seen == [
        ("admin", "combo.remove", "duo", "127.0.0.1"),
        ("admin", "combo.edit", "duo", "127.0.0.1"),
        ("admin", "combo.create", "duo", "127.0.0.1"),
        ("admin", "provider.remove", "second", "127.0.0.1"),
        ("admin", "provider.add", "second", "127.0.0.1"),
        ("cli", "provider.add", "fake", None),
    ]
    assert "sk-audit-SECRET" not in await response.text()

    only = await client.get("/api/compliance/audit-log?action=provider.", headers=admin)
    assert [e["action"] for e in (await only.json())["entries"]] == ["provider.remove"] + [
        "provider.add"
    ] * 2
    first = await (await client.get("/api/compliance/audit-log?limit=2", headers=admin)).json()
    assert len(first["entries"]) == 2 and first["next_before"] == first["entries"][-1]["id"]
    rest = await client.get(
        f"/api/compliance/audit-log?before={first['next_before']}", headers=admin
    )
    assert (await rest.json())["entries"][0]["action"] == "combo.create"
    for query in ("limit=0", "limit=x", "before=y", "limit=5000"):
        bad = await client.get(f"/api/compliance/audit-log?{query}", headers=admin)
        assert bad.status == 400, query
    assert (await client.get("/api/compliance/audit-log")).status == 401


async def test_parallel_guesses_cannot_pass_the_limit(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway(initial_password="the right one")
    answers = await asyncio.gather(
        *(client.post("/api/auth/login", json={"password": f"guess {n}"}) for n in range(12))
    )
    statuses = sorted(r.status for r in answers)
    assert statuses == [401] * 5 + [429] * 7
