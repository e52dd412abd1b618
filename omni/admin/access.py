"""Who may call what: API keys, login sessions and the anonymous-access rule, in memory.

The server checks requests against an :class:`Access` snapshot: keys by their display
prefix with a hash, scopes, model allowlist and expiry, and the two toggles (an API key
required on the client API, a login required on the management API). It is rebuilt from
the store only when the config version changes, so a request costs a dict look-up and one
SHA-256, never a query. The key's hash is compared in constant time.

Management routes accept the local admin token, a login session or an admin-scoped key;
anonymous callers only when login is not required, the server listens on loopback and
the caller is on loopback too (:func:`anonymous_allowed`). Login sessions are random
tokens kept here as hashes with an expiry; a restart ends them.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import ipaddress
import secrets
import string
import time
from dataclasses import dataclass, field
from datetime import datetime

from omni.store import api_keys as keys_repo
from omni.store import settings as settings_repo
from omni.store.db import Database
from omni.store.driver import Connection

KEY_PREFIX_LEN = 11  # 'sk-' and 8 characters: shown in lists, not enough to guess the rest
SESSION_TTL_S = 7 * 86_400
REQUIRE_LOGIN = "require_login"  # settings keys
REQUIRE_API_KEY = "require_api_key"
_ALPHABET = string.ascii_letters + string.digits


def new_key() -> str:
    """A fresh API key: ``sk-`` and 40 random letters and digits (~238 bits)."""
    return "sk-" + "".join(secrets.choice(_ALPHABET) for _ in range(40))


def key_digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()


def key_prefix(key: str) -> str:
    return key[:KEY_PREFIX_LEN]


def normalize_ip(ip: str | None) -> str | None:
    """``ip`` with IPv4-mapped IPv6 (``::ffff:10.0.0.1``) written as plain IPv4."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip.strip("[]").split("%")[0])
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (an address or ``localhost``) is this machine's loopback only.

    Wildcard binds (``0.0.0.0``, ``::``, empty) and other names are not: they may reach
    the network.
    """
    if not host:
        return False
    if host.strip("[]").lower() == "localhost":
        return True
    normalized = normalize_ip(host)
    try:
        return ipaddress.ip_address(normalized or "").is_loopback
    except ValueError:
        return False


def anonymous_allowed(require_login: bool, bind_host: str, peer: str | None) -> bool:
    """May a caller without credentials use the management API?

    Only when login is not required, the server listens on a loopback address and the
    caller comes from loopback. A server reachable from the network never is open,
    whatever the toggle says.
    """
    return not require_login and is_loopback(bind_host) and is_loopback(peer)


def parse_iso(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One API key as the request path sees it."""

    id: int
    name: str
    prefix: str
    digest: bytes
    scopes: frozenset[str]
    models: tuple[str, ...]
    expires_at: float | None
    enabled: bool
    revoked: bool

    def problem(self, now: float) -> str | None:
        """Why the key cannot be used now (``revoked``, ``disabled``, ``expired``), or None."""
        if self.revoked:
            return "revoked"
        if not self.enabled:
            return "disabled"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return None

    def allows(self, model: str) -> bool:
        """Whether the allowlist (glob patterns; empty: everything) admits ``model``."""
        return not self.models or any(fnmatch.fnmatchcase(model, p) for p in self.models)


class Sessions:
    """Login sessions: random tokens, kept only as hashes, each with an expiry."""

    def __init__(self, ttl_s: float = SESSION_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._live: dict[bytes, float] = {}

    def create(self, now: float | None = None) -> tuple[str, float]:
        """A new session token and its expiry (Unix time)."""
        now = time.time() if now is None else now
        self._live = {d: t for d, t in self._live.items() if t > now}  # forget expired ones
        token = secrets.token_urlsafe(32)
        expires = now + self.ttl_s
        self._live[key_digest(token)] = expires
        return token, expires

    def valid(self, token: str, now: float | None = None) -> bool:
        expires = self._live.get(key_digest(token))
        return expires is not None and expires > (time.time() if now is None else now)

    def end(self, token: str) -> bool:
        return self._live.pop(key_digest(token), None) is not None

    def __len__(self) -> int:
        return len(self._live)


@dataclass(slots=True)
class Access:
    """The server's in-memory view of keys and access toggles; see the module docstring."""

    db: Database
    config_requires_key: bool = False
    version: int = -1
    require_api_key: bool = False
    require_login: bool = True
    keys: dict[str, tuple[KeyEntry, ...]] = field(default_factory=dict)
    sessions: Sessions = field(default_factory=Sessions)
    _conn: Connection | None = None

    def refresh(self, version: int) -> None:
        """Reload keys and toggles from the store; ``version`` is the config version seen."""
        if self._conn is None:
            self._conn = self.db.connect()
        conn = self._conn
        by_prefix: dict[str, list[KeyEntry]] = {}
        for row in keys_repo.list_keys(conn):
            entry = KeyEntry(
                id=row.id,
                name=row.name,
                prefix=row.prefix,
                digest=bytes.fromhex(row.key_hash),
                scopes=frozenset(row.scopes),
                models=row.models,
                expires_at=parse_iso(row.expires_at) if row.expires_at else None,
                enabled=row.enabled,
                revoked=row.revoked_at is not None,
            )
            by_prefix.setdefault(row.prefix, []).append(entry)
        self.keys = {p: tuple(entries) for p, entries in by_prefix.items()}
        self.require_login = bool(settings_repo.get_setting(conn, REQUIRE_LOGIN, True))
        self.require_api_key = self.config_requires_key or bool(
            settings_repo.get_setting(conn, REQUIRE_API_KEY, False)
        )
        self.version = version

    def match(self, key: str) -> KeyEntry | None:
        """The stored key equal to ``key`` (hashes compared in constant time), or None."""
        candidates = self.keys.get(key[:KEY_PREFIX_LEN])
        if not candidates:
            return None
        digest = key_digest(key)
        found = None
        for entry in candidates:
            if hmac.compare_digest(entry.digest, digest):
                found = entry
        return found

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
