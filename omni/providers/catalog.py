"""The provider catalog: ``catalog.toml`` in this package, loaded once and validated.

The catalog says how to reach each known provider (wire format, base URL, auth style,
default headers) and which models it serves. Users add accounts for catalog providers by
id (``omni providers add openai …``) or define custom providers with their own base URL.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from omni.errors import ConfigError

FORMATS = ("openai", "responses", "anthropic", "gemini", "ollama")
AUTH_STYLES = ("bearer", "x-api-key", "x-goog-api-key", "none")


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    context: int | None = None
    max_output: int | None = None


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


@dataclass(frozen=True, slots=True)
class Catalog:
    providers: dict[str, CatalogProvider]
    by_alias: dict[str, CatalogProvider]

    def get(self, name: str) -> CatalogProvider | None:
        """A provider by id or alias prefix."""
        return self.providers.get(name) or self.by_alias.get(name)


def _parse(provider_id: str, raw: dict[str, Any]) -> CatalogProvider:
    where = f"catalog entry [{provider_id}]"
    if raw.get("format") not in FORMATS:
        raise ConfigError(f"{where}: format must be one of {', '.join(FORMATS)}")
    if raw.get("auth") not in AUTH_STYLES:
        raise ConfigError(f"{where}: auth must be one of {', '.join(AUTH_STYLES)}")
    models = tuple(
        ModelInfo(id=m["id"], context=m.get("context"), max_output=m.get("max_output"))
        for m in raw.get("models", [])
    )
    return CatalogProvider(
        id=provider_id,
        name=raw.get("name", provider_id),
        alias=raw.get("alias", provider_id),
        format=raw["format"],
        base_url=raw["base_url"],
        auth=raw["auth"],
        headers=dict(raw.get("headers", {})),
        local=bool(raw.get("local", False)),
        models=models,
    )


@cache
def load_catalog() -> Catalog:
    """The bundled catalog (parsed once per process)."""
    text = resources.files("omni.providers").joinpath("catalog.toml").read_text("utf-8")
    data = tomllib.loads(text)
    providers = {pid: _parse(pid, raw) for pid, raw in data.items()}
    by_alias = {p.alias: p for p in providers.values()}
    return Catalog(providers=providers, by_alias=by_alias)
