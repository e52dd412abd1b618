"""Reading the request log: what each request asked for, where it went and how it went.

Each entry carries the route taken when anything was skipped or failed on the way
(``[{"provider", "account", "outcome"}, …]``), so "why did this go to X" has an answer.
"""

from __future__ import annotations

import json
from typing import Any

from omni.admin import AdminContext
from omni.errors import InvalidInputError
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
