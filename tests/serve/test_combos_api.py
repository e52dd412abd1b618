"""The combos admin API: /api/combos and /api/combos/{name}, behind the local token."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from omni.admin.token import read_admin_token
from omni.config import Settings
from omni.serve import keys


def _auth(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}


async def test_combos_api_needs_the_local_token(make_client: Callable[..., Any]) -> None:
    client = await make_client()
    for method, path in [
        ("GET", "/api/combos"),
        ("POST", "/api/combos"),
        ("GET", "/api/combos/x"),
        ("PUT", "/api/combos/x"),
        ("DELETE", "/api/combos/x"),
    ]:
        response = await client.request(method, path, json={})
        assert response.status == 401, (method, path)
        assert (await response.json())["error"]["code"] == "admin_auth_required"
    response = await client.get("/api/combos", headers={"Authorization": "Bearer wrong"})
    assert response.status == 401


async def test_create_list_show_edit_delete(
    make_client: Callable[..., Any], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await make_client()
    auth = _auth(settings)
    gateway = client.app[keys.GATEWAY]
    reloads: list[None] = []
    original = gateway.reload

    def counting_reload() -> None:
        reloads.append(None)
        original()

    monkeypatch.setattr(gateway, "reload", counting_reload)

    assert await (await client.get("/api/combos", headers=auth)).json() == {"combos": []}
    response = await client.post(
        "/api/combos", json={"name": "fast", "steps": ["a/b", "c/d"]}, headers=auth
    )
    assert response.status == 201
    created = await response.json()
    assert (created["name"], created["strategy"], created["steps"]) == (
        "fast",
        "priority",
        ["a/b", "c/d"],
    )
    assert len(reloads) == 1, "the routing snapshot is rebuilt after a change"
    body = {"name": "outer", "steps": ["fast"], "strategy": "round-robin"}
    assert (await client.post("/api/combos", json=body, headers=auth)).status == 201

    listed = await (await client.get("/api/combos", headers=auth)).json()
    assert [c["name"] for c in listed["combos"]] == ["fast", "outer"]
    shown = await (await client.get("/api/combos/outer", headers=auth)).json()
    assert shown["strategy"] == "round-robin" and shown["steps"] == ["fast"]

    response = await client.put("/api/combos/fast", json={"strategy": "p2c"}, headers=auth)
    assert response.status == 200
    edited = await response.json()
    assert (edited["strategy"], edited["steps"]) == ("p2c", ["a/b", "c/d"])
    response = await client.put(
        "/api/combos/outer", json={"steps": ["x/y"], "strategy": None}, headers=auth
    )
    assert (await response.json())["steps"] == ["x/y"]

    response = await client.delete("/api/combos/fast", headers=auth)
    assert response.status == 200
    assert (await response.json())["name"] == "fast"
    assert (await client.get("/api/combos/fast", headers=auth)).status == 404
    assert len(reloads) == 5


async def test_bad_input_is_400(make_client: Callable[..., Any], settings: Settings) -> None:
    client = await make_client()
    auth = _auth(settings)
    for body, needle in [
        ({"name": "x", "steps": ["a/b"], "bogus": 1}, "unknown field 'bogus'"),
        ({"steps": ["a/b"]}, "'name' is required"),
        ({"name": "x"}, "'steps' is required"),
        ({"name": "x", "steps": "a/b"}, "'steps' must be a list"),
        ({"name": "x", "steps": ["a/b", 1]}, "list of strings"),
        ({"name": 5, "steps": ["a/b"]}, "'name' must be a str"),
        ({"name": "x", "steps": []}, "at least one step"),
        ({"name": "x", "steps": [""]}, "non-empty"),
        ({"name": "x", "steps": ["x"]}, "cannot name itself"),
        ({"name": "X Y", "steps": ["a/b"]}, "invalid combo name"),
        ({"name": "openai", "steps": ["a/b"]}, "catalog provider"),
        ({"name": "x", "steps": ["a/b"], "strategy": "best"}, "unknown strategy"),
        ([1, 2], "must be a JSON object"),
    ]:
        response = await client.post("/api/combos", json=body, headers=auth)
        assert response.status == 400, body
        assert needle in (await response.json())["error"]["message"], body
    response = await client.post("/api/combos", data=b"{nope", headers=auth)
    assert response.status == 400
    assert "not valid JSON" in (await response.json())["error"]["message"]

    await client.post("/api/combos", json={"name": "c", "steps": ["a/b"]}, headers=auth)
    for body, needle in [
        ({"name": "d"}, "unknown field 'name'"),
        ({}, "nothing to change"),
        ({"steps": ["c"]}, "cannot name itself"),
    ]:
        response = await client.put("/api/combos/c", json=body, headers=auth)
        assert response.status == 400, body
        assert needle in (await response.json())["error"]["message"], body
    response = await client.put("/api/combos/nope", json={"strategy": "random"}, headers=auth)
    assert response.status == 404
    assert (await client.delete("/api/combos/nope", headers=auth)).status == 404


async def test_conflicts_are_409(make_client: Callable[..., Any], settings: Settings) -> None:
    client = await make_client()
    auth = _auth(settings)
    for body in ({"name": "inner", "steps": ["m/1"]}, {"name": "outer", "steps": ["inner"]}):
        assert (await client.post("/api/combos", json=body, headers=auth)).status == 201
    again = await client.post("/api/combos", json={"name": "inner", "steps": ["m/2"]}, headers=auth)
    assert again.status == 409
    assert "already exists" in (await again.json())["error"]["message"]
    response = await client.delete("/api/combos/inner", headers=auth)
    assert response.status == 409
    error = (await response.json())["error"]
    assert "'inner' is a step of 'outer'" in error["message"]
    assert "omni combos edit outer" in error["message"]
    assert (await client.get("/api/combos/inner", headers=auth)).status == 200


async def test_http_admin_client_speaks_the_api(
    make_client: Callable[..., Any], settings: Settings
) -> None:
    from omni.client import HttpAdminClient
    from omni.errors import ConflictError, InvalidInputError, NotFoundError

    client = await make_client()
    url = str(client.make_url("")).rstrip("/")
    admin = HttpAdminClient(url, read_admin_token(settings.paths))

    def scenario() -> None:
        try:
            assert admin.create_combo("inner", ["m/1"])["strategy"] == "priority"
            assert admin.create_combo("outer", ["inner"], "random")["steps"] == ["inner"]
            assert [c["name"] for c in admin.list_combos()] == ["inner", "outer"]
            assert admin.edit_combo("inner", strategy="lkgp")["steps"] == ["m/1"]
            assert admin.get_combo("inner")["strategy"] == "lkgp"
            with pytest.raises(ConflictError, match="is a step of 'outer'"):
                admin.remove_combo("inner")
            with pytest.raises(InvalidInputError, match="cycle"):
                admin.edit_combo("inner", steps=["outer"])
            assert admin.remove_combo("outer")["name"] == "outer"
            with pytest.raises(NotFoundError):
                admin.get_combo("outer")
        finally:
            admin.close()

    await asyncio.to_thread(scenario)
