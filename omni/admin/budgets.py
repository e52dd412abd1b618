"""Budgets: a spending limit per API key and period (``/api/usage/budget``).

A budget is ``{"keyId", "limit", "period", "warnAt"}``: ``limit`` in USD at list prices,
``period`` daily, weekly or monthly (UTC), ``warnAt`` the fraction of the limit from which
answers carry ``X-OmniRoute-Budget-Warning``. The running server enforces them (see
:mod:`omni.gateway.budgets`); here they are stored and reported with what was spent in
the current period, from the usage log.
"""

from __future__ import annotations

import time
from typing import Any

from omni.admin import AdminContext
from omni.admin.keys import key_id
from omni.errors import InvalidInputError, NotFoundError
from omni.gateway.budgets import PERIODS, period_bounds
from omni.store import api_keys as keys_repo
from omni.store import audit
from omni.store import budgets as repo


class BudgetService:
    """List, set and remove budgets."""

    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    def list_all(self) -> list[dict[str, Any]]:
        now = time.time()
        with self.ctx.db.session() as conn:
            names = {row.id: row.name for row in keys_repo.list_keys(conn)}
            out = []
            for budget in repo.list_budgets(conn):
                start, end = period_bounds(budget.period, now)
                spent = repo.spent_since(conn, budget.key_id, start)
                out.append(
                    {
                        "keyId": budget.key_id,
                        "keyName": names.get(budget.key_id),
                        "limit": budget.limit_usd,
                        "period": budget.period,
                        "warnAt": budget.warn_at,
                        "spent": round(spent, 8),
                        "remaining": round(max(0.0, budget.limit_usd - spent), 8),
                        "periodStart": start,
                        "resetsAt": end,
                    }
                )
        return out

    def set(
        self,
        key: int | str,
        limit: float,
        period: str = "monthly",
        warn_at: float = 0.8,
        actor: str = "cli",
    ) -> dict[str, Any]:
        ident = key_id(key)
        if isinstance(limit, bool) or not isinstance(limit, int | float) or limit < 0:
            raise InvalidInputError("'limit' must be a number of US dollars, 0 or more")
        if period not in PERIODS:
            raise InvalidInputError(f"'period' must be one of {', '.join(PERIODS)}, not {period!r}")
        if (
            isinstance(warn_at, bool)
            or not isinstance(warn_at, int | float)
            or not 0 < warn_at <= 1
        ):
            raise InvalidInputError(
                "'warnAt' must be a fraction of the limit, above 0 and at most 1"
            )
        with self.ctx.db.transaction() as conn:
            if keys_repo.get_key(conn, ident) is None:
                raise NotFoundError(f"no API key #{ident}", hint="see 'omni keys list'")
            repo.upsert_budget(conn, ident, float(limit), period, float(warn_at))
            audit.record(
                conn, actor, "budget.set", target=str(ident),
                detail={"limit": limit, "period": period},
            )  # fmt: skip
        found = next((b for b in self.list_all() if b["keyId"] == ident), None)
        if found is None:  # removed (or restored away) in the meantime
            raise NotFoundError(f"API key #{ident} has no budget any more")
        return found

    def remove(self, key: int | str, actor: str = "cli") -> dict[str, Any]:
        ident = key_id(key)
        with self.ctx.db.transaction() as conn:
            if not repo.delete_budget(conn, ident):
                raise NotFoundError(f"API key #{ident} has no budget")
            audit.record(conn, actor, "budget.remove", target=str(ident))
        return {"keyId": ident, "removed": True}
