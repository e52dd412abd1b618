"""Repository for sync tokens: what another omni presents to pull this one's configuration
bundle. Only a SHA-256 hash and a display prefix are stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from omni.store.driver import Connection


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class SyncTokenRow:
    id: int
    prefix: str
    token_hash: str
    with_keys: bool
    created_at: str
    last_used_at: str | None


def _row(r: Any) -> SyncTokenRow:
    return SyncTokenRow(
        int(r["id"]), r["prefix"], r["token_hash"], bool(r["with_keys"]), r["created_at"],
        r["last_used_at"],
    )  # fmt: skip


def replace_token(conn: Connection, prefix: str, token_hash: str, with_keys: bool) -> SyncTokenRow:
    """Make this the one sync token (any earlier one stops working)."""
    conn.execute("DELETE FROM sync_tokens")
    conn.execute(
        "INSERT INTO sync_tokens (prefix, token_hash, with_keys, created_at) VALUES (?, ?, ?, ?)",
        (prefix, token_hash, int(with_keys), _now()),
    )
    found = current(conn)
    assert found is not None
    return found


def current(conn: Connection) -> SyncTokenRow | None:
    row = conn.execute("SELECT * FROM sync_tokens ORDER BY id DESC LIMIT 1").fetchone()
    return None if row is None else _row(row)


def by_hash(conn: Connection, token_hash: str) -> SyncTokenRow | None:
    row = conn.execute("SELECT * FROM sync_tokens WHERE token_hash = ?", (token_hash,)).fetchone()
    return None if row is None else _row(row)


def mark_used(conn: Connection, token_id: int) -> None:
    conn.execute("UPDATE sync_tokens SET last_used_at = ? WHERE id = ?", (_now(), token_id))


def delete_all(conn: Connection) -> bool:
    return bool(conn.execute("DELETE FROM sync_tokens").rowcount)
