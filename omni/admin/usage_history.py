"""Usage totals for ``omni usage`` and ``GET /api/usage/history``: requests, failures,
tokens, cost and latency grouped by day, provider, served model or API key, over a
window (``since`` / ``until``: ``7d``, ``24h``, ``90m``, an ISO date or Unix seconds).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from omni.admin import AdminContext
from omni.errors import InvalidInputError
from omni.store import usage_stats as repo

_AGO = re.compile(r"^(\d{1,6})([mhdw])$")
_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_moment(value: str | float | None, now: float | None = None) -> float | None:
    """A point in time as Unix seconds from ``7d`` (ago), an ISO date or a number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = value.strip()
    match = _AGO.match(text)
    if match:
        return (now if now is not None else time.time()) - int(match[1]) * _SECONDS[match[2]]
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            f"{value!r} is not a time: use 7d, 24h, 90m, 2w, an ISO date (2026-01-31) or "
            "Unix seconds"
        ) from None
    if moment.tzinfo is None and "T" in text:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _row(row: dict[str, Any]) -> dict[str, Any]:
    first, last = row.pop("first_ts", None), row.pop("last_ts", None)
    return {**row, "first": _iso(first), "last": _iso(last)}


class UsageHistoryService:
    """Totals from the request log."""

    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    def history(
        self, group: str = "day", since: str | float | None = None, until: str | float | None = None
    ) -> dict[str, Any]:
        if group not in repo.GROUPS:
            raise InvalidInputError(
                f"unknown grouping {group!r}: use one of {', '.join(repo.GROUPS)}"
            )
        start, end = parse_moment(since), parse_moment(until)
        if start is not None and end is not None and end <= start:
            raise InvalidInputError("'until' must be later than 'since'")
        with self.ctx.db.session() as conn:
            rows = repo.totals_by(conn, group, start, end)
            total = repo.totals(conn, start, end)
        return {
            "group": group,
            "since": _iso(start),
            "until": _iso(end),
            "rows": [_row(r) for r in rows],
            "total": _row(total),
        }
