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

import logging
import os
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import orjson

from omni.config import Settings
from omni.errors import InvalidInputError, ModelNotFoundError, NeedsLoginError, NotFoundError
from omni.gateway.aliases import AliasTable
from omni.gateway.cost import parse_overrides
from omni.gateway.policy import ComboSpec, Policy, build_policy, combo_spec
from omni.oauth.targets import oauth_target
from omni.providers.catalog import Catalog, CatalogProvider, ModelInfo, Price
from omni.providers.executor import Target
from omni.providers.http import auth_headers
from omni.providers.proxy import open_sealed
from omni.store import aliases as alias_repo
from omni.store import combos as combo_repo
from omni.store import oauth as oauth_repo
from omni.store import providers as repo
from omni.store import settings as settings_repo
from omni.store.driver import Connection
from omni.store.secrets import SecretBox

log = logging.getLogger("omni.gateway")


@dataclass(frozen=True, slots=True)
class ProviderEntry:
    """One configured provider with its usable accounts (best first) and known models."""

    id: str
    format: str
    targets: tuple[Target, ...]
    models: tuple[str, ...]
    strategy: str = "fill-first"  # how its accounts take turns
    info: dict[str, ModelInfo] = field(default_factory=dict)  # catalog facts by model id
    needs_login: tuple[str, ...] = ()  # OAuth accounts left out until signed in again


@dataclass(frozen=True, slots=True)
class Step:
    """One model to try: its accounts (best first) and the step's own options."""

    model: str  # as written in the combo or by the client
    targets: tuple[Target, ...]
    strategy: str = "fill-first"  # account strategy of the provider
    weight: int = 1
    retries: int = 0  # extra tries on the same account after a transient failure
    timeout: float | None = None  # first-byte deadline; None: the provider's or global


@dataclass(frozen=True, slots=True)
class Plan:
    """What to try for one model string: one step, or a combo's steps (nested combos
    flattened) ordered per request by ``strategy``."""

    steps: tuple[Step, ...]
    combo: str | None = None
    strategy: str = "priority"
    max_attempts: int | None = None
    # The order when nothing varies per request (steps as written, accounts by priority)
    # and whether that is the order every request gets (no strategy reorders it).
    pairs: tuple[tuple[Step, Target], ...] = ()
    fixed: bool = True
    choices: bool = False  # some step has several accounts (session affinity applies)

    @property
    def targets(self) -> tuple[Target, ...]:
        """Every target in the default order (no account tried twice for one model)."""
        return tuple(target for _, target in self.pairs)


MAX_COMBO_DEPTH = 3


@dataclass(slots=True)
class Registry:
    providers: dict[str, ProviderEntry] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    model_owners: dict[str, list[str]] = field(default_factory=dict)
    combos: dict[str, ComboSpec] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)
    prices: dict[tuple[str, str], Price] = field(default_factory=dict)  # (provider, model)
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
        combo = self.combos.get(model)
        if combo is not None:
            steps = self._expand_combo(combo, 1)
            if not steps:
                raise NotFoundError(
                    f"combo '{model}' has no step that can be served now",
                    hint=f"check its steps with 'omni combos show {model}'",
                )
            plan = _planned(tuple(steps), model, combo.strategy, combo.max_attempts)
        else:
            plan = _planned((self._step(model),))
        if len(self._plans) < 4096:
            self._plans[asked] = plan
        return plan

    def resolve(self, model: str) -> Target:
        """The first target for a model string."""
        return self.plan(model).steps[0].targets[0]

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

    def _expand_combo(self, combo: ComboSpec, depth: int) -> list[Step]:
        steps: list[Step] = []
        for name in combo.steps:
            inner = self.combos.get(name)
            if inner is not None:
                if depth < MAX_COMBO_DEPTH and inner is not combo:
                    steps += self._expand_combo(inner, depth + 1)
                continue
            options = combo.options.get(name, {})
            try:
                step = self._step(name, options.get("account"))
            except (NotFoundError, InvalidInputError):
                continue  # a step that cannot be served is skipped, the others still run
            steps.append(
                replace(
                    step,
                    weight=int(options.get("weight", 1)),
                    retries=int(options.get("retries", combo.retries)),
                    timeout=options.get("timeout_s") or combo.timeout or step.timeout,
                )
            )
        return steps

    def _step(self, model: str, account: str | None = None) -> Step:
        entry, upstream_model = self._owner(model)
        targets = entry.targets
        if account is not None:
            targets = tuple(t for t in targets if t.account_name == account)
        waiting = [name for name in entry.needs_login if account in (None, name)]
        if not targets and waiting:
            raise NeedsLoginError(
                f"provider '{entry.id}' cannot serve requests: its account "
                + ", ".join(f"'{n}'" for n in waiting)
                + " needs a new sign-in (the refresh token was revoked or expired)",
                hint=f"run 'omni providers login {entry.id} --account {waiting[0]}'",
            )
        if not targets:
            raise NotFoundError(
                f"provider '{entry.id}' has no enabled account"
                + (f" named '{account}'" if account else ""),
                hint=f"add one with 'omni providers add {entry.id} --api-key …'",
            )
        info = entry.info.get(upstream_model)
        timeout = self.policy.timeouts.get(entry.id)
        return Step(
            model,
            tuple(replace(t, model=upstream_model, info=info) for t in targets),
            entry.strategy,
            timeout=timeout,
        )

    def _owner(self, model: str) -> tuple[ProviderEntry, str]:
        if not model:
            raise InvalidInputError("the request names no model", hint="set 'model'")
        prefix, sep, rest = model.partition("/")
        entry = self.provider(prefix) if sep else None
        if entry is not None and rest:
            return entry, rest
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
        return self.providers[owners[0]], model


