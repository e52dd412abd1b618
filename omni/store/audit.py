"""Repository for the audit log: every management action, append-only.

``detail`` is a small JSON object for context; callers never put a secret in it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from omni.store.driver import Connection


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    ts: str
    actor: str
    action: str
    target: str | None
    ip: str | None
    outcome: str
    detail: dict[str, Any]


def record(
    conn: Connection,
    actor: str,
    action: str,
    *,
    target: str | None = None,
    ip: str | None = None,
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        "INSERT INTO audit_log (ts, actor, action, target, ip, outcome, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            datetime.now(UTC).isoformat(timespec="milliseconds"),
            actor,
            action,
            target,
            ip,
            outcome,
            json.dumps(detail) if detail else None,
        ),
    )


def entries(
    conn: Connection, *, limit: int = 100, action: str | None = None, before_id: int | None = None
) -> list[AuditEntry]:
    """Newest first; ``action`` filters by prefix (``'key.'`` matches every key action)."""
    sql, args = "SELECT * FROM audit_log WHERE 1 = 1", list[object]()
    if action:
        sql += " AND action LIKE ?"
        args.append(action.replace("%", "") + "%")
    if before_id is not None:
        sql += " AND id < ?"
        args.append(before_id)
    sql += " ORDER BY id DESC LIMIT ?"
    args.append(limit)
    return [
        AuditEntry(
            r["id"],
            r["ts"],
            r["actor"],
            r["action"],
            r["target"],
            r["ip"],
            r["outcome"],
            json.loads(r["detail"]) if r["detail"] else {},
        )
        for r in conn.execute(sql, args)
    ]
