"""Repository for user model aliases: an exact name or glob pattern → a model string.

Writes bump the config version (triggers from m005), so a running server rebuilds its
routing snapshot with the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from omni.store.driver import Connection


@dataclass(frozen=True, slots=True)
class AliasRow:
    alias: str
    target: str
    created_at: str
    updated_at: str


def _row(row: Any) -> AliasRow:
    return AliasRow(row["alias"], row["target"], row["created_at"], row["updated_at"])


def upsert_alias(conn: Connection, alias: str, target: str) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    conn.execute(
        "INSERT INTO model_aliases (alias, target, created_at, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (alias) DO UPDATE SET target = excluded.target, "
        "updated_at = excluded.updated_at",
        (alias, target, now, now),
    )


def get_alias(conn: Connection, alias: str) -> AliasRow | None:
    row = conn.execute("SELECT * FROM model_aliases WHERE alias = ?", (alias,)).fetchone()
    return None if row is None else _row(row)


def list_aliases(conn: Connection) -> list[AliasRow]:
    return [_row(r) for r in conn.execute("SELECT * FROM model_aliases ORDER BY alias")]


def delete_alias(conn: Connection, alias: str) -> bool:
    return bool(conn.execute("DELETE FROM model_aliases WHERE alias = ?", (alias,)).rowcount)
