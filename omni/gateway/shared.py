"""Counters that every server process sees: the memory behind caps and budgets.

With ``omni serve --workers N`` the server runs N processes, and an operator cap of 60
requests a minute or a budget of $5 a day must hold for all of them together, not per
process. A :class:`Board` is a fixed table of named slots of 8-byte cells in one memory
region; made with ``shared=True`` before the workers are forked, the region is mapped
``MAP_SHARED`` and guarded by one process-shared lock, so every worker reads and writes
the same numbers (no IPC round trip, no disk). A one-process server uses the same code on
private memory with no lock at all.

A slot is found by a 63-bit hash of its name (open addressing) and never moves or frees,
so each process keeps a name → offset dict and looks a name up in the table once. Cells
that a worker holds while a request is in flight (requests running, money reserved) are
kept per worker, so when a worker dies the supervisor gives its share back with
:meth:`Board.forget_worker` instead of leaking it until restart.
"""

from __future__ import annotations

import hashlib
import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from omni.errors import OmniError

SLOTS = 2048


class BoardFullError(OmniError):
    """More distinct capped scopes or budgets than the table has slots."""


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _hash(name: str) -> int:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "little") & ((1 << 63) - 1)) | 1  # never 0 (= empty)


class Board:
    """``slots`` slots of ``1 + fields`` int64 cells (cell 0 holds the name's hash); the
    same memory is readable as floats through :attr:`floats`."""

    def __init__(self, fields: int, slots: int = SLOTS, shared: bool = False) -> None:
        self.width = fields + 1
        self.slots = slots
        self.shared = shared
        size = self.width * slots * 8
        buffer: Any
        if shared:
            import multiprocessing

            buffer = mmap.mmap(-1, size, flags=mmap.MAP_SHARED)
            self.lock: Any = multiprocessing.get_context("fork").Lock()
        else:
            buffer = bytearray(size)
            self.lock = _NoLock()
        self.ints = memoryview(buffer).cast("q")
        self.floats = memoryview(buffer).cast("d")
        self._found: dict[str, int] = {}

    def slot(self, name: str) -> int:
        """The offset of the first cell after the hash of ``name``'s slot (claimed on first
        use). Call with :attr:`lock` held when shared."""
        base = self._found.get(name)
        if base is not None:
            return base
        key, ints, width = _hash(name), self.ints, self.width
        start = key % self.slots
        for probe in range(self.slots):
            at = ((start + probe) % self.slots) * width
            if ints[at] == key:
                break
            if ints[at] == 0:
                ints[at] = key
                break
        else:
            raise BoardFullError(f"more than {self.slots} capped scopes or budgets")
        self._found[name] = at + 1
        return at + 1

    def bases(self) -> Iterator[int]:
        """The offset of every claimed slot."""
        ints, width = self.ints, self.width
        for at in range(0, self.slots * width, width):
            if ints[at]:
                yield at + 1


@dataclass(slots=True)
class SharedState:
    """The boards of one server: cap windows and budget ledgers, and which worker this
    process is (0 when there is one)."""

    windows: Board
    ledgers: Board
    workers: int = 1
    worker: int = 0

    @classmethod
    def create(cls, workers: int = 1, shared: bool = False) -> SharedState:
        from omni.gateway.budgets import ledger_fields
        from omni.gateway.caps import window_fields

        return cls(
            Board(window_fields(workers), shared=shared),
            Board(ledger_fields(workers), shared=shared),
            workers,
        )

    def forget_worker(self, worker: int) -> None:
        """Give back what a dead worker held (requests in flight, money reserved)."""
        from omni.gateway.budgets import forget_reserved
        from omni.gateway.caps import forget_inflight

        with self.windows.lock:
            forget_inflight(self.windows, worker)
        with self.ledgers.lock:
            forget_reserved(self.ledgers, worker)
