"""The batched usage writer: requests append a record, a background task stores them.

Appending is a list append on the request path; every ``interval`` seconds (or sooner
when ``batch`` records are waiting) the pending records go to SQLite in one transaction on
a single worker thread with its own connection, so the event loop never waits on disk.
:meth:`UsageRecorder.close` flushes whatever is left, so a graceful stop loses nothing.
Once an hour, rows older than the retention window are rolled up into daily sums.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar

from omni.store import settings as settings_repo
from omni.store import usage as usage_repo
from omni.store.db import Database
from omni.store.driver import Connection
from omni.store.usage import UsageRecord

log = logging.getLogger("omni.usage")

# The id of the omni API key the current request authenticated with (set by the server's
# key check, read when the request's usage record is created).
CURRENT_KEY: ContextVar[int | None] = ContextVar("omni_api_key", default=None)


CHUNK = 50  # rows per transaction (well under a millisecond of work)
PAUSE_S = 0.0005
RETENTION_DAYS = 30
ROLLUP_EVERY_S = 3600.0


class UsageRecorder:
    """Collects :class:`UsageRecord` values and writes them in batches off the hot path."""

    def __init__(self, db: Database, interval: float = 0.5, batch: int = 500) -> None:
        self._db = db
        self._interval = interval
        self._batch = batch
        self._pending: list[UsageRecord] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="omni-usage")
        self._conn: Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.written = 0
        self._next_rollup = 0.0  # monotonic time of the next retention pass
        # Told of every batch before it is written (telemetry), off the request path.
        self.observers: list[Callable[[list[UsageRecord]], None]] = []

    def record(self, record: UsageRecord) -> None:
        self._pending.append(record)
        if len(self._pending) >= self._batch:
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="usage-writer")

    async def _run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            await self.flush()
            if time.monotonic() >= self._next_rollup:
                self._next_rollup = time.monotonic() + ROLLUP_EVERY_S
                await asyncio.get_running_loop().run_in_executor(self._executor, self._retain)

    def _retain(self) -> None:
        """Keep ``usage_log`` bounded: rows older than the retention window are summed per
        day into ``usage_daily`` (setting ``usage_retention_days``, default 30)."""
        try:
            if self._conn is None:
                self._conn = self._db.connect()
            days = settings_repo.get_setting(self._conn, "usage_retention_days", RETENTION_DAYS)
            if not isinstance(days, int | float) or isinstance(days, bool) or days <= 0:
                days = RETENTION_DAYS
            usage_repo.roll_up(self._conn, time.time() - float(days) * 86400)
        except Exception:
            log.exception("could not roll up old usage rows; will try again later")

    async def flush(self) -> None:
        """Write every pending record now."""
        if not self._pending:
            return
        records, self._pending = self._pending, []
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._write, records)
        except Exception:
            # Keep the records for the next attempt (the disk may be full or locked).
            log.exception("could not store %d usage records; will retry", len(records))
            self._pending[:0] = records
            return
        for observe in self.observers:
            try:
                observe(records)
            except Exception:
                log.exception("a usage observer failed")

    def _write(self, records: list[UsageRecord]) -> None:
        if self._conn is None:
            self._conn = self._db.connect()
        # In small transactions with a pause between them: binding a row's parameters holds
        # the GIL, and one long batch would keep the event loop waiting for it for a whole
        # switch interval (5 ms) at a time; a pause hands the GIL (and the core) back.
        for start in range(0, len(records), CHUNK):
            if start:
                time.sleep(PAUSE_S)
            usage_repo.insert_many(self._conn, records[start : start + CHUNK])
            self.written += min(CHUNK, len(records) - start)

    async def close(self) -> None:
        """Stop the background task and store everything still pending."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.get_running_loop().run_in_executor(self._executor, conn.close)
        self._executor.shutdown(wait=True)
