"""An in-memory snapshot of everything routing needs, rebuilt when the store changes.

Built from the store's providers, accounts and model lists plus the bundled catalog and
config overrides, with account secrets decrypted once. The request path only does dict
look-ups on it; no database access per request. :meth:`Registry.plan` lists the targets
to try, in order, for a model string (every account of its provider, or the steps of a
combo). :meth:`Registry.resolve` implements the
model grammar: ``provider/model`` split at the first ``/`` (the model may contain more
slashes), the provider named by its id or catalog alias; a bare model goes to the one
provider that lists it, and is a 400 naming the choices when several do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from omni.config import Settings
from omni.errors import InvalidInputError, ModelNotFoundError, NotFoundError
from omni.providers.catalog import Catalog
from omni.providers.executor import Target
from omni.providers.http import auth_headers
from omni.store import combos as combo_repo
from omni.store import providers as repo
from omni.store.driver import Connection
from omni.store.secrets import SecretBox


@dataclass(frozen=True, slots=True)
class ProviderEntry:
    """One configured provider with its usable accounts (best first) and known models."""

    id: str
    format: str
    targets: tuple[Target, ...]
    models: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    """The targets to try for one model string, in order: every usable account of the
    provider, or of each step of a combo (nested combos expanded)."""

    targets: tuple[Target, ...]
    combo: str | None = None


MAX_COMBO_DEPTH = 3


@dataclass(slots=True)
class Registry:
    providers: dict[str, ProviderEntry] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    model_owners: dict[str, list[str]] = field(default_factory=dict)
    combos: dict[str, tuple[str, ...]] = field(default_factory=dict)
    version: int = -1
    _plans: dict[str, Plan] = field(default_factory=dict)

    def provider(self, name: str) -> ProviderEntry | None:
        found = self.providers.get(name)
        if found is None and name in self.aliases:
            found = self.providers.get(self.aliases[name])
        return found

    def plan(self, model: str) -> Plan:
        """What to try for a client's model string (cached per distinct string)."""
        cached = self._plans.get(model)
        if cached is not None:
            return cached
        if model in self.combos:
            targets = self._expand_combo(model, 1)
            if not targets:
                raise NotFoundError(
                    f"combo '{model}' has no step that can be served now",
                    hint=f"check its steps with 'omni combos show {model}'",
                )
            plan = Plan(tuple(targets), combo=model)
        else:
            plan = Plan(self._targets(model))
        if len(self._plans) < 4096:
            self._plans[model] = plan
        return plan

    def resolve(self, model: str) -> Target:
        """The first target for a model string."""
        return self.plan(model).targets[0]

    def _expand_combo(self, name: str, depth: int) -> list[Target]:
        targets: list[Target] = []
        for step in self.combos[name]:
            if step in self.combos:
                if depth < MAX_COMBO_DEPTH and step != name:
                    targets += self._expand_combo(step, depth + 1)
                continue
            try:
                targets += self._targets(step)
            except (NotFoundError, InvalidInputError):
                continue  # a step that cannot be served is skipped, the others still run
        seen: set[tuple[int, str]] = set()
        unique = []
        for target in targets:
            key = (target.account_id, target.model)
            if key not in seen:
                seen.add(key)
                unique.append(target)
        return unique

    def _targets(self, model: str) -> tuple[Target, ...]:
        if not model:
            raise InvalidInputError("the request names no model", hint="set 'model'")
        prefix, sep, rest = model.partition("/")
        entry = self.provider(prefix) if sep else None
        if entry is not None and rest:
            upstream_model = rest
        else:
            owners = self.model_owners.get(model, [])
            if len(owners) > 1:
                choices = ", ".join(f"{p}/{model}" for p in owners)
                raise InvalidInputError(
                    f"model '{model}' is served by several providers; choose one of: {choices}"
                )
            if not owners:
                known = ", ".join(sorted(self.providers)) or "none configured"
                raise ModelNotFoundError(
                    f"unknown model '{model}': no provider or combo is configured for it "
                    f"(providers: {known})",
                    hint="use '<provider>/<model>', e.g. 'openai/gpt-4o-mini'",
                )
            entry, upstream_model = self.providers[owners[0]], model
        if not entry.targets:
            raise NotFoundError(
                f"provider '{entry.id}' has no enabled account",
                hint=f"add one with 'omni providers add {entry.id} --api-key …'",
            )
        return tuple(replace(t, model=upstream_model) for t in entry.targets)


def build_registry(
    conn: Connection, catalog: Catalog, settings: Settings, secrets: SecretBox, version: int
) -> Registry:
    """Read providers, accounts and models from the store into a new :class:`Registry`."""
    registry = Registry(version=version)
    models_by_provider: dict[str, list[str]] = {}
    for provider_id, model_id in repo.list_models(conn):
        models_by_provider.setdefault(provider_id, []).append(model_id)
    accounts_by_provider: dict[str, list[repo.AccountRow]] = {}
    for account in repo.list_accounts(conn):
        accounts_by_provider.setdefault(account.provider_id, []).append(account)

    for row in repo.list_providers(conn):
        if not row.enabled:
            continue
        spec = catalog.get(row.catalog_id) if row.catalog_id else None
        base = settings.provider_base_url(row.id) or row.base_url or (spec.base_url if spec else "")
        auth_style = spec.auth if spec else _custom_auth(row.format)
        defaults = {**(spec.headers if spec else {}), **row.headers}
        local = bool(spec and spec.local) or _is_loopback(base)
        targets = []
        for account in accounts_by_provider.get(row.id, []):
            if not account.enabled:
                continue
            secret = _secret_of(account, secrets)
            headers = {
                "Content-Type": "application/json",
                **defaults,
                **auth_headers(auth_style, secret),
            }
            targets.append(
                Target(
                    provider_id=row.id,
                    account_id=account.id,
                    account_name=account.name,
                    format=row.format,
                    base_url=account.base_url or base,
                    model="",
                    headers=headers,
                    breaker="local" if local else "apikey",
                )
            )
        models = list(models_by_provider.get(row.id, []))
        if spec is not None:
            models += [m.id for m in spec.models if m.id not in models]
        registry.providers[row.id] = ProviderEntry(
            row.id, row.format, tuple(targets), tuple(models)
        )
        if spec is not None and spec.alias != row.id:
            registry.aliases.setdefault(spec.alias, row.id)
        for model_id in models:
            registry.model_owners.setdefault(model_id, []).append(row.id)
    for combo in combo_repo.list_combos(conn):
        registry.combos[combo.name] = combo.steps
    return registry


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def _custom_auth(fmt: str) -> str:
    return {"anthropic": "x-api-key", "gemini": "x-goog-api-key"}.get(fmt, "bearer")


def _secret_of(account: repo.AccountRow, secrets: SecretBox) -> str | None:
    if account.auth_type == "env" and account.secret_env:
        return os.environ.get(account.secret_env)
    if account.secret:
        return secrets.decrypt(account.secret)
    return None
