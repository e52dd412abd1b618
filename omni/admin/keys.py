"""Local API key management: create (the key is shown once), list, show, edit, revoke.

A key has a name, scopes (``chat`` for the client API, ``admin`` for the management API),
an optional model allowlist of glob patterns (``openai/*``, ``my-combo``) and an optional
expiry. Only its SHA-256 hash and display prefix are stored. Revoking keeps the row (so
the usage and audit logs still name it) and can not be undone; ``enabled`` can.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from omni.admin import CLI, Actor, AdminContext
from omni.admin.access import key_digest, key_prefix, new_key
from omni.errors import ConflictError, InvalidInputError, NotFoundError
from omni.store import api_keys as repo
from omni.store import audit
from omni.store.driver import Connection

SCOPES = ("chat", "admin")
_DURATION = re.compile(r"^(\d{1,6})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_expiry(value: str | None, now: datetime | None = None) -> str | None:
    """An expiry as stored (ISO 8601 UTC) from ``30d``/``12h``/``2w``/``90m``, an ISO date
    (that day at 00:00 UTC) or date-time (UTC unless it says otherwise); ``never`` or an
    empty string mean no expiry."""
    if value is None or value.strip().lower() in ("", "never", "none"):
        return None
    now = now or datetime.now(UTC)
    text = value.strip()
    match = _DURATION.match(text)
    if match:
        moment = now + timedelta(**{_UNITS[match[2]]: int(match[1])})
    else:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(
                f"expiry {value!r} is neither a duration (30d, 12h, 2w, 90m) nor an ISO date "
                "(2026-01-31 or 2026-01-31T12:00:00Z)"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    if moment <= now:
        raise InvalidInputError(f"expiry {value!r} is in the past")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 64:
        raise InvalidInputError("a key needs a name of 1 to 64 characters")
    return name.strip()


def _check_scopes(scopes: object) -> list[str]:
    if not isinstance(scopes, list | tuple) or not scopes:
        raise InvalidInputError(f"scopes must be a non-empty list of {', '.join(SCOPES)}")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise InvalidInputError(
            f"unknown scope {unknown[0]!r}: use {' and/or '.join(SCOPES)} "
            "(chat: the client API, admin: the management API)"
        )
    return [s for s in SCOPES if s in scopes]


def _check_models(models: object) -> list[str]:
    if not isinstance(models, list | tuple) or any(
        not isinstance(m, str) or not m.strip() for m in models
    ):
        raise InvalidInputError("models must be a list of model names or glob patterns")
    return list(dict.fromkeys(m.strip() for m in models))


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def describe(row: repo.ApiKeyRow, last_used: float | None = None) -> dict[str, Any]:
    """A key as the API and CLI show it: never the key or its hash."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    expired = row.expires_at is not None and row.expires_at <= now
    status = (
        "revoked"
        if row.revoked_at
        else "expired"
        if expired
        else "active"
        if row.enabled
        else "disabled"
    )
    return {
        "id": row.id,
        "name": row.name,
        "prefix": row.prefix,
        "scopes": list(row.scopes),
        "models": list(row.models),
        "expires_at": row.expires_at,
        "enabled": row.enabled,
        "revoked": row.revoked_at is not None,
        "revoked_at": row.revoked_at,
        "status": status,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "last_used_at": _iso(last_used),
    }


