"""Where sign-in happens: every authorize, token, device, exchange and API URL can be
overridden (``config.toml`` or the environment), and providers are found by any name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from omni.config import load_settings
from omni.errors import ConfigError, InvalidInputError
from omni.oauth.specs import SPECS, endpoints, spec_for
from omni.providers.catalog import load_catalog
from omni.serve import keys
from tests.fakes.oauth import FakeSubscriptions
from tests.fakes.upstream import Reply
from tests.oauth.conftest import api_login


def _config(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(text, "utf-8")


def test_every_url_comes_from_config_or_environment(
    omni_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _config(omni_home, "[providers.github]\n"
            "device_url = 'http://127.0.0.1:9/device'\n"
            "token_url = 'http://127.0.0.1:9/token'\n"
            "exchange_url = 'http://127.0.0.1:9/copilot'\n"
            "base_url = 'http://127.0.0.1:9/api'\n")  # fmt: skip
    ends = endpoints(SPECS["github"], load_settings())
    assert (ends.device_url, ends.token_url, ends.exchange_url, ends.base_url) == (
        "http://127.0.0.1:9/device", "http://127.0.0.1:9/token", "http://127.0.0.1:9/copilot",
        "http://127.0.0.1:9/api",
    )  # fmt: skip
    monkeypatch.setenv("OMNI_PROVIDER_GITHUB_TOKEN_URL", "http://127.0.0.1:10/token")
    assert endpoints(SPECS["github"], load_settings()).token_url == "http://127.0.0.1:10/token"
    monkeypatch.setenv("OMNI_PROVIDER_GEMINI_CLI_AUTH_URL", "http://127.0.0.1:11/auth")
    assert endpoints(SPECS["gemini-cli"], load_settings()).auth_url == "http://127.0.0.1:11/auth"
    defaults = endpoints(SPECS["claude"], load_settings())
    assert defaults.token_url == SPECS["claude"].token_url and defaults.base_url is None


def test_unknown_override_keys_are_refused(omni_home: Path) -> None:
    _config(omni_home, "[providers.claude]\nrefresh = 'http://127.0.0.1:9/x'\n")
    with pytest.raises(ConfigError, match="known: base_url, auth_url, token_url, device_url"):
        load_settings()


def test_names_and_catalog_entries() -> None:
    assert [spec_for(n).id for n in ("cc", "cx", "gh", "copilot", "gemini", "qw")] == [
        "claude", "codex", "github", "github", "gemini-cli", "qwen",
    ]  # fmt: skip
    with pytest.raises(InvalidInputError, match="subscription providers are"):
        spec_for("groq")
    catalog = load_catalog()
    for provider_id, spec in SPECS.items():
        entry = catalog.providers[provider_id]
        assert entry.auth == "oauth" and spec.flow in ("pkce", "device")
    assert catalog.get("cc") is catalog.providers["claude"]


async def test_provider_test_works_for_subscriptions(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, admin = await app()
    for provider, model in (("codex", "gpt-5"), ("gemini-cli", "gemini-2.5-flash")):
        await api_login(http, admin, provider)
        subs.push(Reply(text="pong"))
        tested = await http.post(f"/api/providers/{provider}/test", json={"model": model},
                                 headers=admin)  # fmt: skip
        result = await tested.json()
        assert result["ok"] is True, result


async def test_subscription_targets_use_the_oauth_breaker_profile(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, admin = await app()
    await api_login(http, admin, "claude")
    target = http.app[keys.GATEWAY].registry.resolve("cc/claude-sonnet-4-5")
    assert (target.breaker, target.wire) == ("oauth", "claude-code")
