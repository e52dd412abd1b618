"""Spending budgets per API key: reserve before the call, settle after, never overshoot.

Each budget is a limit in USD (at list prices) per UTC day, week (from Monday) or month.
Before a request goes upstream, :meth:`Budgets.reserve` sets aside a pessimistic estimate
of its cost (prompt size and the most it may answer, at the first target's price); a
request that would take spent + reserved past the limit is refused with a
:class:`~omni.errors.BudgetExceededError` that says which budget and when it resets.
When the request finishes, :meth:`Budgets.settle` replaces the estimate with what it
actually cost. So N concurrent requests can never spend more than the budget holds.

What was spent in the current period is read from the usage log when the budget is
loaded or its period changes; from then on the ledger keeps it in memory, on a
:class:`~omni.gateway.shared.Board` that every worker process shares, so a budget holds
for the whole server. Money set aside is kept per worker (a dead worker's is given back).
"""

from __future__ import annotations

import time
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from omni.errors import BudgetExceededError
from omni.gateway.shared import Board

PERIODS = ("daily", "weekly", "monthly")


def period_bounds(period: str, now: float) -> tuple[float, float]:
    """Start and end (Unix times, UTC) of the ``period`` that contains ``now``."""
    moment = datetime.fromtimestamp(now, UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "daily":
        start, end = day, day + timedelta(days=1)
    elif period == "weekly":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    else:
        start = day.replace(day=1)
        end = start + timedelta(days=monthrange(start.year, start.month)[1])
    return start.timestamp(), end.timestamp()


_START, _PERIOD, _SPENT, _RESERVED = 0, 1, 2, 3  # cells of a ledger's slot


def ledger_fields(workers: int) -> int:
    """Cells per budget: period start and kind, spent, then money reserved per worker."""
    return _RESERVED + workers


def forget_reserved(board: Board, worker: int) -> None:
    """A worker died: what it had set aside is no longer reserved."""
    for base in board.bases():
        board.floats[base + _RESERVED + worker] = 0.0


@dataclass(slots=True)
class Ledger:
    """One key's budget (its settings) and where it stands in the current period (the
    board's cells at ``base``)."""

    key_id: int
    limit: float
    period: str
    warn_at: float
    board: Board
    base: int
    workers: int
    end: float

    @property
    def start(self) -> float:
        return self.board.floats[self.base + _START]

    @property
    def spent(self) -> float:
        return self.board.floats[self.base + _SPENT]

    @property
    def reserved(self) -> float:
        at = self.base + _RESERVED
        return sum(self.board.floats[at : at + self.workers])

    def describe(self) -> dict[str, object]:
        return {
            "keyId": self.key_id,
            "limit": self.limit,
            "period": self.period,
            "warnAt": self.warn_at,
            "spent": round(self.spent, 8),
            "reserved": round(self.reserved, 8),
            "remaining": round(max(0.0, self.limit - self.spent), 8),
            "periodStart": self.start,
            "resetsAt": self.end,
        }


@dataclass(frozen=True, slots=True)
class Hold:
    """A reservation taken for one request."""

    ledger: Ledger
    amount: float
    start: float  # the period it was taken in


class Budgets:
    """The ledgers of every key with a budget."""

    def __init__(
        self,
        board: Board | None = None,
        workers: int = 1,
        worker: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.board = board if board is not None else Board(ledger_fields(workers))
        self.workers = workers
        self.clock = clock
        self.ledgers: dict[int, Ledger] = {}
        self._mine = _RESERVED + worker  # this process's reserved cell

    def configure(
        self,
        budgets: list[tuple[int, float, str, float]],
        spent_since: Callable[[int, float], float],
    ) -> None:
        """Install ``(key_id, limit, period, warn_at)`` budgets; a ledger whose period is
        unchanged keeps its live numbers, others read what was spent from the log."""
        now, board = self.clock(), self.board
        floats = board.floats
        fresh: dict[int, Ledger] = {}
        for key_id, limit, period, warn_at in budgets:
            start, end = period_bounds(period, now)
            kind = float(PERIODS.index(period))
            with board.lock:
                base = board.slot(f"budget:{key_id}")
                current = floats[base + _START] == start and floats[base + _PERIOD] == kind
            if not current:
                spent = spent_since(key_id, start)  # outside the lock: it reads the log
                with board.lock:
                    if floats[base + _START] != start or floats[base + _PERIOD] != kind:
                        floats[base + _START], floats[base + _PERIOD] = start, kind
                        floats[base + _SPENT] = spent
            fresh[key_id] = Ledger(key_id, limit, period, warn_at, board, base, self.workers, end)
        self.ledgers = fresh

    def _current(self, ledger: Ledger) -> None:
        """Move ``ledger`` into the period of now (with the lock held)."""
        now = self.clock()
        if now >= ledger.end:  # a new period: the old spend no longer counts
            start, ledger.end = period_bounds(ledger.period, now)
            floats = self.board.floats
            if floats[ledger.base + _START] != start:
                floats[ledger.base + _START] = start
                floats[ledger.base + _SPENT] = 0.0

    def reserve(self, key_id: int, estimate: float, key_name: str = "") -> Hold | None:
        """Set ``estimate`` aside on the key's budget (None: the key has no budget)."""
        ledger = self.ledgers.get(key_id)
        if ledger is None:
            return None
        board = self.board
        with board.lock:
            self._current(ledger)
            spent = ledger.spent
            if spent + ledger.reserved + estimate <= ledger.limit:
                board.floats[ledger.base + self._mine] += estimate
                return Hold(ledger, estimate, ledger.start)
        wait = max(1.0, ledger.end - self.clock())
        reset = datetime.fromtimestamp(ledger.end, UTC).strftime("%Y-%m-%d %H:%M UTC")
        name = f"'{key_name}'" if key_name else f"#{key_id}"
        raise BudgetExceededError(
            f"the {ledger.period} budget of API key {name} is used up "
            f"(${spent:.4f} spent of ${ledger.limit:.4f}); it resets at {reset}",
            retry_after=wait,
        )

    def settle(self, hold: Hold, cost: float | None) -> None:
        """The request finished: its real cost replaces the reservation."""
        ledger, board = hold.ledger, self.board
        floats = board.floats
        with board.lock:
            mine = ledger.base + self._mine
            floats[mine] = max(0.0, floats[mine] - hold.amount)
            if cost and hold.start == floats[ledger.base + _START]:
                floats[ledger.base + _SPENT] += cost

    def warning(self, hold: Hold) -> str | None:
        """A note for the client when the key has used most of its budget."""
        ledger = hold.ledger
        used = ledger.spent + ledger.reserved
        if ledger.limit and used >= ledger.warn_at * ledger.limit:
            return f"{min(100, round(100 * used / ledger.limit))}% of the {ledger.period} budget"
        return None


_OUTPUT_FIELDS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
DEFAULT_OUTPUT_TOKENS = 4096


def estimate_cost(
    prices: list[tuple[float, float, int | None]], obj: dict[str, object], body_size: int
) -> float:
    """A pessimistic cost for a request: its body read as tokens at ~3 bytes each plus the
    most it may answer, at the dearest of the ``(input, output, max_output)`` prices its
    targets have (USD per 1M tokens). Zero when no target has a price."""
    if not prices:
        return 0.0
    asked: object = next((obj[f] for f in _OUTPUT_FIELDS if isinstance(obj.get(f), int)), None)
    config = obj.get("generationConfig") or obj.get("options")
    if asked is None and isinstance(config, dict):
        asked = config.get("maxOutputTokens", config.get("num_predict"))
    input_tokens = body_size / 3
    worst = 0.0
    for input_price, output_price, max_output in prices:
        output_tokens = asked if isinstance(asked, int) and asked > 0 else None
        if output_tokens is None:
            output_tokens = max_output or DEFAULT_OUTPUT_TOKENS
        worst = max(worst, input_tokens * input_price + output_tokens * output_price)
    return worst / 1_000_000
