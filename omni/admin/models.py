"""Models: the bundled catalog, what is configured, what is usable now, custom models.

``catalog`` is the data in ``catalog.toml`` (context window, max output, prices,
capabilities). ``configured`` lists every model string a client may ask for: each
configured provider's models (stored or from the catalog), combos and aliases.
``availability`` says which configured models can be served now: the provider is
enabled, has an enabled account, its circuit is not open and not every account is
cooling down (the server passes its live cooldown and breaker state). Custom models are
stored per provider with source ``user`` and survive model-list syncs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from omni.admin import AdminContext
from omni.admin.providers import ProviderService
from omni.errors import InvalidInputError, NotFoundError
from omni.providers.catalog import CatalogProvider, ModelInfo, load_catalog
from omni.store import aliases as alias_repo
from omni.store import combos as combo_repo
from omni.store import providers as repo


def model_info(info: ModelInfo | None) -> dict[str, Any]:
    """A catalog model's limits, prices and capabilities as JSON-ready values."""
    if info is None:
        return {"context": None, "max_output": None, "price": None, "capabilities": []}
    return {
        "context": info.context,
        "max_output": info.max_output,
        "price": asdict(info.price) if info.price else None,
        "capabilities": list(info.capabilities),
        "unsupported": list(info.unsupported),
    }


def _catalog_entry(p: CatalogProvider) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "alias": p.alias,
        "format": p.format,
        "base_url": p.base_url,
        "auth": p.auth,
        "local": p.local,
        "docs": p.docs,
        "models": [{"id": m.id, **model_info(m)} for m in p.models],
    }


def _check_model(model: object) -> str:
    if not isinstance(model, str) or not model.strip() or any(c.isspace() for c in model):
        raise InvalidInputError(f"a model id is one non-empty word, not {model!r}")
    return model.strip()


class ModelService:
    """The model catalog, the configured models, their availability, custom models."""

    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    def catalog(self, provider: str | None = None) -> list[dict[str, Any]]:
        entries = list(load_catalog().providers.values())
        if provider:
            spec = load_catalog().get(provider)
            if spec is None:
                raise NotFoundError(f"'{provider}' is not in the catalog")
            entries = [spec]
        return [_catalog_entry(p) for p in entries]

    def configured(self) -> list[dict[str, Any]]:
        """Every model string a client may ask for, with what the catalog knows of it."""
        catalog = load_catalog()
        out: list[dict[str, Any]] = []
        with self.ctx.db.session() as conn:
            sources = {(p, m): s for p, m, s in repo.list_model_sources(conn)}
            rows = repo.list_providers(conn)
            combos = combo_repo.list_combos(conn)
            aliases = alias_repo.list_aliases(conn)
        for row in rows:
            spec = catalog.get(row.catalog_id) if row.catalog_id else None
            infos = {m.id: m for m in spec.models} if spec else {}
            ids = [m for (p, m) in sources if p == row.id]
            ids += [m for m in infos if (row.id, m) not in sources]
            for model in ids:
                out.append(
                    {
                        "id": f"{row.id}/{model}",
                        "kind": "model",
                        "provider": row.id,
                        "model": model,
                        "source": sources.get((row.id, model), "catalog"),
                        "enabled": row.enabled,
                        **model_info(infos.get(model)),
                    }
                )
        for combo in combos:
            out.append({"id": combo.name, "kind": "combo", "steps": list(combo.steps)})
        for alias in aliases:
            out.append({"id": alias.alias, "kind": "alias", "target": alias.target})
        return out

    def show(self, model_id: str) -> dict[str, Any]:
        for entry in self.configured():
            if entry["id"] == model_id:
                return entry
        prefix, _, rest = model_id.partition("/")
        spec = load_catalog().get(prefix)
        info = next((m for m in spec.models if m.id == rest), None) if spec else None
        if spec is not None and info is not None:
            return {
                "id": f"{spec.id}/{info.id}",
                "kind": "catalog",
                "provider": spec.id,
                "model": info.id,
                "source": "catalog",
                "configured": False,
                **model_info(info),
            }
        raise NotFoundError(f"model '{model_id}' is neither configured nor in the catalog")

    def availability(
        self,
        cooldowns: Mapping[int, float] | None = None,
        breakers: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Which configured models can be served now, and why not when they cannot."""
        cooldowns, breakers = cooldowns or {}, breakers or {}
        with self.ctx.db.session() as conn:
            accounts: dict[str, list[repo.AccountRow]] = {}
            for account in repo.list_accounts(conn):
                accounts.setdefault(account.provider_id, []).append(account)
            enabled = {row.id: row.enabled for row in repo.list_providers(conn)}
        reasons: dict[str, str | None] = {}
        for provider_id, on in enabled.items():
            usable = [a for a in accounts.get(provider_id, []) if a.enabled]
            breaker = breakers.get(provider_id) or {}
            resting = [cooldowns.get(a.id, 0.0) for a in usable]
            if not on:
                reasons[provider_id] = "provider disabled"
            elif not usable:
                reasons[provider_id] = "no enabled account"
            elif breaker.get("state") == "open":
                wait = float(breaker.get("retry_in_s") or 0)
                reasons[provider_id] = f"circuit open, retry in {wait:.0f} s"
            elif all(r > 0 for r in resting):
                reasons[provider_id] = f"every account cooling down ({min(resting):.0f} s)"
            else:
                reasons[provider_id] = None
        models = []
        for entry in self.configured():
            if entry["kind"] != "model":
                continue
            reason = reasons.get(entry["provider"])
            models.append(
                {
                    "id": entry["id"],
                    "provider": entry["provider"],
                    "available": reason is None,
                    "reason": reason,
                }
            )
        ready = sum(1 for m in models if m["available"])
        return {"models": models, "available": ready, "unavailable": len(models) - ready}

    # -- custom models (provider_models with source 'user') --------------------------------

    def custom_models(self, provider: str | None = None) -> list[dict[str, Any]]:
        provider_id = ProviderService(self.ctx).get(provider)["id"] if provider else None
        with self.ctx.db.session() as conn:
            rows = repo.list_model_sources(conn, provider_id)
        return [
            {"provider": p, "model": m, "id": f"{p}/{m}", "source": s}
            for p, m, s in rows
            if s == "user"
        ]

    def add_custom(self, provider: str, models: list[str]) -> list[dict[str, Any]]:
        provider_id = ProviderService(self.ctx).get(provider)["id"]
        if not isinstance(models, list) or not models:
            raise InvalidInputError("give at least one model id to add")
        cleaned = [_check_model(m) for m in models]
        with self.ctx.db.transaction() as conn:
            repo.add_models(conn, provider_id, cleaned, "user")
        return [{"provider": provider_id, "model": m, "id": f"{provider_id}/{m}", "source": "user"}
                for m in cleaned]  # fmt: skip

    def remove_custom(self, provider: str, model: str) -> dict[str, Any]:
        provider_id = ProviderService(self.ctx).get(provider)["id"]
        with self.ctx.db.transaction() as conn:
            if not repo.remove_model(conn, provider_id, model):
                raise NotFoundError(f"provider '{provider_id}' has no stored model '{model}'")
        return {"provider": provider_id, "model": model, "id": f"{provider_id}/{model}"}
