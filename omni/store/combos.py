"""Repository for combos: named, ordered fallback chains of targets.

A step is a model string as a client would write it (``provider/model``, another combo's
name, or an alias); the gateway resolves steps when it builds its routing snapshot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from omni.store.driver import Connection


@dataclass(frozen=True, slots=True)
class ComboRow:
    name: str
    strategy: str
    steps: tuple[str, ...]
    created_at: str
    updated_at: str
    config: dict[str, Any] = field(default_factory=dict)


def _row(row: object) -> ComboRow:
    r = row  # a sqlite Row
    return ComboRow(
        name=r["name"],  # type: ignore[index]
        strategy=r["strategy"],  # type: ignore[index]
        steps=tuple(json.loads(r["steps"])),  # type: ignore[index]
        created_at=r["created_at"],  # type: ignore[index]
        updated_at=r["updated_at"],  # type: ignore[index]
        config=json.loads(r["config"]),  # type: ignore[index]
    )


def upsert_combo(
    conn: Connection,
    name: str,
    strategy: str,
    steps: list[str],
    config: dict[str, Any] | None = None,
) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    conn.execute(
        "INSERT INTO combos (name, strategy, steps, config, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET strategy = excluded.strategy, "
        "steps = excluded.steps, config = excluded.config, updated_at = excluded.updated_at",
        (name, strategy, json.dumps(steps), json.dumps(config or {}), now, now),
    )


def get_combo(conn: Connection, name: str) -> ComboRow | None:
    row = conn.execute("SELECT * FROM combos WHERE name = ?", (name,)).fetchone()
    return None if row is None else _row(row)


def list_combos(conn: Connection) -> list[ComboRow]:
    return [_row(r) for r in conn.execute("SELECT * FROM combos ORDER BY name")]


def delete_combo(conn: Connection, name: str) -> bool:
    return bool(conn.execute("DELETE FROM combos WHERE name = ?", (name,)).rowcount)
