"""Repository for admin login sessions: the hash of each session token and its expiry.

Every server process (and a restarted one) finds a session here, so a login served by one
worker is known to the others. The token itself is never stored, only its hex SHA-256;
rows past their expiry are purged whenever a session is created.
"""

from __future__ import annotations

from dataclasses import dataclass

from omni.store.driver import Connection


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One login session as stored (``token_hash``: hex SHA-256 of the token)."""

    token_hash: str
    ip: str | None
    created_at: float
    expires_at: float


def create_session(
    conn: Connection, token_hash: str, expires_at: float, now: float, ip: str | None = None
) -> None:
    """Store a new session (and drop the ones expired by ``now``)."""
    purge_expired(conn, now)
    conn.execute(
        "INSERT INTO login_sessions (token_hash, ip, created_at, expires_at) VALUES (?, ?, ?, ?)",
        (token_hash, ip, now, expires_at),
    )


def session_expiry(conn: Connection, token_hash: str) -> float | None:
    """When the session with ``token_hash`` expires, or None if there is no such session."""
    row = conn.execute(
        "SELECT expires_at FROM login_sessions WHERE token_hash = ?", (token_hash,)
    ).fetchone()
    return None if row is None else float(row[0])


def delete_session(conn: Connection, token_hash: str) -> bool:
    """End a session; False when it was not there."""
    cursor = conn.execute("DELETE FROM login_sessions WHERE token_hash = ?", (token_hash,))
    return bool(cursor.rowcount)


def purge_expired(conn: Connection, now: float) -> int:
    """Remove the sessions whose expiry has passed; how many went."""
    cursor = conn.execute("DELETE FROM login_sessions WHERE expires_at <= ?", (now,))
    return int(cursor.rowcount)


def list_sessions(conn: Connection) -> list[SessionRow]:
    """Every stored session, oldest first."""
    rows = conn.execute(
        "SELECT token_hash, ip, created_at, expires_at FROM login_sessions ORDER BY id"
    )
    return [SessionRow(str(r[0]), r[1], float(r[2]), float(r[3])) for r in rows]


def replace_sessions(conn: Connection, rows: list[SessionRow]) -> None:
    """Make ``rows`` the only stored sessions (after a restore brought back old ones)."""
    conn.execute("DELETE FROM login_sessions")
    conn.executemany(
        "INSERT INTO login_sessions (token_hash, ip, created_at, expires_at) VALUES (?, ?, ?, ?)",
        [(r.token_hash, r.ip, r.created_at, r.expires_at) for r in rows],
    )
