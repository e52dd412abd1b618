"""Reading the audit log: who did what to which object, from where, and how it went."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from omni.admin import AdminContext
from omni.errors import InvalidInputError
from omni.store import audit

MAX_LIMIT = 1000


class AuditService:
    """Audit log entries, newest first, filtered by action prefix and paged by id."""

    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    def entries(
        self, action: str | None = None, limit: int = 100, before: int | None = None
    ) -> dict[str, Any]:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInputError(f"limit must be from 1 to {MAX_LIMIT}, not {limit}")
        with self.ctx.db.session() as conn:
            found = audit.entries(conn, limit=limit, action=action or None, before_id=before)
        rows = [asdict(e) for e in found]
        return {"entries": rows, "next_before": rows[-1]["id"] if len(rows) == limit else None}
