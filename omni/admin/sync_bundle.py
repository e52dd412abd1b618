"""The configuration bundle one omni serves and another pulls (``/api/sync/cloud``).

It holds what makes an omni route the same way: providers with their accounts and model
lists, combos, aliases, the routing settings listed in :data:`SETTINGS` and the price
overrides. Upstream secrets (account keys, credential headers, proxy passwords) are left
out, each place marked ``*_omitted``, unless the bundle is built ``with_keys`` — which only
a sync token created with that right may ask for. The ETag is a hash of the content, so
two pulls of an unchanged configuration get the same one (and a 304 with If-None-Match).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import orjson

from omni import __version__
from omni.admin import AdminContext
from omni.admin.providers import is_secret_header
from omni.admin.settings import GENERAL, check_system_prompt, check_thinking_budget
from omni.gateway.cache import parse_config as parse_cache_config
from omni.gateway.policy import parse_rate_limits, parse_resilience
from omni.providers.proxy import has_password, open_sealed
from omni.store import aliases as alias_repo
from omni.store import combos as combo_repo
from omni.store import migrations
from omni.store import providers as repo
from omni.store import settings as settings_repo
from omni.store.secrets import SecretBox

FORMAT = "omni-sync-v1"
PRICING = "pricing"


SETTINGS: dict[str, Callable[[Any], Any]] = {
    **{key: known.check for key, known in GENERAL.items()},
    "thinking_budget": check_thinking_budget,
    "system_prompt": check_system_prompt,
    "resilience": parse_resilience,
    "rate_limits": parse_rate_limits,
    "cache": parse_cache_config,
}
"""Settings a bundle carries, each with the check a pulled value must pass. Security
toggles (login, API keys, IP filter) and the outbound proxy stay with each instance."""


def _proxy(stored: str | None, secrets: SecretBox, with_keys: bool) -> tuple[str | None, bool]:
    """A stored proxy for the bundle, and whether it was left out (it holds a password)."""
    if not stored:
        return None, False
    plain = open_sealed(stored, secrets)
    if plain is not None and has_password(plain) and not with_keys:
        return None, True
    return plain, False


def _provider(
    conn: Any, row: repo.ProviderRow, secrets: SecretBox, with_keys: bool
) -> dict[str, Any]:
    headers = {k: v for k, v in row.headers.items() if with_keys or not is_secret_header(k)}
    proxy, proxy_omitted = _proxy(row.proxy, secrets, with_keys)
    models: dict[str, list[str]] = {"user": [], "sync": []}
    for _, model, source in repo.list_model_sources(conn, row.id):
        models.setdefault(source, []).append(model)
    entry: dict[str, Any] = {
        "id": row.id,
        "catalog_id": row.catalog_id,
        "format": row.format,
        "base_url": row.base_url,
        "enabled": row.enabled,
        "node": row.node,
        "headers": headers,
        "chat_path": row.chat_path,
        "models_path": row.models_path,
        "proxy": proxy,
        "models": models,
        "accounts": [_account(a, secrets, with_keys) for a in repo.list_accounts(conn, row.id)],
    }
    omitted = sorted(set(row.headers) - set(headers))
    if omitted:
        entry["headers_omitted"] = omitted
    if proxy_omitted:
        entry["proxy_omitted"] = True
    return entry


def _account(account: repo.AccountRow, secrets: SecretBox, with_keys: bool) -> dict[str, Any]:
    proxy, proxy_omitted = _proxy(account.proxy, secrets, with_keys)
    entry: dict[str, Any] = {
        "name": account.name,
        "auth_type": account.auth_type,
        "secret_env": account.secret_env,
        "base_url": account.base_url,
        "priority": account.priority,
        "enabled": account.enabled,
        "proxy": proxy,
    }
    if account.secret:
        if with_keys:
            entry["secret"] = secrets.decrypt(account.secret)
        else:
            entry["secret_omitted"] = True
    if proxy_omitted:
        entry["proxy_omitted"] = True
    return entry


def content(ctx: AdminContext, with_keys: bool = False) -> dict[str, Any]:
    """The bundle of ``ctx``'s configuration, without its ETag."""
    with ctx.db.session() as conn:
        providers = [
            _provider(conn, row, ctx.secrets, with_keys) for row in repo.list_providers(conn)
        ]
        combos = [
            {"name": c.name, "strategy": c.strategy, "steps": list(c.steps), "config": c.config}
            for c in combo_repo.list_combos(conn)
        ]
        aliases = [{"alias": a.alias, "target": a.target} for a in alias_repo.list_aliases(conn)]
        stored = settings_repo.all_settings(conn)
    return {
        "format": FORMAT,
        "omni_version": __version__,
        "schema_version": migrations.LATEST,
        "with_keys": with_keys,
        "providers": providers,
        "combos": combos,
        "aliases": aliases,
        "settings": {k: stored[k] for k in SETTINGS if k in stored},
        "pricing": stored.get(PRICING, {}),
    }


def etag_of(bundle: dict[str, Any]) -> str:
    """The ETag of a bundle's content (its ``etag`` field left out), without quotes."""
    body = {k: v for k, v in bundle.items() if k != "etag"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def build(ctx: AdminContext, with_keys: bool = False) -> dict[str, Any]:
    bundle = content(ctx, with_keys)
    bundle["etag"] = etag_of(bundle)
    return bundle
