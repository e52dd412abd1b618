"""Repository for OAuth accounts: their encrypted credential, expiry and login state.

An OAuth account is a row of ``accounts`` with ``auth_type = 'oauth'``; ``secret`` holds
the credential as encrypted JSON (the caller encrypts; this module never sees plain text).
Every write here bumps the config version (the accounts triggers), so a running server
rebuilds its routing snapshot with the new token or state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from omni.store.driver import Connection

NEEDS_LOGIN = "needs_login"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class OAuthRow:
    """One OAuth account as the token keeper needs it."""

    id: int
    provider_id: str
    catalog_id: str | None
    name: str
    secret: str | None
    expires_at: float | None
    login_state: str | None
    login_error: str | None
    enabled: bool


def save_account(
    conn: Connection,
    provider_id: str,
    name: str,
    *,
    secret: str,
    expires_at: float | None,
    source: str,
) -> int:
    """Create the OAuth account ``name`` or replace its credential; returns its id.

    A new credential makes the account usable again (a 'needs login' mark is cleared)."""
    now = _now()
    conn.execute(
        "INSERT INTO accounts (provider_id, name, auth_type, secret, expires_at, source, "
        "created_at, updated_at) VALUES (?, ?, 'oauth', ?, ?, ?, ?, ?) "
        "ON CONFLICT (provider_id, name) DO UPDATE SET auth_type = 'oauth', "
        "secret = excluded.secret, secret_env = NULL, expires_at = excluded.expires_at, "
        "source = excluded.source, login_state = NULL, login_error = NULL, "
        "updated_at = excluded.updated_at",
        (provider_id, name, secret, expires_at, source, now, now),
    )
    row = conn.execute(
        "SELECT id FROM accounts WHERE provider_id = ? AND name = ?", (provider_id, name)
    ).fetchone()
    return int(row[0])


def update_credential(
    conn: Connection, account_id: int, secret: str, expires_at: float | None
) -> bool:
    """Store a refreshed credential; False when the account is gone (or not OAuth)."""
    cursor = conn.execute(
        "UPDATE accounts SET secret = ?, expires_at = ?, updated_at = ? "
        "WHERE id = ? AND auth_type = 'oauth'",
        (secret, expires_at, _now(), account_id),
    )
    return bool(cursor.rowcount)


def mark_needs_login(conn: Connection, account_id: int, reason: str) -> bool:
    """Take an account out of routing until someone signs in again."""
    cursor = conn.execute(
        "UPDATE accounts SET login_state = ?, login_error = ?, updated_at = ? "
        "WHERE id = ? AND auth_type = 'oauth'",
        (NEEDS_LOGIN, reason, _now(), account_id),
    )
    return bool(cursor.rowcount)


_SELECT = (
    "SELECT a.id, a.provider_id, p.catalog_id, a.name, a.secret, a.expires_at, "
    "a.login_state, a.login_error, a.enabled FROM accounts a "
    "JOIN providers p ON p.id = a.provider_id WHERE a.auth_type = 'oauth'"
)


def list_oauth_accounts(conn: Connection) -> list[OAuthRow]:
    rows = conn.execute(_SELECT + " ORDER BY a.id")
    return [OAuthRow(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8])) for r in rows]


def get_oauth_account(conn: Connection, account_id: int) -> OAuthRow | None:
    """One OAuth account as stored now (None when it is gone or no longer OAuth)."""
    r = conn.execute(_SELECT + " AND a.id = ?", (account_id,)).fetchone()
    if r is None:
        return None
    return OAuthRow(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]))
