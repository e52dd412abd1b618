"""An in-memory snapshot of everything routing needs, rebuilt when the store changes.

Built from the store's providers, accounts and model lists plus the bundled catalog and
config overrides, with account secrets decrypted once. The request path only does dict
look-ups on it; no database access per request. :meth:`Registry.plan` lists the targets
to try, in order, for a model string (every account of its provider, or the steps of a
combo; a user alias is resolved first, see :mod:`omni.gateway.aliases`).
:meth:`Registry.resolve` implements the
model grammar: ``provider/model`` split at the first ``/`` (the model may contain more
slashes), the provider named by its id or catalog alias; a bare model goes to the one
provider that lists it, and is a 400 naming the choices when several do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import orjson

from omni.config import Settings
from omni.errors import InvalidInputError, ModelNotFoundError, NotFoundError
from omni.gateway.aliases import AliasTable
from omni.providers.catalog import Catalog, CatalogProvider
from omni.providers.executor import Target
from omni.providers.http import auth_headers
from omni.providers.proxy import open_sealed
from omni.store import aliases as alias_repo
from omni.store import combos as combo_repo
from omni.store import providers as repo
from omni.store import settings as settings_repo
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
    model_aliases: AliasTable = field(default_factory=AliasTable)
    _listing: bytes | None = None

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
        asked, model = model, self.model_aliases.resolve(model)  # user aliases (aliases.py)
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
            self._plans[asked] = plan
        return plan

    def resolve(self, model: str) -> Target:
        """The first target for a model string."""
        return self.plan(model).targets[0]

    # -- model lists (GET /v1/models) -------------------------------------------------

    def listed(self) -> list[tuple[str, str]]:
        """``(model id, owner)`` for every model string a client may ask for, in a stable
        order: each provider's ``provider/model``, then combos, then exact user aliases."""
        out = [(f"{e.id}/{m}", e.id) for e in self.providers.values() for m in e.models]
        seen = {m for m, _ in out}
        for name, owner in [
            *((c, "combo") for c in sorted(self.combos)),
            *((a, "alias") for a in sorted(self.model_aliases.exact)),
        ]:
            if name not in seen:
                seen.add(name)
                out.append((name, owner))
        return out

    def model_ids(self) -> list[str]:
        """Every model string a client may ask for (see :meth:`listed`)."""
        return [model for model, _ in self.listed()]

    def model_entry(self, model_id: str) -> dict[str, Any] | None:
        """One OpenAI model-list entry, or None when ``model_id`` is not listed."""
        prefix, _, rest = model_id.partition("/")
        entry = self.provider(prefix)
        if entry is not None and rest in entry.models:
            return _listed(f"{entry.id}/{rest}", entry.id)
        if model_id in self.combos:
            return _listed(model_id, "combo")
        if model_id in self.model_aliases.exact:
            return _listed(model_id, "alias")
        return None

    def models_body(self) -> bytes:
        """The OpenAI model list as JSON bytes (built once per snapshot)."""
        if self._listing is None:
            data = [_listed(model, owner) for model, owner in self.listed()]
            self._listing = orjson.dumps({"object": "list", "data": data})
        return self._listing

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
    """Read providers, accounts, models, combos and aliases into a new :class:`Registry`."""
    registry = Registry(version=version)
    models_by_provider: dict[str, list[str]] = {}
    for provider_id, model_id in repo.list_models(conn):
        models_by_provider.setdefault(provider_id, []).append(model_id)
    accounts_by_provider: dict[str, list[repo.AccountRow]] = {}
    for account in repo.list_accounts(conn):
        accounts_by_provider.setdefault(account.provider_id, []).append(account)
    global_proxy = open_sealed(settings_repo.get_setting(conn, "proxy"), secrets)

    for row in repo.list_providers(conn):
        if not row.enabled:
            continue
        spec = catalog.get(row.catalog_id) if row.catalog_id else None
        targets = provider_targets(
            row, spec, accounts_by_provider.get(row.id, []), settings, secrets, global_proxy
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
    aliases = AliasTable.build((a.alias, a.target) for a in alias_repo.list_aliases(conn))
    registry.model_aliases = aliases
    for combo in combo_repo.list_combos(conn):
        # A step may name a user alias; it is resolved here, once, like a client's model.
        registry.combos[combo.name] = (
            tuple(aliases.resolve(step) for step in combo.steps) if aliases else combo.steps
        )
    return registry


def provider_targets(
    row: repo.ProviderRow,
    spec: CatalogProvider | None,
    accounts: list[repo.AccountRow],
    settings: Settings,
    secrets: SecretBox,
    global_proxy: str | None = None,
    *,
    include_disabled: bool = False,
) -> list[Target]:
    """One :class:`Target` per (enabled) account of a provider, best first."""
    base = settings.provider_base_url(row.id) or row.base_url or (spec.base_url if spec else "")
    auth_style = spec.auth if spec else _custom_auth(row.format)
    defaults = {**(spec.headers if spec else {}), **row.headers}
    local = bool(spec and spec.local) or _is_loopback(base)
    provider_proxy = open_sealed(row.proxy, secrets) or global_proxy
    targets = []
    for account in accounts:
        if not (account.enabled or include_disabled):
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
                proxy=open_sealed(account.proxy, secrets) or provider_proxy,
                chat_path=row.chat_path,
            )
        )
    return targets


def _listed(model_id: str, owner: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": owner}


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
