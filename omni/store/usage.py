"""Repository for usage rows: one per request the gateway answered.

Rows are written in batches by the gateway's background writer (never on a request's
critical path), read back by the admin API and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any

from omni.store.driver import Connection


@dataclass(slots=True)
class UsageRecord:
    """What one request cost and how it went; field order matches ``usage_log``."""

    ts: float
    request_id: str
    endpoint: str
    client_dialect: str
    requested_model: str | None = None
    provider_id: str | None = None
    account_id: int | None = None
    model: str | None = None
    stream: bool = False
    status: int = 0
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    error: str | None = None
    attempts: int = 1
    combo: str | None = None
    route: str | None = None  # JSON [[provider, account, outcome], ...] when not first-try
    cost_usd: float | None = None  # at list prices; None when the price is unknown
    session: str | None = None  # the conversation, as the client named it
    api_key_id: int | None = None  # the omni API key the client authenticated with


_COLUMNS = [f.name for f in fields(UsageRecord)]
_ROW = attrgetter(*_COLUMNS)  # a record as a row tuple (much cheaper than astuple)
_INSERT = (
    f"INSERT INTO usage_log ({', '.join(_COLUMNS)}) "  # noqa: S608 - column names are fixed
    f"VALUES ({', '.join('?' for _ in _COLUMNS)})"
)


def insert_many(conn: Connection, records: list[UsageRecord]) -> None:
    """Insert ``records`` in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(_INSERT, map(_ROW, records))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def recent(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    """The newest rows first, as dictionaries."""
    rows = conn.execute(
        f"SELECT id, {', '.join(_COLUMNS)} FROM usage_log ORDER BY id DESC LIMIT ?",  # noqa: S608
        (limit,),
    ).fetchall()
    return [dict(r) for r in rows]


def search(
    conn: Connection,
    *,
    limit: int = 100,
    before_id: int | None = None,
    model: str | None = None,
    provider: str | None = None,
    failed: bool = False,
) -> list[dict[str, Any]]:
    """The newest rows first, filtered: ``model`` matches the requested or served model."""
    sql, args = f"SELECT id, {', '.join(_COLUMNS)} FROM usage_log WHERE 1 = 1", list[Any]()  # noqa: S608
    if before_id is not None:
        sql += " AND id < ?"
        args.append(before_id)
    if model:
        sql += " AND (requested_model = ? OR model = ?)"
        args += [model, model]
    if provider:
        sql += " AND provider_id = ?"
        args.append(provider)
    if failed:
        sql += " AND status >= 400"
    sql += " ORDER BY id DESC LIMIT ?"
    args.append(limit)
    return [dict(r) for r in conn.execute(sql, args)]


def roll_up(conn: Connection, before: float) -> int:
    """Sum the rows older than ``before`` (Unix time) into ``usage_daily`` per UTC day,
    provider, model and key, and delete them; returns how many rows were rolled up."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "INSERT INTO usage_daily (day, provider_id, model, api_key_id, requests, errors, "
            "input_tokens, output_tokens, cache_read_tokens, cost_usd) "
            "SELECT date(ts, 'unixepoch'), COALESCE(provider_id, ''), COALESCE(model, ''), "
            "COALESCE(api_key_id, 0), COUNT(*), SUM(status >= 400), "
            "COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0), "
            "COALESCE(SUM(cache_read_tokens), 0), COALESCE(SUM(cost_usd), 0) "
            "FROM usage_log WHERE ts < ? GROUP BY 1, 2, 3, 4 "
            "ON CONFLICT (day, provider_id, model, api_key_id) DO UPDATE SET "
            "requests = requests + excluded.requests, errors = errors + excluded.errors, "
            "input_tokens = input_tokens + excluded.input_tokens, "
            "output_tokens = output_tokens + excluded.output_tokens, "
            "cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens, "
            "cost_usd = cost_usd + excluded.cost_usd",
            (before,),
        )
        removed = conn.execute("DELETE FROM usage_log WHERE ts < ?", (before,)).rowcount
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return int(removed)


def daily(conn: Connection) -> list[dict[str, Any]]:
    """The rolled-up days, oldest first."""
    return [dict(r) for r in conn.execute("SELECT * FROM usage_daily ORDER BY day, provider_id")]


def count(conn: Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM usage_log").fetchone()[0])
