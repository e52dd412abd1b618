"""Accounts: several credentials per provider, listed, added, switched on and off,
reordered and removed (``omni accounts``, ``/api/providers/{id}/accounts``).

An account holds an API key (encrypted before it reaches the store) or the name of the
environment variable that holds one, optionally its own base URL, and a priority (lower
is tried first). The gateway falls through a provider's enabled accounts in that order.
"""

from __future__ import annotations

import os
import re
from typing import Any

from omni.admin import CLI, Actor, AdminContext
from omni.admin.providers import ProviderService, guard_url, shown_proxy
from omni.errors import ConflictError, InvalidInputError, NotFoundError
from omni.providers.catalog import load_catalog
from omni.store import audit
from omni.store import providers as repo

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _describe(ctx: AdminContext, account: repo.AccountRow) -> dict[str, Any]:
    env_set = bool(account.secret_env and os.environ.get(account.secret_env))
    return {
        "provider": account.provider_id,
        "name": account.name,
        "id": account.id,
        "auth": account.auth_type if account.auth_type != "env" else f"env:{account.secret_env}",
        "env_set": env_set if account.auth_type == "env" else None,
        "enabled": account.enabled,
        "priority": account.priority,
        "base_url": account.base_url,
        "proxy": shown_proxy(ctx, account.proxy),
        "created_at": account.created_at,
    }


class AccountService:
    """List, add and remove the accounts of providers (edits: ``ProviderService``)."""

    def __init__(self, ctx: AdminContext, actor: Actor = CLI) -> None:
        self.ctx = ctx
        self.actor = actor

    def _provider(self, name: str) -> repo.ProviderRow:
        provider_id = ProviderService(self.ctx).get(name)["id"]
        with self.ctx.db.session() as conn:
            row = repo.get_provider(conn, provider_id)
        assert row is not None
        return row

    def list_all(self, provider: str | None = None) -> list[dict[str, Any]]:
        """Every account (of one provider when named), in the order they are tried."""
        provider_id = self._provider(provider).id if provider else None
        with self.ctx.db.session() as conn:
            return [_describe(self.ctx, a) for a in repo.list_accounts(conn, provider_id)]

    def add(
        self,
        provider: str,
        name: str,
        *,
        api_key: str | None = None,
        api_key_env: str | None = None,
        base_url: str | None = None,
        priority: int | None = None,
    ) -> dict[str, Any]:
        """Add account ``name`` to an existing provider (a name in use is refused)."""
        row = self._provider(provider)
        if not _NAME.match(name or ""):
            raise InvalidInputError(
                f"invalid account name {name!r}: use lower-case letters, digits, '.', '_' or '-'"
            )
        if api_key and api_key_env:
            raise InvalidInputError("give either an API key or the variable that holds it")
        if api_key_env and not _ENV.match(api_key_env):
            raise InvalidInputError(f"invalid environment variable name {api_key_env!r}")
        spec = load_catalog().get(row.catalog_id) if row.catalog_id else None
        keyless = spec is None or spec.local or spec.auth == "none"
        if not (api_key or api_key_env or keyless):
            raise InvalidInputError(
                f"provider '{row.id}' needs a key: pass --api-key or --api-key-env"
            )
        url = guard_url(self.ctx, base_url) if base_url else None
        secret = self.ctx.secrets.encrypt(api_key) if api_key else None
        auth_type = "api_key" if api_key else "env" if api_key_env else "none"
        with self.ctx.db.transaction() as conn:
            if any(a.name == name for a in repo.list_accounts(conn, row.id)):
                raise ConflictError(
                    f"provider '{row.id}' already has an account named '{name}'",
                    hint=f"remove it first ('omni accounts rm {row.id} {name}') or pick "
                    "another name",
                )
            repo.upsert_account(
                conn, row.id, name, auth_type=auth_type, secret=secret, secret_env=api_key_env,
                base_url=url, priority=priority or 0,
            )  # fmt: skip
            audit.record(
                conn, self.actor.name, "account.add", target=f"{row.id}/{name}", ip=self.actor.ip,
                detail={"auth": auth_type},
            )  # fmt: skip
            added = next(a for a in repo.list_accounts(conn, row.id) if a.name == name)
            return _describe(self.ctx, added)

    def remove(self, provider: str, name: str) -> dict[str, Any]:
        """Remove one account; the answer warns when the provider has none left."""
        row = self._provider(provider)
        with self.ctx.db.transaction() as conn:
            found = [a for a in repo.list_accounts(conn, row.id) if a.name == name]
            if not found:
                raise NotFoundError(
                    f"provider '{row.id}' has no account named '{name}'",
                    hint=f"see 'omni accounts list {row.id}'",
                )
            repo.delete_account(conn, row.id, name)
            audit.record(
                conn, self.actor.name, "account.remove", target=f"{row.id}/{name}",
                ip=self.actor.ip,
            )  # fmt: skip
            left = repo.list_accounts(conn, row.id)
        answer = _describe(self.ctx, found[0])
        answer["warnings"] = (
            []
            if left
            else [
                f"provider '{row.id}' has no account left: it serves nothing until you add "
                f"one ('omni accounts add {row.id} NAME --api-key …')"
            ]
        )
        return answer
