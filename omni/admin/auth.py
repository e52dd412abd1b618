"""Admin login: the password, the brute-force lockout and the access toggles.

The password is stored as a salted scrypt hash in the ``meta`` table (never in
``settings``, which is exported). With none stored, ``INITIAL_PASSWORD`` is hashed and
stored on the first login that gives it; otherwise one is set through
``POST /api/auth/password`` (a management call: the local CLI's admin token, say) or
``omni auth password``.

Each login attempt counts as a failure for its address *before* the (slow) hash check and
is cleared when the password is right, so parallel guesses cannot slip past the limit:
:data:`MAX_FAILURES` failures within :data:`WINDOW_S` lock the address out for
:data:`LOCK_S` (429 with ``Retry-After``), even for the right password. Every attempt —
ok, failed, locked — goes to the audit log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import time
from typing import Any

from omni.admin import CLI, Actor, AdminContext
from omni.admin.access import REQUIRE_API_KEY, REQUIRE_LOGIN
from omni.errors import AuthError, InvalidInputError, LockedOutError, NotFoundError
from omni.store import audit
from omni.store import lockouts as lockouts_repo
from omni.store import settings as settings_repo
from omni.store.lockouts import LockoutRow

PASSWORD_META = "admin_password"  # noqa: S105 - the meta key, not a password
MIN_PASSWORD = 8
MAX_FAILURES = 5
WINDOW_S = 15 * 60.0
LOCK_S = 15 * 60.0
# scrypt cost: n=2^15, r=8 needs 32 MiB and ~50-100 ms per hash.
_N, _R, _P = 2**15, 8, 1
_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) for ``password`` with a fresh random salt."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAXMEM)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        given = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_MAXMEM,
            dklen=len(expected),
        )
    except ValueError:
        return False
    return hmac.compare_digest(given, expected)


def _check_new_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidInputError(f"the password needs at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise InvalidInputError("the password is longer than 1024 characters")
    return password


class AuthService:
    """Password, login attempts and lockouts, and the require-login / require-key toggles."""

    def __init__(self, ctx: AdminContext, actor: Actor = CLI) -> None:
        self.ctx = ctx
        self.actor = actor

    # -- password ------------------------------------------------------------------------

    def _stored(self) -> str | None:
        with self.ctx.db.session() as conn:
            return self.ctx.db.get_meta(conn, PASSWORD_META)

    def password_set(self) -> bool:
        return self._stored() is not None or bool(self.ctx.settings.initial_password)

    def set_password(self, password: str, current: str | None = None) -> dict[str, Any]:
        """Set the admin password; ``current`` is checked when given (and one is set)."""
        new = _check_new_password(password)
        stored = self._stored()
        if current is not None and stored is not None and not verify_password(current, stored):
            raise AuthError("the current password is wrong")
        hashed = hash_password(new)
        with self.ctx.db.transaction() as conn:
            self.ctx.db.set_meta(conn, PASSWORD_META, hashed)
            audit.record(
                conn,
                self.actor.name,
                "password.set",
                ip=self.actor.ip,
                detail={"replaced": stored is not None},
            )
        return {"passwordSet": True}

    # -- login ---------------------------------------------------------------------------

    def login(self, password: str, ip: str | None, now: float | None = None) -> None:
        """Check ``password`` for a caller at ``ip``; raises unless it is right."""
        now = time.time() if now is None else now
        where = ip or "unknown"
        stored = self._stored()
        initial = self.ctx.settings.initial_password
        if stored is None and not initial:
            with self.ctx.db.transaction() as conn:
                audit.record(
                    conn, "anonymous", "login", ip=ip, outcome="failed",
                    detail={"reason": "no password set"},
                )  # fmt: skip
            raise AuthError(
                "no admin password is set",
                hint="set INITIAL_PASSWORD, or run 'omni auth password' on the server's machine",
            )
        self._count_attempt(where, ip, now)
        ok = verify_password(password, stored) if stored else hmac.compare_digest(
            password.encode(), (initial or "").encode()
        )  # fmt: skip
        with self.ctx.db.transaction() as conn:
            if ok:
                lockouts_repo.delete_lockout(conn, where)
                if stored is None:  # INITIAL_PASSWORD, kept from now on as a hash
                    self.ctx.db.set_meta(conn, PASSWORD_META, hash_password(password))
                audit.record(conn, "admin", "login", ip=ip)
                return
            row = lockouts_repo.get_lockout(conn, where)
            detail: dict[str, Any] = {"failures": row.failures if row else 1}
            if row is not None and row.locked_until:
                detail["locked_until"] = row.locked_until
            audit.record(conn, "anonymous", "login", ip=ip, outcome="failed", detail=detail)
        remaining = MAX_FAILURES - detail["failures"]
        raise AuthError(
            "wrong password",
            hint=f"{remaining} more failed attempts lock this address out for "
            f"{LOCK_S / 60:.0f} minutes"
            if remaining > 0
            else f"this address is now locked out for {LOCK_S / 60:.0f} minutes",
        )

    def _count_attempt(self, where: str, ip: str | None, now: float) -> None:
        """Refuse a locked-out address; otherwise count this attempt as a failure."""
        with self.ctx.db.transaction() as conn:
            row = lockouts_repo.get_lockout(conn, where)
            if row is not None and row.locked_until is not None and row.locked_until > now:
                retry = max(1, math.ceil(row.locked_until - now))
                audit.record(
                    conn, "anonymous", "login", ip=ip, outcome="locked",
                    detail={"retry_after": retry, "failures": row.failures},
                )  # fmt: skip
                locked = LockedOutError(
                    f"too many failed logins from {where}: locked out for {retry} more seconds",
                    retry_after=retry,
                    hint="wait, or clear it with DELETE /api/policies/{ip} using the admin token",
                )
            else:
                fresh = row is None or row.first_failed_at <= now - WINDOW_S or (
                    row.locked_until is not None
                )  # fmt: skip
                failures = 1 if fresh or row is None else row.failures + 1
                lockouts_repo.save_lockout(
                    conn,
                    LockoutRow(
                        ip=where,
                        failures=failures,
                        first_failed_at=now if fresh or row is None else row.first_failed_at,
                        last_failed_at=now,
                        locked_until=now + LOCK_S if failures >= MAX_FAILURES else None,
                    ),
                )
                return
        raise locked

    def record_logout(self) -> None:
        with self.ctx.db.transaction() as conn:
            audit.record(conn, self.actor.name, "logout", ip=self.actor.ip)

    # -- lockouts --------------------------------------------------------------------------

    def lockouts(self, now: float | None = None) -> list[dict[str, Any]]:
        now = time.time() if now is None else now
        with self.ctx.db.transaction() as conn:
            lockouts_repo.prune_lockouts(conn, now, WINDOW_S)
            rows = lockouts_repo.active_lockouts(conn, now, WINDOW_S)
        return [
            {
                "ip": r.ip,
                "failures": r.failures,
                "locked": r.locked_until is not None and r.locked_until > now,
                "locked_until": r.locked_until,
                "retry_after": max(0, math.ceil((r.locked_until or now) - now)),
                "first_failed_at": r.first_failed_at,
                "last_failed_at": r.last_failed_at,
            }
            for r in rows
        ]

    def unlock(self, ip: str) -> dict[str, Any]:
        with self.ctx.db.transaction() as conn:
            if not lockouts_repo.delete_lockout(conn, ip):
                raise NotFoundError(f"no failed logins recorded for {ip}")
            audit.record(conn, self.actor.name, "lockout.clear", target=ip, ip=self.actor.ip)
        return {"ip": ip, "unlocked": True}

    # -- toggles -------------------------------------------------------------------------

    def toggles(self) -> dict[str, bool]:
        with self.ctx.db.session() as conn:
            login = bool(settings_repo.get_setting(conn, REQUIRE_LOGIN, True))
            key = bool(settings_repo.get_setting(conn, REQUIRE_API_KEY, False))
        return {
            "requireLogin": login,
            "requireApiKey": key or self.ctx.settings.require_api_key,
            "requireApiKeySetting": key,
            "requireApiKeyConfig": self.ctx.settings.require_api_key,
        }

    def set_toggle(self, name: str, value: bool) -> dict[str, bool]:
        """Set ``require_login`` or ``require_api_key`` (audited as ``settings.<name>``)."""
        if name not in (REQUIRE_LOGIN, REQUIRE_API_KEY):
            raise InvalidInputError(f"unknown toggle {name!r}")
        if not isinstance(value, bool):
            raise InvalidInputError("the value must be true or false")
        with self.ctx.db.transaction() as conn:
            before = settings_repo.get_setting(conn, name)
            settings_repo.set_setting(conn, name, value)
            audit.record(
                conn,
                self.actor.name,
                f"settings.{name}",
                ip=self.actor.ip,
                detail={"from": before, "to": value},
            )
        return self.toggles()
