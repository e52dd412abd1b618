"""Checking providers against their upstream: test, model lists, key validation.

``test`` sends one tiny real chat request through a provider's first enabled account (or
a named one) and reports ok, latency and the error; ``models`` lists what a provider
serves (catalog, stored and, when asked, freshly read from the upstream); ``validate``
checks a key and base URL before they are saved by reading the upstream's model list.
"""

from __future__ import annotations

from typing import Any

from omni.admin import AdminContext
from omni.admin import upstream as calls
from omni.admin.providers import (
    ProviderService,
    check_api_key,
    check_headers,
    check_path,
    guard_url,
)
from omni.errors import InvalidInputError, NotFoundError
from omni.gateway.registry import provider_targets
from omni.providers.catalog import FORMATS, load_catalog
from omni.providers.executor import Target
from omni.providers.http import auth_headers
from omni.providers.proxy import open_sealed
from omni.store import providers as repo
from omni.store import settings as settings_repo


class ProviderCheckService:
    """Test a provider, list its models, validate credentials before saving them."""

    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    def targets(self, name: str) -> tuple[repo.ProviderRow, list[Target]]:
        """A provider's row and one target per enabled account (even when it is disabled)."""
        provider_id = ProviderService(self.ctx).get(name)["id"]
        with self.ctx.db.session() as conn:
            row = repo.get_provider(conn, provider_id)
            accounts = repo.list_accounts(conn, provider_id)
            global_proxy = settings_repo.get_setting(conn, "proxy")
        assert row is not None
        spec = load_catalog().get(row.catalog_id) if row.catalog_id else None
        secrets = self.ctx.secrets
        targets = provider_targets(
            row, spec, accounts, self.ctx.settings, secrets, open_sealed(global_proxy, secrets)
        )
        return row, targets

    def test(
        self, name: str, account: str | None = None, model: str | None = None
    ) -> dict[str, Any]:
        """One tiny chat request through the provider; ``ok`` says whether it answered."""
        row, targets = self.targets(name)
        if account is not None:
            targets = [t for t in targets if t.account_name == account]
            if not targets:
                raise NotFoundError(f"provider '{row.id}' has no enabled account named '{account}'")
        if not targets:
            raise InvalidInputError(
                f"provider '{row.id}' has no enabled account to test",
                hint=f"add one with 'omni providers add {row.id} --api-key …'",
            )
        if model is None:
            known = self.models(row.id)["models"]
            if not known:
                raise InvalidInputError(
                    f"provider '{row.id}' lists no model; name one to test with"
                )
            model = known[0]["id"]
        target = targets[0]
        outcome = calls.chat_once(target, model)
        result = {
            "provider": row.id,
            "account": target.account_name,
            "model": model,
            **outcome.as_dict(),
        }
        if not outcome.ok and outcome.error:
            result["error"] = f"provider '{row.id}' (account '{target.account_name}'): " + (
                outcome.error
            )
        return result

    def models(self, name: str, refresh: bool = False) -> dict[str, Any]:
        """The provider's models: stored (synced or added) and catalog, optionally re-read."""
        row, targets = self.targets(name)
        warnings: list[str] = []
        if refresh:
            if not targets:
                warnings.append("no enabled account to read the model list with")
            else:
                target = targets[0]
                outcome, found = calls.fetch_models(
                    row.format, target.base_url, target.headers, models_path=row.models_path,
                    proxy=target.proxy,
                )  # fmt: skip
                if outcome.ok:
                    with self.ctx.db.transaction() as conn:
                        repo.replace_models(conn, row.id, found, "sync")
                else:
                    warnings.append(f"could not read the model list: {outcome.error}")
        with self.ctx.db.session() as conn:
            stored = repo.list_model_sources(conn, row.id)
        spec = load_catalog().get(row.catalog_id) if row.catalog_id else None
        infos = {m.id: m for m in spec.models} if spec else {}
        models: list[dict[str, Any]] = [{"id": m, "source": source} for _, m, source in stored]
        listed = {m["id"] for m in models}
        models += [{"id": m, "source": "catalog"} for m in infos if m not in listed]
        for entry in models:
            info = infos.get(entry["id"])
            entry["context"] = info.context if info else None
            entry["max_output"] = info.max_output if info else None
        return {"provider": row.id, "models": models, "warnings": warnings}

    def validate(
        self,
        provider: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        format: str | None = None,
        headers: dict[str, str] | None = None,
        models_path: str | None = None,
    ) -> dict[str, Any]:
        """Check a key (and base URL) against the upstream's model list before saving."""
        spec = load_catalog().get(provider) if provider else None
        fmt = format or (spec.format if spec else "openai")
        if fmt not in FORMATS:
            raise InvalidInputError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        url = base_url or (self.ctx.settings.provider_base_url(spec.id) if spec else None)
        url = url or (spec.base_url if spec else None)
        if not url:
            raise InvalidInputError(
                "give a base_url, or the name of a catalog provider ('provider')"
            )
        if base_url:
            url = guard_url(self.ctx, base_url)
        check_api_key(api_key or None)
        style = spec.auth if spec else {"anthropic": "x-api-key"}.get(fmt, "bearer")
        sent = {
            **(spec.headers if spec else {}),
            **(check_headers(headers) if headers else {}),
            **auth_headers(style, api_key),
        }
        if fmt == "anthropic":
            sent.setdefault("anthropic-version", "2023-06-01")
        path = check_path(models_path, "models path") if models_path else None
        with self.ctx.db.session() as conn:
            proxy = open_sealed(settings_repo.get_setting(conn, "proxy"), self.ctx.secrets)
        outcome, found = calls.fetch_models(fmt, url, sent, models_path=path, proxy=proxy)
        if not outcome.ok:
            raise InvalidInputError(
                f"validation failed for {url}: {outcome.error}",
                hint="check the API key and base URL",
            )
        return {
            "valid": True,
            "base_url": url,
            "format": fmt,
            "latency_ms": round(outcome.latency_ms, 1),
            "models": found,
        }
