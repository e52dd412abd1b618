"""User model aliases: list, set and remove (``/api/models/alias``, ``omni aliases``).

An alias is an exact name or a glob pattern (``claude-*``) that stands for a model string
(``anthropic/claude-sonnet-4-5``, or ``anthropic/claude-*`` to keep the matched part);
matching rules are in :mod:`omni.gateway.aliases`. Setting an alias whose target cannot
be routed today still saves it (the provider may be added later) and says so in
``warnings``.
"""

from __future__ import annotations

from typing import Any

from omni.admin import AdminContext
from omni.errors import InvalidInputError, NotFoundError, OmniError
from omni.gateway.aliases import check_alias, is_pattern
from omni.gateway.registry import build_registry
from omni.providers.catalog import load_catalog
from omni.store import aliases as repo
from omni.store import combos as combo_repo


def _describe(row: repo.AliasRow) -> dict[str, Any]:
    return {
        "alias": row.alias,
        "target": row.target,
        "pattern": is_pattern(row.alias),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


class AliasService:
    """Create or replace, list and remove model aliases."""

    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    def list_all(self) -> list[dict[str, Any]]:
        with self.ctx.db.session() as conn:
            return [_describe(row) for row in repo.list_aliases(conn)]

    def set(self, alias: str, target: str) -> dict[str, Any]:
        """Create ``alias`` or point it at a new ``target``."""
        try:
            alias, target = check_alias(alias, target)
        except ValueError as exc:
            raise InvalidInputError(str(exc)) from None
        with self.ctx.db.transaction() as conn:
            if combo_repo.get_combo(conn, alias) is not None:
                raise InvalidInputError(
                    f"'{alias}' is a combo; an alias of the same name would hide it"
                )
            repo.upsert_alias(conn, alias, target)
            row = repo.get_alias(conn, alias)
        assert row is not None
        result = _describe(row)
        result["warnings"] = self._warnings(target)
        return result

    def remove(self, alias: str) -> dict[str, Any]:
        with self.ctx.db.transaction() as conn:
            row = repo.get_alias(conn, alias)
            if row is None:
                raise NotFoundError(f"no alias named '{alias}'", hint="see 'omni aliases list'")
            repo.delete_alias(conn, alias)
        return _describe(row)

    def _warnings(self, target: str) -> list[str]:
        if "*" in target:
            return []  # depends on what the pattern matches; checked per request
        with self.ctx.db.session() as conn:
            registry = build_registry(
                conn, load_catalog(), self.ctx.settings, self.ctx.secrets,
                self.ctx.db.config_version(conn),
            )  # fmt: skip
        try:
            registry.plan(target)
        except OmniError as exc:
            return [f"the target cannot be routed now: {exc.message}"]
        return []
