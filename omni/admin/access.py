"""Who may call what: API keys, login sessions and the anonymous-access rule.

The server checks requests against an :class:`Access` snapshot: keys by their display
prefix with a hash, scopes, model allowlist and expiry, and the two toggles (an API key
required on the client API, a login required on the management API). It is rebuilt from
the store only when the config version changes, so a request costs a dict look-up and one
SHA-256, never a query. The key's hash is compared in constant time.

Management routes accept the local admin token, a login session or an admin-scoped key;
anonymous callers only when login is not required, the server listens on loopback and
the caller is on loopback too (:func:`anonymous_allowed`). Login sessions are random
tokens stored as hashes with an expiry, shared by every server process and kept across
restarts, with a short-lived cache in front (:class:`Sessions`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import ipaddress
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from omni.store import api_keys as keys_repo
from omni.store import login_sessions as sessions_repo
from omni.store import settings as settings_repo
from omni.store.db import Database
from omni.store.driver import Connection

KEY_PREFIX_LEN = 11  # 'sk-' and 8 characters: shown in lists, not enough to guess the rest
SESSION_TTL_S = 7 * 86_400
SESSION_RECHECK_S = 1.0  # a cached session is confirmed against the store after this
SESSION_NEGATIVE_S = 5.0  # a token the store does not know is not looked up again for this
_NEGATIVE_MAX = 4096  # unknown tokens remembered at most (random guesses cannot grow it)
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
    """Login sessions, shared by every server process through the store.

    A session is a random token; the store keeps its SHA-256 and expiry
    (:mod:`omni.store.login_sessions`), so a login served by one process is good at every
    other and survives a restart. In front of the store sits a cache: a session seen in
    the last :data:`SESSION_RECHECK_S` seconds costs no query, an older one is confirmed
    with one indexed read (that is how a logout elsewhere reaches this process within a
    second), and a token the store does not know is not looked up again for
    :data:`SESSION_NEGATIVE_S`. :meth:`valid` runs on the event loop (a read; WAL readers
    never wait); :meth:`create` and :meth:`end` write, so they run on a worker thread.
    """

    def __init__(
        self,
        db: Database,
        ttl_s: float = SESSION_TTL_S,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.ttl_s = ttl_s
        self.clock = clock
        self.recheck_s = SESSION_RECHECK_S
        self.negative_s = SESSION_NEGATIVE_S
        self._known: dict[bytes, tuple[float, float]] = {}  # digest → (expires, checked at)
        self._unknown: dict[bytes, float] = {}  # digest → "no such session" holds until
        self._lock = threading.Lock()  # the caches are touched from worker threads too
        self._conn: Connection | None = None

    def create(self, ip: str | None = None) -> tuple[str, float]:
        """Store a new session; its token and expiry (Unix time). Expired rows go."""
        now = self.clock()
        token = secrets.token_urlsafe(32)
        while token.startswith("sk-"):  # never mistaken for an API key
            token = secrets.token_urlsafe(32)
        digest, expires = key_digest(token), now + self.ttl_s
        with self.db.transaction() as conn:
            sessions_repo.create_session(conn, digest.hex(), expires, now, ip)
        with self._lock:
            self._known = {d: e for d, e in self._known.items() if e[0] > now}
            self._known[digest] = (expires, now)
        return token, expires

    def valid(self, token: str) -> bool:
        """Whether ``token`` is a live session (see the class docstring for the cost)."""
        now, digest = self.clock(), key_digest(token)
        with self._lock:
            known = self._known.get(digest)
            if known is not None and known[0] > now and now - known[1] < self.recheck_s:
                return True
            if known is None and self._unknown.get(digest, 0.0) > now:
                return False
        expires = self._lookup(digest)
        with self._lock:
            if expires is not None and expires > now:
                self._known[digest] = (expires, now)
                self._unknown.pop(digest, None)
                return True
            self._known.pop(digest, None)
            if len(self._unknown) >= _NEGATIVE_MAX:
                self._unknown = {d: t for d, t in self._unknown.items() if t > now}
                if len(self._unknown) >= _NEGATIVE_MAX:
                    self._unknown.clear()
            self._unknown[digest] = now + self.negative_s
            return False

    def end(self, token: str) -> bool:
        """End the session ``token`` everywhere; False when it was not a session."""
        digest = key_digest(token)
        with self.db.transaction() as conn:
            ended = sessions_repo.delete_session(conn, digest.hex())
        with self._lock:
            self._known.pop(digest, None)
            self._unknown[digest] = self.clock() + self.negative_s
        return ended

    def _lookup(self, digest: bytes) -> float | None:
        if self._conn is None:
            self._conn = self.db.connect()
        return sessions_repo.session_expiry(self._conn, digest.hex())

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


@dataclass(slots=True)
class Access:
    """The server's in-memory view of keys and access toggles; see the module docstring."""

    db: Database
    config_requires_key: bool = False
    version: int = -1
    require_api_key: bool = False
    require_login: bool = True
    keys: dict[str, tuple[KeyEntry, ...]] = field(default_factory=dict)
    sessions: Sessions = field(init=False)
    _conn: Connection | None = None

    def __post_init__(self) -> None:
        self.sessions = Sessions(self.db)

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
        self.sessions.close()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
