"""The provider catalog: ``catalog.toml`` in this package, loaded once and validated.

The catalog says how to reach each known provider (wire format, base URL, auth style,
default headers, documentation) and which models it serves, with their limits, list prices
(USD per 1M tokens), capabilities and the request parameters they reject. Users add accounts
for catalog providers by id or alias (``omni providers add openai …``) or define custom
providers with their own base URL. Every mistake in the data is a :class:`ConfigError` that
names the entry.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from omni.errors import ConfigError

FORMATS = ("openai", "responses", "anthropic", "gemini", "ollama")
AUTH_STYLES = ("bearer", "x-api-key", "x-goog-api-key", "none", "oauth")
CAPABILITIES = ("tools", "vision", "reasoning")
PRICE_FIELDS = ("input", "cached_input", "cache_write", "output")

_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
_PARAM = re.compile(r"[a-z][a-z0-9_]*")
_PROVIDER_KEYS = {"name", "alias", "format", "base_url", "auth", "headers", "local", "docs"}
_MODEL_KEYS = {"id", "context", "max_output", "price", "capabilities", "unsupported"}


@dataclass(frozen=True, slots=True)
class Price:
    """A model's list price in USD per 1M tokens (cached reads and cache writes if billed)."""

    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    context: int | None = None
    max_output: int | None = None
    price: Price | None = None
    capabilities: tuple[str, ...] = ()
    unsupported: tuple[str, ...] = ()  # request parameters the model rejects


@dataclass(frozen=True, slots=True)
class CatalogProvider:
    id: str
    name: str
    alias: str
    format: str
    base_url: str
    auth: str
    headers: dict[str, str] = field(default_factory=dict)
    local: bool = False
    models: tuple[ModelInfo, ...] = ()
    docs: str | None = None


@dataclass(frozen=True, slots=True)
class Catalog:
    providers: dict[str, CatalogProvider]
    by_alias: dict[str, CatalogProvider]

    def get(self, name: str) -> CatalogProvider | None:
        """A provider by id or alias prefix."""
        return self.providers.get(name) or self.by_alias.get(name)


def _require(ok: object, where: str, problem: str) -> None:
    if not ok:
        raise ConfigError(f"{where}: {problem}")


def _check_keys(raw: object, allowed: set[str], where: str) -> dict[str, Any]:
    _require(isinstance(raw, dict), where, "must be a table")
    assert isinstance(raw, dict)
    unknown = sorted(set(raw) - allowed)
    _require(not unknown, where, f"unknown key(s) {', '.join(unknown)}")
    return raw


def _check_url(value: object, where: str, key: str) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    _require(
        parts is not None and parts.scheme in ("http", "https") and parts.hostname,
        where,
        f"{key} must be an http(s) URL with a host, not {value!r}",
    )
    assert isinstance(value, str)
    return value


def _count(value: object, where: str, key: str) -> int | None:
    ok = value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0)
    _require(ok, where, f"{key} must be a positive whole number of tokens, not {value!r}")
    return value if isinstance(value, int) else None


def _names(value: object, where: str, key: str, pattern: re.Pattern[str]) -> tuple[str, ...]:
    ok = isinstance(value, list) and all(isinstance(v, str) and pattern.fullmatch(v) for v in value)
    _require(ok, where, f"{key} must be a list of names, not {value!r}")
    assert isinstance(value, list)
    return tuple(value)


def _parse_price(raw: object, where: str) -> Price:
    where = f"{where} price"
    price = _check_keys(raw, set(PRICE_FIELDS), where)
    _require("input" in price and "output" in price, where, "needs input and output")
    for key, value in price.items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        _require(number and value >= 0, where, f"{key} must be a number >= 0, not {value!r}")
    return Price(**{k: float(v) for k, v in price.items()})


def _parse_model(raw: object, where: str) -> ModelInfo:
    model_id = raw.get("id") if isinstance(raw, dict) else None
    _require(isinstance(model_id, str) and model_id.strip(), where, "every model needs an id")
    where = f"{where} model {model_id!r}"
    model = _check_keys(raw, _MODEL_KEYS, where)
    capabilities = _names(model.get("capabilities", []), where, "capabilities", _PARAM)
    bad = sorted(set(capabilities) - set(CAPABILITIES))
    _require(not bad, where, f"capabilities must be among {', '.join(CAPABILITIES)}, not {bad}")
    price = model.get("price")
    return ModelInfo(
        id=str(model_id),
        context=_count(model.get("context"), where, "context"),
        max_output=_count(model.get("max_output"), where, "max_output"),
        price=None if price is None else _parse_price(price, where),
        capabilities=capabilities,
        unsupported=_names(model.get("unsupported", []), where, "unsupported", _PARAM),
    )


def parse_provider(provider_id: str, raw: object) -> CatalogProvider:
    """One catalog table as a provider, or a :class:`ConfigError` naming the entry."""
    where = f"catalog entry [{provider_id}]"
    _require(_ID.fullmatch(provider_id), where, "ids are lower-case letters, digits, . _ -")
    entry = _check_keys(raw, _PROVIDER_KEYS | {"models"}, where)
    if entry.get("format") not in FORMATS:
        raise ConfigError(f"{where}: format must be one of {', '.join(FORMATS)}")
    if entry.get("auth") not in AUTH_STYLES:
        raise ConfigError(f"{where}: auth must be one of {', '.join(AUTH_STYLES)}")
    alias = entry.get("alias", provider_id)
    _require(isinstance(alias, str) and _ID.fullmatch(alias), where, f"bad alias {alias!r}")
    name = entry.get("name", provider_id)
    _require(isinstance(name, str) and name.strip(), where, "name must be a non-empty string")
    headers = entry.get("headers", {})
    ok = isinstance(headers, dict) and all(isinstance(v, str) for v in headers.values())
    _require(ok, where, "headers must be a table of strings")
    local = entry.get("local", False)
    _require(isinstance(local, bool), where, "local must be true or false")
    base_url = _check_url(entry.get("base_url"), where, "base_url")
    if local:
        host = urlsplit(base_url).hostname
        _require(host in ("localhost", "127.0.0.1"), where, "a local server's base_url is local")
    docs = entry.get("docs")
    models_raw = entry.get("models", [])
    _require(isinstance(models_raw, list), where, "models must be a list of tables")
    models = tuple(_parse_model(m, where) for m in models_raw)
    ids = [m.id for m in models]
    _require(len(ids) == len(set(ids)), where, "model ids must be unique")
    return CatalogProvider(
        id=provider_id,
        name=name,
        alias=alias,
        format=entry["format"],
        base_url=base_url,
        auth=entry["auth"],
        headers=dict(headers),
        local=local,
        models=models,
        docs=None if docs is None else _check_url(docs, where, "docs"),
    )


def parse_catalog(data: dict[str, Any]) -> Catalog:
    """Every table of a catalog document, with ids and aliases checked for clashes."""
    providers = {pid: parse_provider(pid, raw) for pid, raw in data.items()}
    by_alias: dict[str, CatalogProvider] = {}
    for p in providers.values():
        other = by_alias.get(p.alias) or providers.get(p.alias)
        if other is not None and other.id != p.id:
            raise ConfigError(
                f"catalog entry [{p.id}]: alias '{p.alias}' is already taken by [{other.id}]"
            )
        by_alias[p.alias] = p
    return Catalog(providers=providers, by_alias=by_alias)


@cache
def load_catalog() -> Catalog:
    """The bundled catalog (parsed once per process)."""
    text = resources.files("omni.providers").joinpath("catalog.toml").read_text("utf-8")
    return parse_catalog(tomllib.loads(text))