def key_id(value: int | str) -> int:
    """A key id from a path segment or argument; anything else is simply not found."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    raise NotFoundError(f"no API key with id {value!r}", hint="see 'omni keys list'")


class KeyService:
    """Create, list, show, edit and revoke local API keys; each change is audited."""

    def __init__(self, ctx: AdminContext, actor: Actor = CLI) -> None:
        self.ctx = ctx
        self.actor = actor

    def create(
        self,
        name: str,
        *,
        models: list[str] | None = None,
        scopes: list[str] | None = None,
        expires_at: str | None = None,
    ) -> dict[str, Any]:
        """A new key; the result holds the key itself under ``key`` (shown this once)."""
        clean_name = _check_name(name)
        clean_scopes = _check_scopes(["chat"] if scopes is None else scopes)
        clean_models = _check_models(models or [])
        expiry = parse_expiry(expires_at)
        key = new_key()
        with self.ctx.db.transaction() as conn:
            new_id = repo.insert_key(
                conn,
                name=clean_name,
                prefix=key_prefix(key),
                key_hash=key_digest(key).hex(),
                scopes=clean_scopes,
                models=clean_models,
                expires_at=expiry,
            )
            row = self._row(conn, new_id)
            self._audit(conn, "key.create", row)
        return {**describe(row), "key": key}

    def list_all(self) -> list[dict[str, Any]]:
        with self.ctx.db.session() as conn:
            used = repo.last_used(conn)
            return [describe(row, used.get(row.id)) for row in repo.list_keys(conn)]

    def get(self, ident: int | str) -> dict[str, Any]:
        with self.ctx.db.session() as conn:
            row = self._row(conn, key_id(ident))
            return describe(row, repo.last_used(conn, row.id).get(row.id))

    def edit(
        self,
        ident: int | str,
        *,
        name: str | None = None,
        models: list[str] | None = None,
        scopes: list[str] | None = None,
        expires_at: str | None = None,
        enabled: bool | None = None,
    ) -> dict[str, Any]:
        """Change what is given (``expires_at='never'`` removes the expiry)."""
        if all(v is None for v in (name, models, scopes, expires_at, enabled)):
            raise InvalidInputError(
                "nothing to change: give a name, models, scopes, expires_at or enabled"
            )
        with self.ctx.db.transaction() as conn:
            row = self._row(conn, key_id(ident))
            if row.revoked_at:
                raise ConflictError(
                    f"API key {row.id} ('{row.name}') is revoked and cannot be changed",
                    hint="create a new key with 'omni keys add'",
                )
            repo.update_key(
                conn,
                row.id,
                name=row.name if name is None else _check_name(name),
                scopes=row.scopes if scopes is None else _check_scopes(scopes),
                models=row.models if models is None else _check_models(models),
                expires_at=row.expires_at if expires_at is None else parse_expiry(expires_at),
                enabled=row.enabled if enabled is None else bool(enabled),
            )
            changed = {
                k: v
                for k, v in (
                    ("name", name),
                    ("models", models),
                    ("scopes", scopes),
                    ("expires_at", expires_at),
                    ("enabled", enabled),
                )
                if v is not None
            }
            row = self._row(conn, row.id)
            self._audit(conn, "key.edit", row, {"changed": sorted(changed)})
            used = repo.last_used(conn, row.id).get(row.id)
        return describe(row, used)

    def revoke(self, ident: int | str) -> dict[str, Any]:
        """Revoke a key for good (repeating it changes nothing)."""
        with self.ctx.db.transaction() as conn:
            row = self._row(conn, key_id(ident))
            if row.revoked_at is None:
                repo.revoke_key(conn, row.id)
                row = self._row(conn, row.id)
                self._audit(conn, "key.revoke", row)
            used = repo.last_used(conn, row.id).get(row.id)
        return describe(row, used)

    def _audit(
        self,
        conn: Connection,
        action: str,
        row: repo.ApiKeyRow,
        extra: dict[str, Any] | None = None,
    ) -> None:
        detail = {"id": row.id, "prefix": row.prefix, "scopes": list(row.scopes), **(extra or {})}
        audit.record(
            conn, self.actor.name, action, target=row.name, ip=self.actor.ip, detail=detail
        )

    @staticmethod
    def _row(conn: Connection, ident: int) -> repo.ApiKeyRow:
        row = repo.get_key(conn, ident)
        if row is None:
            raise NotFoundError(f"no API key with id {ident}", hint="see 'omni keys list'")
        return row
