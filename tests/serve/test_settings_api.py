"""Settings endpoints, the IP filter middleware and ``/api/init``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from aiohttp.typedefs import Handler

from omni import __version__
from omni.admin.ipfilter import IpRules
from omni.admin.token import read_admin_token
from omni.config import Settings, load_settings
from omni.errors import InvalidInputError
from omni.serve import keys, middlewares
from omni.serve.app import create_app
from omni.store import audit
from omni.store import settings as settings_repo
from omni.store.db import Database


def _auth(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}


async def _error(response: Any) -> str:
    return str((await response.json())["error"]["message"])


async def test_general_settings_defaults_changes_and_refusals(
    make_client: Callable[..., Any], settings: Settings
) -> None:
    client = await make_client()
    auth = _auth(settings)
    defaults = await (await client.get("/api/settings", headers=auth)).json()
    assert defaults == {"auto_backup": True, "backup_keep": 20, "auto_backup_interval_min": 60}

    response = await client.put("/api/settings", json={"backup_keep": 5}, headers=auth)
    assert response.status == 200
    assert (await response.json())["backup_keep"] == 5
    assert (await (await client.get("/api/settings", headers=auth)).json()) == {
        **defaults,
        "backup_keep": 5,
    }

    for body, text in [
        ({"colour": "blue", "backup_keep": 3, "zz": 1}, "unknown settings colour, zz (known: "),
        ({"backup_keep": "5"}, "'backup_keep' must be a whole number from 1 to 1000"),
        ({"backup_keep": 0}, "from 1 to 1000"),
        ({"backup_keep": True}, "whole number"),
        ({"auto_backup": "yes"}, "'auto_backup' must be true or false"),
        ([1, 2], "must be a JSON object"),
    ]:
        response = await client.put("/api/settings", json=body, headers=auth)
        assert response.status == 400, body
        assert text in await _error(response), body
    response = await client.put("/api/settings", data=b"{nope", headers=auth)
    assert response.status == 400 and "not valid JSON" in await _error(response)
    # Nothing of a refused request was stored.
    assert (await (await client.get("/api/settings", headers=auth)).json())["backup_keep"] == 5
    with Database(settings.paths.database).session() as conn:
        changes = [e for e in audit.entries(conn) if e.action == "settings.change"]
    assert len(changes) == 1 and changes[0].detail == {"keys": ["backup_keep"]}
    assert changes[0].actor == "admin" and changes[0].ip == "127.0.0.1"


async def test_thinking_budget_and_system_prompt_are_validated_and_stored(
    make_client: Callable[..., Any], settings: Settings
) -> None:
    client = await make_client()
    auth = _auth(settings)
    path = "/api/settings/thinking-budget"
    assert await (await client.get(path, headers=auth)).json() == {
        "mode": "passthrough",
        "budget": 0,
    }
    response = await client.put(path, json={"mode": "custom", "budget": 4096}, headers=auth)
    assert await response.json() == {"mode": "custom", "budget": 4096}
    response = await client.put(path, json={"mode": "auto"}, headers=auth)
    assert await response.json() == {"mode": "auto", "budget": 4096}
    for body, text in [
        ({"mode": "max"}, "mode must be one of passthrough, auto, custom"),
        ({"mode": "custom", "budget": 0}, "at least 1 token"),
        ({"budget": -1}, "from 0 to"),
        ({"budget": 1.5}, "whole number"),
        ({"level": 3}, "unknown field level"),
    ]:
        response = await client.put(path, json=body, headers=auth)
        assert response.status == 400 and text in await _error(response), body
    assert (await (await client.get(path, headers=auth)).json())["mode"] == "auto"

    path = "/api/settings/system-prompt"
    assert await (await client.get(path, headers=auth)).json() == {
        "enabled": False, "prompt": "", "position": "prefix",
    }  # fmt: skip
    response = await client.put(path, json={"enabled": True, "prompt": "Be terse."}, headers=auth)
    assert await response.json() == {"enabled": True, "prompt": "Be terse.", "position": "prefix"}
    for body, text in [
        ({"enabled": "on"}, "enabled must be true or false"),
        ({"prompt": 5}, "prompt must be a string"),
        ({"prompt": "  "}, "needs some text"),
        ({"prompt": "x" * 100_001}, "longer than"),
        ({"position": "middle"}, "position must be 'prefix' or 'suffix'"),
    ]:
        response = await client.put(path, json=body, headers=auth)
        assert response.status == 400 and text in await _error(response), body
    response = await client.put(path, json={"enabled": False}, headers=auth)
    assert await response.json() == {"enabled": False, "prompt": "Be terse.", "position": "prefix"}


def test_ip_rules() -> None:
    rules = IpRules.parse({"mode": "allow", "allow": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.9"]})
    assert rules.to_json()["allow"] == ["10.0.0.0/8", "2001:db8::/32", "192.0.2.9/32"]
    for peer in ("10.1.2.3", "::ffff:10.0.0.1", "2001:db8::5", "192.0.2.9", "::ffff:192.0.2.9"):
        assert rules.allows(peer), peer
    for peer in ("192.0.2.10", "11.0.0.1", "::ffff:11.0.0.1", "2001:db9::1", "garbage"):
        assert not rules.allows(peer), peer
    for peer in ("127.0.0.1", "127.8.9.1", "::1", "::ffff:127.0.0.1", None):
        assert rules.allows(peer), peer  # loopback (and Unix sockets) are always served

    deny = IpRules.parse({"mode": "deny", "deny": ["::ffff:10.0.0.0/104", "127.0.0.1"]})
    assert deny.to_json()["deny"] == ["10.0.0.0/8", "127.0.0.1/32"]
    assert not deny.allows("10.9.9.9") and not deny.allows("::ffff:10.9.9.9")
    assert deny.allows("192.0.2.1") and deny.allows("127.0.0.1")
    both = IpRules.parse({"mode": "allow", "allow": ["10.0.0.0/8"], "deny": ["10.6.0.0/16"]})
    assert both.allows("10.5.0.1") and not both.allows("10.6.0.1")  # deny wins
    assert IpRules.parse({"mode": "off", "deny": ["0.0.0.0/0"]}).allows("203.0.113.5")

    for data, text in [
        ({"mode": "block"}, "mode must be one of off, allow, deny"),
        ({"mode": "allow"}, "needs at least one entry"),
        ({"mode": "deny", "deny": ["10.0.0.300/8"]}, "'10.0.0.300/8' in 'deny' is not"),
        ({"mode": "deny", "deny": "10.0.0.0/8"}, "must be a list"),
        ({"mode": "off", "except": []}, "unknown field except"),
    ]:
        with pytest.raises(InvalidInputError, match=text):
            IpRules.parse(data)


async def test_ip_filter_middleware_on_a_mocked_request(
    make_client: Callable[..., Any], settings: Settings
) -> None:
    client = await make_client()
    auth = _auth(settings)
    rule = {"mode": "allow", "allow": ["10.0.0.0/8"], "deny": []}
    response = await client.put("/api/settings/ip-filter", json=rule, headers=auth)
    assert response.status == 200 and await response.json() == rule

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(text="served")

    async def call(peer: str, path: str = "/v1/models") -> web.StreamResponse:
        transport = mock.Mock()
        transport.get_extra_info.return_value = (peer, 40000)
        request = make_mocked_request(
            "GET", path, app=client.app, transport=transport, headers=auth
        )
        return await middlewares.admin_auth(request, handler)

    denied = await call("192.0.2.7")
    assert denied.status == 403
    assert isinstance(denied, web.Response) and denied.body is not None
    assert b"not allowed by this server's IP filter" in bytes(denied.body)  # type: ignore[arg-type]
    assert (await call("::ffff:10.0.0.1")).status == 200
    assert (await call("10.200.1.1", "/api/settings")).status == 200
    assert (await call("::1")).status == 200


def _fake_peer() -> Any:
    """A middleware for tests: the peer address comes from an X-Test-Peer header."""

    @web.middleware
    async def fake_peer(request: web.Request, handler: Handler) -> web.StreamResponse:
        peer = request.headers.get("X-Test-Peer")
        return await handler(request.clone(remote=peer) if peer else request)

    return fake_peer


async def test_ip_filter_refuses_callers_in_their_dialect_and_follows_changes(
    aiohttp_client: Any, upstream: Any, add_provider: Callable[..., Any], settings: Settings
) -> None:
    await asyncio.to_thread(
        add_provider, "fake", base_url=f"{upstream.url}/v1", models=["m1"], sync_models=False
    )
    app = create_app(load_settings())
    app.middlewares.insert(0, _fake_peer())
    client = await aiohttp_client(app)
    auth = _auth(settings)

    async def status(peer: str, method: str = "GET", path: str = "/v1/models", **kw: Any) -> Any:
        response = await client.request(method, path, headers={"X-Test-Peer": peer, **auth}, **kw)
        return response.status, await response.json()

    assert (await status("192.0.2.7"))[0] == 200  # off by default
    rule = {"mode": "allow", "allow": ["10.0.0.0/8", "2001:db8::/32"]}
    response = await client.put("/api/settings/ip-filter", json=rule, headers=auth)
    assert response.status == 200

    code, body = await status("192.0.2.7")
    assert code == 403 and body["error"]["code"] == "ip_not_allowed"
    assert "192.0.2.7" in body["error"]["message"]
    chat = {"model": "fake/m1", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    code, body = await status("192.0.2.7", "POST", "/v1/messages", json=chat)
    assert code == 403 and body["type"] == "error"  # Anthropic's error shape
    assert body["error"]["type"] == "permission_error"
    code, body = await status("2001:db9::1", "GET", "/api/settings")
    assert code == 403  # management routes too
    assert (await status("::ffff:10.0.0.1"))[0] == 200
    assert (await status("10.3.2.1", "GET", "/api/settings"))[0] == 200
    assert (await status("2001:db8::77"))[0] == 200
    assert (await status("127.0.0.1"))[0] == 200  # loopback: the owner is never locked out

    # A change made elsewhere (the CLI, another worker) applies once the config version
    # moves, which the gateway's watcher notices; until then the snapshot holds.
    with Database(settings.paths.database).session() as conn:
        settings_repo.set_setting(conn, "ip_filter", {"mode": "deny", "deny": ["10.0.0.0/8"]})
    assert (await status("10.3.2.1"))[0] == 200
    assert client.app[keys.GATEWAY].reload_if_changed()
    assert (await status("10.3.2.1"))[0] == 403
    assert (await status("192.0.2.7"))[0] == 200

    response = await client.put("/api/settings/ip-filter", json={"mode": "off"}, headers=auth)
    assert await response.json() == {"mode": "off", "allow": [], "deny": []}
    assert (await status("10.3.2.1"))[0] == 200


async def test_ip_filter_refusals(make_client: Callable[..., Any], settings: Settings) -> None:
    client = await make_client()
    auth = _auth(settings)
    for body, text in [
        ({"mode": "allow", "allow": ["nonsense"]}, "'nonsense' in 'allow' is not"),
        ({"mode": "whitelist"}, "mode must be one of"),
        ({"mode": "allow", "allow": []}, "needs at least one entry"),
    ]:
        response = await client.put("/api/settings/ip-filter", json=body, headers=auth)
        assert response.status == 400 and text in await _error(response)
    response = await client.get("/api/settings/ip-filter", headers=auth)
    assert await response.json() == {"mode": "off", "allow": [], "deny": []}


async def test_init_reports_first_run_state(
    make_client: Callable[..., Any], settings: Settings, add_provider: Callable[..., Any]
) -> None:
    client = await make_client()
    auth = _auth(settings)
    state = await (await client.get("/api/init", headers=auth)).json()
    assert state["first_run"] is True and state["has_password"] is False
    assert (state["providers"], state["combos"], state["version"]) == (0, 0, __version__)
    assert state["data_dir"] == str(settings.paths.data_dir)
    add_provider("local", base_url="http://127.0.0.1:9/v1", models=["m"], sync_models=False)
    state = await (await client.get("/api/init", headers=auth)).json()
    assert (state["providers"], state["first_run"]) == (1, False)
    assert (await client.get("/api/init")).status == 401


async def test_shutdown_and_restart_need_a_runner(
    make_client: Callable[..., Any], settings: Settings
) -> None:
    client = await make_client()  # in-process: no runner waits on the lifecycle
    for path in ("/api/shutdown", "/api/restart"):
        response = await client.post(path, headers=_auth(settings))
        assert response.status == 501 and "not started by 'omni serve'" in await _error(response)
    assert not client.app[keys.LIFECYCLE].stopping.is_set()
