"""Usage and cost: the request log (what each request asked for, where it went, how it
went, what it cost) and the price table.

Each log entry carries the route taken when anything was skipped or failed on the way
(``[{"provider", "account", "outcome"}, …]``), so "why did this go to X" has an answer.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from omni.admin import AdminContext
from omni.errors import InvalidInputError, NotFoundError
from omni.gateway.cache import parse_config as parse_cache_config
from omni.gateway.cost import parse_overrides
from omni.providers.catalog import load_catalog
from omni.store import audit
from omni.store import settings as settings_repo
from omni.store import usage as repo

MAX_LIMIT = 1000


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    route = json.loads(row["route"]) if row.get("route") else []
    return {
        **row,
        "stream": bool(row["stream"]),
        "route": [{"provider": p, "account": a, "outcome": o} for p, a, o in route],
    }


class UsageService:
    """The request log, newest first."""

    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    def request_logs(
        self,
        limit: int = 100,
        before_id: int | None = None,
        model: str | None = None,
        provider: str | None = None,
        failed: bool = False,
    ) -> list[dict[str, Any]]:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInputError(f"limit must be between 1 and {MAX_LIMIT}")
        with self.ctx.db.session() as conn:
            rows = repo.search(
                conn, limit=limit, before_id=before_id, model=model, provider=provider,
                failed=failed,
            )  # fmt: skip
        return [_entry(row) for row in rows]


class PricingService:
    """List prices per model: the catalog's, and the user's overrides on top."""

    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    def prices(self) -> dict[str, Any]:
        with self.ctx.db.session() as conn:
            overrides = settings_repo.get_setting(conn, "pricing", {})
        rows: dict[str, dict[str, Any]] = {}
        for provider in load_catalog().providers.values():
            for model in provider.models:
                if model.price is not None:
                    rows[f"{provider.id}/{model.id}"] = {**asdict(model.price), "source": "catalog"}
        for name, price in parse_overrides(overrides).items():
            rows[name] = {**asdict(price), "source": "override"}
        return {"prices": rows, "overrides": overrides}

    def set_overrides(self, document: dict[str, Any], actor: str = "cli") -> dict[str, Any]:
        parse_overrides(document)
        with self.ctx.db.transaction() as conn:
            settings_repo.set_setting(conn, "pricing", document)
            audit.record(conn, actor, "settings.pricing", detail={"models": sorted(document)})
        return self.prices()


def set_cache_settings(ctx: AdminContext, document: dict[str, Any], actor: str = "cli") -> None:
    """Change the response cache's settings (only the fields given)."""
    parse_cache_config(document)  # a 400 naming the field when it is wrong
    with ctx.db.transaction() as conn:
        current = settings_repo.get_setting(conn, "cache", {})
        merged = {**current, **document}
        parse_cache_config(merged)
        settings_repo.set_setting(conn, "cache", merged)
        audit.record(conn, actor, "settings.cache", detail={"keys": sorted(document)})


def cache_store_stats(ctx: AdminContext) -> dict[str, Any]:
    """What the store tier of the response cache holds (without a running server)."""
    with ctx.db.session() as conn:
        count = conn.execute("SELECT COUNT(*) FROM response_cache").fetchone()[0]
    return {"semanticCache": {"memorySize": 0, "memoryMaxSize": 0, "dbSize": int(count),
                              "hitRate": 0.0},
            "idempotency": {"activeKeys": 0, "windowMs": 5000}}  # fmt: skip


def clear_cache_store(ctx: AdminContext) -> dict[str, Any]:
    with ctx.db.transaction() as conn:
        removed = conn.execute("DELETE FROM response_cache").rowcount
    return {"cleared": int(removed)}


def account_usage(ctx: AdminContext, account_id: int) -> dict[str, Any]:
    """What one provider account (a "connection") served, in total and per model."""
    with ctx.db.session() as conn:
        account = conn.execute(
            "SELECT provider_id, name FROM accounts WHERE id = ?", (account_id,)
        ).fetchone()
        if account is None:
            raise NotFoundError(f"no account with id {account_id}", hint="see 'omni accounts list'")
        rows = conn.execute(
            "SELECT model, COUNT(*), SUM(status >= 400), COALESCE(SUM(input_tokens), 0), "
            "COALESCE(SUM(output_tokens), 0), COALESCE(SUM(cost_usd), 0), MAX(ts) "
            "FROM usage_log WHERE account_id = ? GROUP BY model ORDER BY 2 DESC",
            (account_id,),
        ).fetchall()
    by_model = [
        {"model": r[0], "requests": r[1], "errors": r[2], "inputTokens": r[3],
         "outputTokens": r[4], "costUsd": round(r[5], 8), "lastUsed": r[6]}
        for r in rows
    ]  # fmt: skip
    return {
        "accountId": account_id,
        "provider": account[0],
        "account": account[1],
        "requests": sum(m["requests"] for m in by_model),
        "errors": sum(m["errors"] for m in by_model),
        "inputTokens": sum(m["inputTokens"] for m in by_model),
        "outputTokens": sum(m["outputTokens"] for m in by_model),
        "costUsd": round(sum(m["costUsd"] for m in by_model), 8),
        "lastUsed": max((m["lastUsed"] for m in by_model), default=None),
        "byModel": by_model,
    }
