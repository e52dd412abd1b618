"""Repository for providers, their accounts and their model lists.

Plain functions over a connection, returning frozen rows. Secrets are stored exactly as
given (already encrypted by the caller); this module never sees plain text keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from omni.store.driver import Connection


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class ProviderRow:
    id: str
    catalog_id: str | None
    format: str
    base_url: str | None
    headers: dict[str, str]
    enabled: bool
    created_at: str
    updated_at: str
    node: bool = False  # a user-defined provider node
    chat_path: str | None = None  # overrides the format's chat path under base_url
    models_path: str | None = None  # overrides '/models' for the model list
    proxy: str | None = None  # outbound proxy (encrypted when it holds a password)


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: int
    provider_id: str
    name: str
    auth_type: str
    secret: str | None
    secret_env: str | None
    base_url: str | None
    priority: int
    enabled: bool
    created_at: str
    proxy: str | None = None
    expires_at: float | None = None  # OAuth: when the access token expires (Unix time)
    login_state: str | None = None  # OAuth: None (usable) or 'needs_login'
    login_error: str | None = None


def _provider(row: Any) -> ProviderRow:
    return ProviderRow(
        id=row["id"],
        catalog_id=row["catalog_id"],
        format=row["format"],
        base_url=row["base_url"],
        headers=json.loads(row["headers"] or "{}"),
        enabled=bool(row["enabled"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        node=bool(row["node"]),
        chat_path=row["chat_path"],
        models_path=row["models_path"],
        proxy=row["proxy"],
    )


def _account(row: Any) -> AccountRow:
    return AccountRow(
        id=int(row["id"]),
        provider_id=row["provider_id"],
        name=row["name"],
        auth_type=row["auth_type"],
        secret=row["secret"],
        secret_env=row["secret_env"],
        base_url=row["base_url"],
        priority=int(row["priority"]),
        enabled=bool(row["enabled"]),
        created_at=row["created_at"],
        proxy=row["proxy"],
        expires_at=row["expires_at"],
        login_state=row["login_state"],
        login_error=row["login_error"],
    )


def upsert_provider(
    conn: Connection,
    provider_id: str,
    *,
    catalog_id: str | None,
    format: str,
    base_url: str | None,
    headers: dict[str, str] | None = None,
) -> None:
    now = _now()
    conn.execute(
        "INSERT INTO providers (id, catalog_id, format, base_url, headers, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "catalog_id = excluded.catalog_id, format = excluded.format, "
        "base_url = excluded.base_url, headers = excluded.headers, "
        "updated_at = excluded.updated_at",
        (provider_id, catalog_id, format, base_url, json.dumps(headers or {}), now, now),
    )


def get_provider(conn: Connection, provider_id: str) -> ProviderRow | None:
    row = conn.execute("SELECT * FROM providers WHERE id = ?", (provider_id,)).fetchone()
    return None if row is None else _provider(row)


def list_providers(conn: Connection) -> list[ProviderRow]:
    return [_provider(r) for r in conn.execute("SELECT * FROM providers ORDER BY id")]


def delete_provider(conn: Connection, provider_id: str) -> bool:
    return bool(conn.execute("DELETE FROM providers WHERE id = ?", (provider_id,)).rowcount)


def upsert_account(
    conn: Connection,
    provider_id: str,
    name: str,
    *,
    auth_type: str,
    secret: str | None,
    secret_env: str | None,
    base_url: str | None,
    priority: int = 0,
) -> int:
    """Create the account ``name`` of a provider, or replace its credentials; returns its id."""
    now = _now()
    conn.execute(
        "INSERT INTO accounts (provider_id, name, auth_type, secret, secret_env, base_url, "
        "priority, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (provider_id, name) DO UPDATE SET auth_type = excluded.auth_type, "
        "secret = excluded.secret, secret_env = excluded.secret_env, "
        "base_url = excluded.base_url, priority = excluded.priority, "
        "expires_at = NULL, login_state = NULL, login_error = NULL, source = NULL, "
        "updated_at = excluded.updated_at",
        (provider_id, name, auth_type, secret, secret_env, base_url, priority, now, now),
    )
    row = conn.execute(
        "SELECT id FROM accounts WHERE provider_id = ? AND name = ?", (provider_id, name)
    ).fetchone()
    return int(row[0])


def list_accounts(conn: Connection, provider_id: str | None = None) -> list[AccountRow]:
    if provider_id is None:
        rows = conn.execute("SELECT * FROM accounts ORDER BY provider_id, priority, id")
    else:
        rows = conn.execute(
            "SELECT * FROM accounts WHERE provider_id = ? ORDER BY priority, id", (provider_id,)
        )
    return [_account(r) for r in rows]


def replace_models(conn: Connection, provider_id: str, models: list[str], source: str) -> None:
    """Set the models of ``source`` ('sync' or 'user') for a provider to exactly ``models``."""
    conn.execute(
        "DELETE FROM provider_models WHERE provider_id = ? AND source = ?", (provider_id, source)
    )
    now = _now()
    conn.executemany(
        "INSERT OR IGNORE INTO provider_models (provider_id, model_id, source, created_at) "
        "VALUES (?, ?, ?, ?)",
        [(provider_id, m, source, now) for m in dict.fromkeys(models)],
    )


def list_models(conn: Connection, provider_id: str | None = None) -> list[tuple[str, str]]:
    """``(provider_id, model_id)`` pairs, sorted."""
    if provider_id is None:
        rows = conn.execute(
            "SELECT provider_id, model_id FROM provider_models ORDER BY provider_id, model_id"
        )
    else:
        rows = conn.execute(
            "SELECT provider_id, model_id FROM provider_models WHERE provider_id = ? "
            "ORDER BY model_id",
            (provider_id,),
        )
    return [(r[0], r[1]) for r in rows]


_PROVIDER_EDITABLE = ("base_url", "headers", "enabled", "node", "chat_path", "models_path", "proxy")
_ACCOUNT_EDITABLE = ("base_url", "enabled", "priority", "proxy")


def _update(conn: Connection, sql_table: str, allowed: tuple[str, ...], where: str,
            key: tuple[Any, ...], fields: dict[str, Any]) -> bool:  # fmt: skip
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
    if not fields:
        return False
    values = [
        json.dumps(v) if k == "headers" else int(v) if isinstance(v, bool) else v
        for k, v in fields.items()
    ]
    assignments = ", ".join(f"{k} = ?" for k in fields)
    cursor = conn.execute(
        f"UPDATE {sql_table} SET {assignments}, updated_at = ? WHERE {where}",  # noqa: S608
        (*values, _now(), *key),
    )
    return bool(cursor.rowcount)


def update_provider(conn: Connection, provider_id: str, **fields: Any) -> bool:
    """Change some columns of a provider (names from a fixed list); False if it is absent."""
    return _update(conn, "providers", _PROVIDER_EDITABLE, "id = ?", (provider_id,), fields)


def update_account(conn: Connection, provider_id: str, name: str, **fields: Any) -> bool:
    """Change some columns of one account (names from a fixed list); False if it is absent."""
    return _update(
        conn, "accounts", _ACCOUNT_EDITABLE, "provider_id = ? AND name = ?", (provider_id, name),
        fields,
    )  # fmt: skip


def add_models(conn: Connection, provider_id: str, models: list[str], source: str) -> None:
    """Add models to a provider's list; an existing one takes the new ``source``."""
    now = _now()
    conn.executemany(
        "INSERT INTO provider_models (provider_id, model_id, source, created_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (provider_id, model_id) DO UPDATE SET "
        "source = excluded.source",
        [(provider_id, m, source, now) for m in dict.fromkeys(models)],
    )


def remove_model(conn: Connection, provider_id: str, model_id: str) -> bool:
    return bool(
        conn.execute(
            "DELETE FROM provider_models WHERE provider_id = ? AND model_id = ?",
            (provider_id, model_id),
        ).rowcount
    )


def list_model_sources(
    conn: Connection, provider_id: str | None = None
) -> list[tuple[str, str, str]]:
    """``(provider_id, model_id, source)`` triples, sorted."""
    sql = "SELECT provider_id, model_id, source FROM provider_models"
    args: tuple[str, ...] = ()
    if provider_id is not None:
        sql, args = sql + " WHERE provider_id = ?", (provider_id,)
    rows = conn.execute(sql + " ORDER BY provider_id, model_id", args)
    return [(r[0], r[1], r[2]) for r in rows]


def delete_account(conn: Connection, provider_id: str, name: str) -> bool:
    """Remove one account of a provider; False if it is absent."""
    cursor = conn.execute(
        "DELETE FROM accounts WHERE provider_id = ? AND name = ?", (provider_id, name)
    )
    return bool(cursor.rowcount)
