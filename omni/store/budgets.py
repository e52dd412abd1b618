"""Repository for budgets: a spending limit per API key and period, and what was spent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from omni.store.driver import Connection


@dataclass(frozen=True, slots=True)
class BudgetRow:
    key_id: int
    limit_usd: float
    period: str
    warn_at: float


def upsert_budget(
    conn: Connection, key_id: int, limit_usd: float, period: str, warn_at: float
) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    conn.execute(
        "INSERT INTO budgets (key_id, limit_usd, period, warn_at, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key_id) DO UPDATE SET "
        "limit_usd = excluded.limit_usd, period = excluded.period, warn_at = excluded.warn_at, "
        "updated_at = excluded.updated_at",
        (key_id, limit_usd, period, warn_at, now, now),
    )


def list_budgets(conn: Connection) -> list[BudgetRow]:
    return [
        BudgetRow(int(r[0]), float(r[1]), str(r[2]), float(r[3]))
        for r in conn.execute("SELECT key_id, limit_usd, period, warn_at FROM budgets")
    ]


def delete_budget(conn: Connection, key_id: int) -> bool:
    return bool(conn.execute("DELETE FROM budgets WHERE key_id = ?", (key_id,)).rowcount)


def spent_since(conn: Connection, key_id: int, since: float) -> float:
    """USD the key's requests cost since the Unix time ``since``."""
    row = conn.execute(
        "SELECT COALESCE(SUM(cost_usd), 0) FROM usage_log WHERE api_key_id = ? AND ts >= ?",
        (key_id, since),
    ).fetchone()
    return float(row[0])
