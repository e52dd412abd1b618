"""Repository for local API keys: what clients send to ``/v1/*`` when keys are required.

Only a SHA-256 hash of each key and a short display prefix are stored; the key itself is
shown once when it is created and never again. When a key was last used is read from the
usage log (the gateway tags each usage row with the key), so using a key writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from omni.store.driver import Connection


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    id: int
    name: str
    prefix: str
    key_hash: str
    scopes: tuple[str, ...]
    models: tuple[str, ...]
    expires_at: str | None
    enabled: bool
    revoked_at: str | None
    created_at: str
    updated_at: str


def _row(r: Any) -> ApiKeyRow:
    return ApiKeyRow(
        id=int(r["id"]),
        name=r["name"],
        prefix=r["prefix"],
        key_hash=r["key_hash"],
        scopes=tuple(json.loads(r["scopes"])),
        models=tuple(json.loads(r["models"])),
        expires_at=r["expires_at"],
        enabled=bool(r["enabled"]),
        revoked_at=r["revoked_at"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


def insert_key(
    conn: Connection,
    *,
    name: str,
    prefix: str,
    key_hash: str,
    scopes: Sequence[str],
    models: Sequence[str],
    expires_at: str | None,
) -> int:
    now = _now()
    cursor = conn.execute(
        "INSERT INTO api_keys (name, prefix, key_hash, scopes, models, expires_at, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (name, prefix, key_hash, json.dumps(list(scopes)), json.dumps(list(models)),
         expires_at, now, now),
    )  # fmt: skip
    return int(cursor.lastrowid or 0)


def update_key(
    conn: Connection,
    key_id: int,
    *,
    name: str,
    scopes: Sequence[str],
    models: Sequence[str],
    expires_at: str | None,
    enabled: bool,
) -> None:
    conn.execute(
        "UPDATE api_keys SET name = ?, scopes = ?, models = ?, expires_at = ?, enabled = ?, "
        "updated_at = ? WHERE id = ?",
        (name, json.dumps(list(scopes)), json.dumps(list(models)), expires_at, int(enabled),
         _now(), key_id),
    )  # fmt: skip


def revoke_key(conn: Connection, key_id: int) -> None:
    now = _now()
    conn.execute(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?), updated_at = ? WHERE id = ?",
        (now, now, key_id),
    )


def get_key(conn: Connection, key_id: int) -> ApiKeyRow | None:
    row = conn.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    return None if row is None else _row(row)


def list_keys(conn: Connection) -> list[ApiKeyRow]:
    return [_row(r) for r in conn.execute("SELECT * FROM api_keys ORDER BY id")]


def last_used(conn: Connection, key_id: int | None = None) -> dict[int, float]:
    """Unix time of each key's newest usage row (every key, or only ``key_id``)."""
    sql = "SELECT api_key_id, MAX(ts) FROM usage_log WHERE api_key_id IS NOT NULL"
    args: tuple[object, ...] = ()
    if key_id is not None:
        sql, args = "SELECT api_key_id, MAX(ts) FROM usage_log WHERE api_key_id = ?", (key_id,)
    rows = conn.execute(sql + " GROUP BY api_key_id", args)
    return {int(r[0]): float(r[1]) for r in rows if r[0] is not None}
