"""Usage totals straight from ``usage_log`` with SQL aggregation: requests, failures,
tokens, cost and latency per day, provider, served model or API key.

Days are calendar days in the local time of the process reading the log.
"""

from __future__ import annotations

from typing import Any

from omni.store.driver import Connection

GROUPS: dict[str, str] = {
    "day": "strftime('%Y-%m-%d', u.ts, 'unixepoch', 'localtime')",
    "provider": "COALESCE(u.provider_id, '-')",
    "model": (
        "CASE WHEN u.provider_id IS NOT NULL AND u.model IS NOT NULL "
        "THEN u.provider_id || '/' || u.model ELSE COALESCE(u.requested_model, '-') END"
    ),
    "key": "COALESCE(k.name || ' (' || k.prefix || '…)', '-')",
}

_TOTALS = (
    "COUNT(*) AS requests, "
    "COALESCE(SUM(u.status >= 400), 0) AS failed, "
    "COALESCE(SUM(u.input_tokens), 0) AS input_tokens, "
    "COALESCE(SUM(u.output_tokens), 0) AS output_tokens, "
    "COALESCE(SUM(u.cache_read_tokens), 0) AS cache_read_tokens, "
    "COALESCE(SUM(u.reasoning_tokens), 0) AS reasoning_tokens, "
    "ROUND(TOTAL(u.cost_usd), 6) AS cost_usd, "
    "COALESCE(SUM(u.cost_usd IS NULL AND u.status < 400), 0) AS unpriced, "
    "ROUND(AVG(u.latency_ms), 1) AS avg_latency_ms, "
    "MIN(u.ts) AS first_ts, MAX(u.ts) AS last_ts"
)
_FROM = "FROM usage_log u LEFT JOIN api_keys k ON k.id = u.api_key_id"


def _where(since: float | None, until: float | None) -> tuple[str, list[Any]]:
    clauses, args = [], list[Any]()
    if since is not None:
        clauses.append("u.ts >= ?")
        args.append(since)
    if until is not None:
        clauses.append("u.ts < ?")
        args.append(until)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


def totals_by(
    conn: Connection, group: str, since: float | None = None, until: float | None = None
) -> list[dict[str, Any]]:
    """One row per value of ``group`` (a key of :data:`GROUPS`): day ascending, the
    others busiest first."""
    expression = GROUPS[group]
    where, args = _where(since, until)
    order = "grouped" if group == "day" else "requests DESC, grouped"
    sql = (  # 'grouped', not 'name': api_keys has a column called name
        f"SELECT {expression} AS grouped, {_TOTALS} {_FROM}{where} "
        f"GROUP BY grouped ORDER BY {order}"
    )
    rows = [dict(row) for row in conn.execute(sql, args)]
    return [{"name": row.pop("grouped"), **row} for row in rows]


def totals(
    conn: Connection, since: float | None = None, until: float | None = None
) -> dict[str, Any]:
    """The same totals over every request in the window."""
    where, args = _where(since, until)
    row = conn.execute(f"SELECT {_TOTALS} {_FROM}{where}", args).fetchone()
    return dict(row)
