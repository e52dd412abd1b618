"""Repository for login lockouts: failed admin logins per client address.

A row counts the failures of one address within a window; once they reach the limit the
row carries ``locked_until`` and logins from that address are refused until then. Kept
in the database so a restart does not reset an attacker's count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omni.store.driver import Connection


@dataclass(frozen=True, slots=True)
class LockoutRow:
    ip: str
    failures: int
    first_failed_at: float
    last_failed_at: float
    locked_until: float | None


def _row(r: Any) -> LockoutRow:
    return LockoutRow(
        ip=r["ip"],
        failures=int(r["failures"]),
        first_failed_at=float(r["first_failed_at"]),
        last_failed_at=float(r["last_failed_at"]),
        locked_until=None if r["locked_until"] is None else float(r["locked_until"]),
    )


def get_lockout(conn: Connection, ip: str) -> LockoutRow | None:
    row = conn.execute("SELECT * FROM login_lockouts WHERE ip = ?", (ip,)).fetchone()
    return None if row is None else _row(row)


def save_lockout(conn: Connection, row: LockoutRow) -> None:
    conn.execute(
        "INSERT INTO login_lockouts (ip, failures, first_failed_at, last_failed_at, "
        "locked_until) VALUES (?, ?, ?, ?, ?) ON CONFLICT (ip) DO UPDATE SET "
        "failures = excluded.failures, first_failed_at = excluded.first_failed_at, "
        "last_failed_at = excluded.last_failed_at, locked_until = excluded.locked_until",
        (row.ip, row.failures, row.first_failed_at, row.last_failed_at, row.locked_until),
    )


def delete_lockout(conn: Connection, ip: str) -> bool:
    return bool(conn.execute("DELETE FROM login_lockouts WHERE ip = ?", (ip,)).rowcount)


def active_lockouts(conn: Connection, now: float, window_s: float) -> list[LockoutRow]:
    """Rows still locked or with failures inside the window, newest failure first."""
    rows = conn.execute(
        "SELECT * FROM login_lockouts WHERE locked_until > ? OR first_failed_at > ? "
        "ORDER BY last_failed_at DESC",
        (now, now - window_s),
    )
    return [_row(r) for r in rows]


def prune_lockouts(conn: Connection, now: float, window_s: float) -> int:
    """Forget rows that are neither locked nor inside the window."""
    return int(
        conn.execute(
            "DELETE FROM login_lockouts WHERE (locked_until IS NULL OR locked_until <= ?) "
            "AND first_failed_at <= ?",
            (now, now - window_s),
        ).rowcount
    )
