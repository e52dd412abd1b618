"""The bundled provider catalog: size, required providers, and a validator that names culprits."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from omni.errors import ConfigError
from omni.providers.catalog import (
    AUTH_STYLES,
    CAPABILITIES,
    FORMATS,
    ModelInfo,
    load_catalog,
    parse_catalog,
    parse_provider,
)

REQUIRED = {
    "openai", "anthropic", "gemini", "openrouter", "groq", "deepseek", "mistral", "xai",
    "together", "fireworks", "cerebras", "nvidia", "nebius", "perplexity", "cohere", "glm",
    "zai", "kimi", "alibaba", "minimax", "sambanova", "hyperbolic", "novita", "siliconflow",
    "ollama", "lmstudio", "vllm", "llamacpp", "deepinfra", "featherless-ai", "chutes",
    "github-models", "huggingface", "scaleway", "ovhcloud", "lambda-ai", "baseten", "venice",
    "requesty", "ai21", "upstage", "inception", "morph", "jan", "localai", "koboldcpp",
    "oobabooga",
}  # fmt: skip


def _entry(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": "Example",
        "format": "openai",
        "base_url": "https://api.example.com/v1",
        "auth": "bearer",
        "models": [{"id": "m1", "context": 1000, "price": {"input": 1, "output": 2}}],
    }
    raw.update(overrides)
    return raw


def test_catalog_loads_with_at_least_45_providers() -> None:
    catalog = load_catalog()
    assert len(catalog.providers) >= 45
    assert set(catalog.providers) >= REQUIRED, REQUIRED - set(catalog.providers)


def test_ids_and_aliases_are_unique_and_resolve() -> None:
    catalog = load_catalog()
    aliases = [p.alias for p in catalog.providers.values()]
    assert len(aliases) == len(set(aliases))
    for p in catalog.providers.values():
        assert p.id == p.id.lower()
        assert catalog.get(p.id) is p
        assert catalog.get(p.alias) is p
        assert p.alias == p.id or p.alias not in catalog.providers


def test_omniroute_prefixes() -> None:
    catalog = load_catalog()
    for alias, provider_id in {
        "ds": "deepseek", "pplx": "perplexity", "hf": "huggingface", "ghm": "github-models",
        "samba": "sambanova", "hyp": "hyperbolic", "scw": "scaleway", "ovh": "ovhcloud",
        "featherless": "featherless-ai", "lambda": "lambda-ai", "ali": "alibaba",
    }.items():  # fmt: skip
        found = catalog.get(alias)
        assert found is not None and found.id == provider_id


def test_urls_formats_and_auth() -> None:
    for p in load_catalog().providers.values():
        parts = urlsplit(p.base_url)
        assert parts.scheme in ("http", "https") and parts.hostname, p.id
        assert p.format in FORMATS and p.auth in AUTH_STYLES, p.id
        assert p.name.strip(), p.id
        if p.local:
            assert parts.hostname in ("localhost", "127.0.0.1"), p.id
            assert p.auth == "none", p.id
        else:
            assert parts.scheme == "https", p.id
        if p.docs is not None:
            assert urlsplit(p.docs).scheme == "https", p.id
        if p.format == "anthropic":
            assert "anthropic-version" in p.headers, p.id


def test_models_limits_prices_and_capabilities() -> None:
    priced = 0
    for p in load_catalog().providers.values():
        assert len({m.id for m in p.models}) == len(p.models), p.id
        for m in p.models:
            assert m.context is None or m.context > 0
            assert m.max_output is None or m.max_output > 0
            assert set(m.capabilities) <= set(CAPABILITIES), (p.id, m.id)
            if m.price is not None:
                priced += 1
                values = [m.price.input, m.price.output, m.price.cached_input, m.price.cache_write]
                assert all(v >= 0 for v in values if v is not None), (p.id, m.id)
    assert priced >= 10
    catalog = load_catalog()
    o3 = next(m for m in catalog.providers["openai"].models if m.id == "o3")
    assert "temperature" in o3.unsupported and "reasoning" in o3.capabilities
    sonnet = next(m for m in catalog.providers["anthropic"].models if m.id == "claude-sonnet-4-5")
    assert sonnet.price is not None and sonnet.price.cache_write is not None


def test_model_info_defaults_keep_old_callers_working() -> None:
    model = ModelInfo(id="m")
    assert (model.price, model.capabilities, model.unsupported) == (None, (), ())


def test_a_good_entry_parses() -> None:
    provider = parse_provider("example", _entry(docs="https://docs.example.com"))
    assert provider.alias == "example" and provider.docs == "https://docs.example.com"
    assert provider.models[0].price is not None and provider.models[0].price.output == 2.0


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"format": "grpc"}, "format must be one of"),
        ({"auth": "cookie"}, "auth must be one of"),
        ({"base_url": "ftp://example.com"}, "base_url must be an http(s) URL"),
        ({"base_url": "https:///v1"}, "base_url must be an http(s) URL"),
        ({"local": True}, "local"),
        ({"docs": "not a url"}, "docs must be an http(s) URL"),
        ({"colour": "red"}, "unknown key(s) colour"),
        ({"alias": "Bad Alias"}, "bad alias"),
        ({"headers": {"x": 1}}, "headers"),
        ({"models": [{"context": 5}]}, "every model needs an id"),
        ({"models": [{"id": "m", "context": -1}]}, "model 'm': context"),
        ({"models": [{"id": "m", "max_output": True}]}, "model 'm': max_output"),
        ({"models": [{"id": "m"}, {"id": "m"}]}, "model ids must be unique"),
        ({"models": [{"id": "m", "price": {"input": -1, "output": 1}}]}, "model 'm' price"),
        ({"models": [{"id": "m", "price": {"input": 1}}]}, "needs input and output"),
        ({"models": [{"id": "m", "price": {"input": 1, "output": 1, "x": 1}}]}, "unknown"),
        ({"models": [{"id": "m", "capabilities": ["telepathy"]}]}, "capabilities must be"),
        ({"models": [{"id": "m", "unsupported": "temperature"}]}, "unsupported must be"),
    ],
)
def test_validator_names_the_bad_entry(overrides: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError) as failure:
        parse_provider("broken-one", _entry(**overrides))
    assert "[broken-one]" in failure.value.message
    assert fragment in failure.value.message


def test_bad_ids_and_alias_clashes_are_rejected() -> None:
    with pytest.raises(ConfigError, match=r"\[Upper\]"):
        parse_provider("Upper", _entry())
    with pytest.raises(ConfigError, match=r"\[b\]: alias 'a' is already taken by \[a\]"):
        parse_catalog({"a": _entry(), "b": _entry(alias="a")})
    with pytest.raises(ConfigError, match=r"\[c\]: alias 'x' is already taken by \[b\]"):
        parse_catalog({"b": _entry(alias="x"), "c": _entry(alias="x")})