def _planned(
    steps: tuple[Step, ...],
    combo: str | None = None,
    strategy: str = "priority",
    max_attempts: int | None = None,
) -> Plan:
    plan = Plan(steps, combo, strategy, max_attempts)
    pairs: list[tuple[Step, Target]] = []
    seen: set[tuple[int, str]] = set()
    for step in steps:
        for target in step.targets:
            if (target.account_id, target.model) not in seen:
                seen.add((target.account_id, target.model))
                pairs.append((step, target))
    fixed = (len(steps) == 1 or strategy in ("priority", "fill-first")) and all(
        len(s.targets) == 1 or s.strategy == "fill-first" for s in steps
    )
    choices = any(len(s.targets) > 1 for s in steps)
    return replace(plan, pairs=tuple(pairs), fixed=fixed, choices=choices)


def build_registry(
    conn: Connection, catalog: Catalog, settings: Settings, secrets: SecretBox, version: int
) -> Registry:
    """Read providers, accounts, models, combos and aliases into a new :class:`Registry`."""
    registry = Registry(version=version, policy=_policy(conn))
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
        accounts = accounts_by_provider.get(row.id, [])
        targets = provider_targets(row, spec, accounts, settings, secrets, global_proxy)
        waiting = tuple(
            a.name for a in accounts if a.enabled and a.login_state == oauth_repo.NEEDS_LOGIN
        )
        models = list(models_by_provider.get(row.id, []))
        if spec is not None:
            models += [m.id for m in spec.models if m.id not in models]
        registry.providers[row.id] = ProviderEntry(
            row.id,
            row.format,
            tuple(targets),
            tuple(models),
            registry.policy.strategies.get(row.id, registry.policy.account_strategy),
            {m.id: m for m in spec.models} if spec is not None else {},
            waiting,
        )
        if spec is not None:
            for model_info in spec.models:
                if model_info.price is not None:
                    registry.prices[(row.id, model_info.id)] = model_info.price
        if spec is not None and spec.alias != row.id:
            registry.aliases.setdefault(spec.alias, row.id)
        for model_id in models:
            registry.model_owners.setdefault(model_id, []).append(row.id)
    try:
        overrides = parse_overrides(settings_repo.get_setting(conn, "pricing"))
    except InvalidInputError as exc:
        log.warning("the stored price overrides are invalid (%s); ignoring them", exc)
        overrides = {}
    for name, price in overrides.items():
        provider, _, model = name.partition("/")
        registry.prices[(provider, model)] = price
    aliases = AliasTable.build((a.alias, a.target) for a in alias_repo.list_aliases(conn))
    registry.model_aliases = aliases
    for combo in combo_repo.list_combos(conn):
        # A step may name a user alias; it is resolved here, once, like a client's model.
        steps, config = combo.steps, combo.config
        if aliases:
            steps = tuple(aliases.resolve(step) for step in combo.steps)
            options = config.get("steps")
            if isinstance(options, dict):
                config = {**config, "steps": {aliases.resolve(k): v for k, v in options.items()}}
        try:
            registry.combos[combo.name] = combo_spec(combo.name, combo.strategy, steps, config)
        except InvalidInputError as exc:  # written by hand or by a newer omni
            log.warning("combo '%s' has invalid options (%s); ignoring them", combo.name, exc)
            registry.combos[combo.name] = ComboSpec(combo.name, combo.strategy, steps)
    return registry


def _policy(conn: Connection) -> Policy:
    """The stored routing policy (validated when it was written; defaults if unreadable)."""
    try:
        return build_policy(
            settings_repo.get_setting(conn, "resilience"),
            settings_repo.get_setting(conn, "rate_limits"),
        )
    except (InvalidInputError, ValueError) as exc:
        log.warning("the stored routing policy is invalid (%s); using the defaults", exc)
        return Policy()


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
    defaults = {**(spec.headers if spec else _custom_headers(row.format)), **row.headers}
    local = bool(spec and spec.local) or _is_loopback(base)
    provider_proxy = open_sealed(row.proxy, secrets) or global_proxy
    targets = []
    for account in accounts:
        if not (account.enabled or include_disabled):
            continue
        oauth = account.auth_type == "oauth"
        if oauth and account.login_state == oauth_repo.NEEDS_LOGIN and not include_disabled:
            continue  # out of routing until someone signs in again
        secret = None if oauth else _secret_of(account, secrets)
        headers = {
            "Content-Type": "application/json",
            **defaults,
            **auth_headers(auth_style, secret),
        }
        target = Target(
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
        if oauth:  # tokens, client headers and wire adapter of a subscription
            pinned = bool(account.base_url or row.base_url or settings.provider_base_url(row.id))
            found = oauth_target(target, row.catalog_id or row.id, account.secret, secrets, pinned)
            if found is None:
                continue
            target = found
        targets.append(target)
    return targets


def _listed(model_id: str, owner: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 0, "owned_by": owner}


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def _custom_headers(fmt: str) -> dict[str, str]:
    """What a provider added by hand needs besides its key (the Messages API wants a version)."""
    return {"anthropic-version": "2023-06-01"} if fmt == "anthropic" else {}


def _custom_auth(fmt: str) -> str:
    return {"anthropic": "x-api-key", "gemini": "x-goog-api-key"}.get(fmt, "bearer")


def _secret_of(account: repo.AccountRow, secrets: SecretBox) -> str | None:
    if account.auth_type == "env" and account.secret_env:
        return os.environ.get(account.secret_env)
    if account.secret:
        return secrets.decrypt(account.secret)
    return None
