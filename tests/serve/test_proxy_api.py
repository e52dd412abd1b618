"""The outbound proxy: global (/api/settings/proxy), per provider and per account; the
upstream request really goes through it; its test endpoint; passwords never shown."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from omni.admin.token import read_admin_token
from omni.config import Settings
from omni.store import settings as settings_repo
from omni.store.db import Database
from tests.conftest import free_port
from tests.serve.proxy_fake import CountingProxy

CHAT = "/v1/chat/completions"
BODY = {"model": "fake/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
async def proxy() -> AsyncIterator[CountingProxy]:
    fake = await CountingProxy().start()
    try:
        yield fake
    finally:
        await fake.close()


def _auth(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}


async def test_global_proxy_carries_upstream_requests(
    gateway: Callable[..., Any], upstream: Any, proxy: CountingProxy, settings: Settings
) -> None:
    client = await gateway()
    auth = _auth(settings)
    assert await (await client.get("/api/settings/proxy", headers=auth)).json() == {"url": None}
    assert (await client.post(CHAT, json=BODY)).status == 200
    assert proxy.seen == [], "no proxy set: direct"

    response = await client.put("/api/settings/proxy", json={"url": proxy.url}, headers=auth)
    assert response.status == 200
    assert (await response.json())["url"] == proxy.url
    response = await client.post(CHAT, json=BODY)
    assert response.status == 200
    assert proxy.seen == [("POST", f"{upstream.url}/v1/chat/completions", None)]
    assert upstream.last.headers["Authorization"] == "Bearer sk-upstream-SECRET-42"

    await client.put("/api/settings/proxy", json={"url": None}, headers=auth)
    assert (await client.post(CHAT, json=BODY)).status == 200
    assert len(proxy.seen) == 1, "cleared: direct again"


async def test_proxy_password_is_stored_encrypted_and_shown_masked(
    gateway: Callable[..., Any], proxy: CountingProxy, settings: Settings
) -> None:
    client = await gateway()
    auth = _auth(settings)
    with_password = proxy.url.replace("http://", "http://me:pr0xy-PASS@")
    response = await client.put("/api/settings/proxy", json={"url": with_password}, headers=auth)
    shown = (await response.json())["url"]
    assert shown == proxy.url.replace("http://", "http://me:***@")
    with Database(settings.paths.database).session() as conn:
        stored = settings_repo.get_setting(conn, "proxy")
    assert stored.startswith("enc:") and "pr0xy-PASS" not in stored
    assert (await client.post(CHAT, json=BODY)).status == 200
    expected = "Basic " + base64.b64encode(b"me:pr0xy-PASS").decode()
    assert proxy.seen[-1][2] == expected, "the proxy got the credentials"


async def test_provider_and_account_proxies(
    gateway: Callable[..., Any], proxy: CountingProxy, settings: Settings
) -> None:
    client = await gateway()
    auth = _auth(settings)
    response = await client.put("/api/providers/fake", json={"proxy": proxy.url}, headers=auth)
    assert response.status == 200
    assert (await response.json())["proxy"] == proxy.url
    assert (await client.post(CHAT, json=BODY)).status == 200
    assert len(proxy.seen) == 1
    await client.put("/api/providers/fake", json={"proxy": ""}, headers=auth)
    assert (await client.post(CHAT, json=BODY)).status == 200
    assert len(proxy.seen) == 1, "provider proxy removed"

    response = await client.put(
        "/api/providers/fake/accounts/default", json={"proxy": proxy.url}, headers=auth
    )
    assert response.status == 200
    assert (await response.json())["accounts"][0]["proxy"] == proxy.url
    assert (await client.post(CHAT, json=BODY)).status == 200
    assert len(proxy.seen) == 2, "the account's proxy"
    missing = await client.put(
        "/api/providers/fake/accounts/nope", json={"proxy": proxy.url}, headers=auth
    )
    assert missing.status == 404


async def test_unreachable_proxy_is_a_clear_502(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway()
    dead = f"http://127.0.0.1:{free_port()}"
    await client.put("/api/settings/proxy", json={"url": dead}, headers=_auth(settings))
    response = await client.post(CHAT, json=BODY)
    assert response.status == 502
    assert "outbound proxy" in (await response.json())["error"]["message"]


async def test_proxy_test_endpoint(
    gateway: Callable[..., Any], upstream: Any, proxy: CountingProxy, settings: Settings
) -> None:
    client = await gateway()
    auth = _auth(settings)
    target = f"{upstream.url}/v1/models"
    response = await client.post(
        "/api/settings/proxy/test", json={"url": proxy.url, "target": target}, headers=auth
    )
    result = await response.json()
    assert (result["ok"], result["status"], result["error"]) == (True, 200, None)
    assert proxy.seen == [("GET", target, None)]

    no_proxy = await client.post("/api/settings/proxy/test", json={"target": target}, headers=auth)
    assert no_proxy.status == 400
    assert "no proxy is set" in (await no_proxy.json())["error"]["message"]

    dead = f"http://127.0.0.1:{free_port()}"
    response = await client.post(
        "/api/settings/proxy/test", json={"url": dead, "target": target}, headers=auth
    )
    result = await response.json()
    assert result["ok"] is False and result["status"] is None and result["error"]

    guarded = await client.post(
        "/api/settings/proxy/test",
        json={"url": proxy.url, "target": "http://169.254.169.254/latest"},
        headers=auth,
    )
    assert guarded.status == 400
    assert "cloud metadata" in (await guarded.json())["error"]["message"]


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("socks5://127.0.0.1:1080", "SOCKS proxies are not supported"),
        ("ftp://127.0.0.1", "http:// or https://"),
        ("http://127.0.0.1:3128/path", "must not have a path"),
    ],
)
async def test_bad_proxy_urls_are_400s(
    gateway: Callable[..., Any], settings: Settings, url: str, needle: str
) -> None:
    client = await gateway()
    response = await client.put("/api/settings/proxy", json={"url": url}, headers=_auth(settings))
    assert response.status == 400
    assert needle in (await response.json())["error"]["message"]
