"""Repository for run-time settings: JSON values by key, changed through the API or CLI.

Writes bump the config version, so a running server picks up a change made elsewhere.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from omni.store.driver import Connection


def get_setting(conn: Connection, key: str, default: Any = None) -> Any:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return default if row is None else json.loads(row[0])


def all_settings(conn: Connection) -> dict[str, Any]:
    return {r[0]: json.loads(r[1]) for r in conn.execute("SELECT key, value FROM settings")}


def set_setting(conn: Connection, key: str, value: Any) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    conn.execute(
        "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (key, json.dumps(value), now),
    )


def delete_setting(conn: Connection, key: str) -> bool:
    return bool(conn.execute("DELETE FROM settings WHERE key = ?", (key,)).rowcount)
