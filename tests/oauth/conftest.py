"""Fixtures for the subscription tests: the fake sign-in server with every provider's
endpoints pointed at it, an omni app, and sign-ins done the way a user does them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from omni.admin.token import read_admin_token
from omni.config import Settings
from tests.fakes.oauth import FakeSubscriptions

PROVIDERS = ("claude", "codex", "github", "gemini-cli", "qwen")


@pytest.fixture
async def subs(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSubscriptions]:
    """The fake, with every sign-in and API URL of every subscription provider on it
    (through the documented environment overrides)."""
    fake = FakeSubscriptions()
    await fake.start()
    for provider in PROVIDERS:
        env = "OMNI_PROVIDER_" + provider.upper().replace("-", "_")
        monkeypatch.setenv(f"{env}_AUTH_URL", f"{fake.url}/oauth/authorize")
        monkeypatch.setenv(f"{env}_TOKEN_URL", f"{fake.url}/oauth/token")
        monkeypatch.setenv(f"{env}_DEVICE_URL", f"{fake.url}/oauth/device")
        monkeypatch.setenv(f"{env}_EXCHANGE_URL", f"{fake.url}/copilot/token")
        root = fake.url if provider == "gemini-cli" else f"{fake.url}/v1"
        monkeypatch.setenv(f"{env}_BASE_URL", root)
    try:
        yield fake
    finally:
        await fake.close()


async def browser(url: str) -> str:
    """What a user's browser does with the sign-in URL: the address it is sent back to."""
    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as page:
        assert page.status == 302, await page.text()
        return page.headers["Location"]


@pytest.fixture
def app(make_client: Callable[..., Any], settings: Settings) -> Callable[..., Any]:
    """Start omni; returns (client, admin headers)."""

    async def start() -> tuple[Any, dict[str, str]]:
        http = await make_client()
        return http, {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}

    return start


async def api_login(
    http: Any, admin: dict[str, str], provider: str, account: str = "default"
) -> Any:
    """Sign in through the management API, as the TUI does: PKCE (the browser step
    played by :func:`browser`, the code pasted back) or device code (approved at once)."""
    if provider in ("github", "qwen"):
        path = f"/api/oauth/{provider}/device-code"
        started = await (await http.post(path, json={"account": account}, headers=admin)).json()
        while True:
            answer = await http.post(
                f"/api/oauth/{provider}/poll", json={"flow_id": started["flow_id"]}, headers=admin
            )
            assert answer.status == 200, await answer.text()
            data = await answer.json()
            if data["status"] == "complete":
                return data["account"]
    path = f"/api/oauth/{provider}/authorize"
    started = await (await http.post(path, json={"account": account}, headers=admin)).json()
    back = await browser(started["url"])
    done = await http.post(
        f"/api/oauth/{provider}/exchange", json={"flow_id": started["flow_id"], "code": back},
        headers=admin,
    )  # fmt: skip
    assert done.status == 200, await done.text()
    return await done.json()


def chat(model: str, text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}
