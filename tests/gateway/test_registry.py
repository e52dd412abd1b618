"""The model grammar: provider/model, aliases, bare models, ambiguity and unknowns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from omni.admin import AdminContext
from omni.config import Settings
from omni.errors import InvalidInputError, ModelNotFoundError, NotFoundError
from omni.gateway.registry import Registry, build_registry
from omni.providers.catalog import load_catalog


def _registry(settings: Settings) -> Registry:
    ctx = AdminContext.open(settings)
    with ctx.db.session() as conn:
        return build_registry(conn, load_catalog(), settings, ctx.secrets, 0)


def test_resolution_rules(settings: Settings, add_provider: Callable[..., Any]) -> None:
    add_provider(
        "local",
        base_url="http://127.0.0.1:9/v1",
        models=["shared", "only-local"],
        sync_models=False,
        api_key="sk-local",
    )
    add_provider("other", base_url="http://127.0.0.1:8/v1", models=["shared"], sync_models=False)
    add_provider("groq", api_key="gsk-1", sync_models=False)
    registry = _registry(settings)

    target = registry.resolve("local/org/model:tag")
    assert (target.provider_id, target.model) == ("local", "org/model:tag")
    assert target.base_url == "http://127.0.0.1:9/v1"
    assert target.headers["Authorization"] == "Bearer sk-local"
    assert "Authorization" not in registry.resolve("other/x").headers

    assert registry.resolve("only-local").provider_id == "local"
    assert registry.resolve("llama-3.3-70b-versatile").provider_id == "groq", "catalog models"

    with pytest.raises(InvalidInputError) as ambiguous:
        registry.resolve("shared")
    assert "local/shared" in ambiguous.value.message
    assert "other/shared" in ambiguous.value.message

    with pytest.raises(ModelNotFoundError):
        registry.resolve("nobody/x")
    with pytest.raises(ModelNotFoundError):
        registry.resolve("unlisted-model")
    with pytest.raises(InvalidInputError):
        registry.resolve("")


def test_catalog_provider_uses_catalog_auth_and_config_override(
    settings: Settings, add_provider: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    add_provider("anthropic", api_key="sk-ant-1", sync_models=False)
    monkeypatch.setenv("OMNI_PROVIDER_ANTHROPIC_BASE_URL", "http://127.0.0.1:7/v1")
    target = _registry(settings).resolve("anthropic/claude-sonnet-4-5")
    assert target.headers["x-api-key"] == "sk-ant-1"
    assert target.headers["anthropic-version"] == "2023-06-01"
    assert target.base_url == "http://127.0.0.1:7/v1"
    assert target.format == "anthropic"


def test_a_provider_added_by_hand_speaks_its_format(
    settings: Settings, add_provider: Callable[..., Any]
) -> None:
    """A custom Anthropic-format provider sends the version header the Messages API requires,
    next to its key in x-api-key; a Gemini one uses x-goog-api-key."""
    common = {"base_url": "http://127.0.0.1:9/v1", "sync_models": False, "api_key": "k1"}
    add_provider("ant", format="anthropic", models=["m"], **common)
    add_provider("gem", format="gemini", models=["g"], **common)
    ant = _registry(settings).resolve("ant/m").headers
    assert (ant["x-api-key"], ant["anthropic-version"]) == ("k1", "2023-06-01")
    assert "Authorization" not in ant
    gem = _registry(settings).resolve("gem/g").headers
    assert gem["x-goog-api-key"] == "k1" and "anthropic-version" not in gem


def test_key_from_environment_variable(
    settings: Settings, add_provider: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_KEY", "sk-from-env")
    add_provider(
        "p", base_url="http://127.0.0.1:9/v1", api_key_env="MY_KEY", models=["m"], sync_models=False
    )
    assert _registry(settings).resolve("p/m").headers["Authorization"] == "Bearer sk-from-env"


def test_provider_without_account_is_a_clear_error(settings: Settings) -> None:
    ctx = AdminContext.open(settings)
    from omni.store import providers as repo

    with ctx.db.transaction() as conn:
        repo.upsert_provider(conn, "empty", catalog_id=None, format="openai", base_url="http://x")
    with pytest.raises(NotFoundError, match="no enabled account"):
        _registry(settings).resolve("empty/m")
