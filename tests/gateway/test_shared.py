"""Caps and budgets on a shared board hold for every worker process together.

Each test forks real processes over one ``SharedState(shared=True)``, as ``omni serve
--workers N`` does, and checks the totals the parent sees afterwards.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

import pytest

from omni.errors import BudgetExceededError
from omni.gateway.budgets import Budgets
from omni.gateway.caps import Caps, Lease
from omni.gateway.policy import Limit
from omni.gateway.shared import Board, BoardFullError, SharedState

NOW = 1_000_000.0
LIMITS = {"key:1": Limit(rpm=50), "key:2": Limit(concurrency=3)}


def _caps(state: SharedState, worker: int) -> Caps:
    caps = Caps(state.windows, state.workers, worker, clock=lambda: NOW)
    caps.configure(LIMITS)
    return caps


def _admit_many(state: SharedState, worker: int, tries: int, results: Any) -> None:
    caps = _caps(state, worker)
    admitted = sum(isinstance(caps.admit_key(1, 10), Lease) for _ in range(tries))
    results.put(admitted)


def _in_workers(target: Callable[..., None], state: SharedState, *args: Any) -> list[Any]:
    ctx = multiprocessing.get_context("fork")
    results = ctx.SimpleQueue()
    procs = [
        ctx.Process(target=target, args=(state, worker, *args, results))
        for worker in range(state.workers)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(30)
        assert proc.exitcode == 0
    return sorted(results.get() for _ in procs)


def test_a_requests_per_minute_cap_counts_every_process() -> None:
    state = SharedState.create(workers=4, shared=True)
    admitted = _in_workers(_admit_many, state, 40)  # 160 tries against 50 a minute
    assert sum(admitted) == 50
    (row,) = [r for r in _caps(state, 0).snapshot() if r["scope"] == "key:1"]
    assert row["requests_last_minute"] == 50
    assert row["tokens_last_minute"] == 500


def _hold(state: SharedState, worker: int, results: Any) -> None:
    caps = _caps(state, worker)
    held = [caps.admit_key(2, 0) for _ in range(3)]
    results.put(sum(isinstance(lease, Lease) for lease in held))


def test_requests_in_flight_are_capped_together_and_a_dead_workers_are_given_back() -> None:
    state = SharedState.create(workers=2, shared=True)
    held = _in_workers(_hold, state)  # the processes end without releasing
    assert sum(held) == 3
    caps = _caps(state, 0)
    assert caps.admit_key(2, 0) == float("inf")  # full: wait for a release
    for worker in range(2):
        state.forget_worker(worker)  # what the supervisor does when a worker dies
    assert isinstance(caps.admit_key(2, 0), Lease)


def test_a_window_slides_and_the_upstreams_tokens_replace_the_estimate() -> None:
    clock = [NOW]
    caps = Caps(clock=lambda: clock[0])
    caps.configure({"key:5": Limit(rpm=2, tpm=1000)})
    first = caps.admit_key(5, 100)
    assert isinstance(first, Lease)
    caps.release(first, used_tokens=950)
    clock[0] += 30
    assert caps.admit_key(5, 100) == pytest.approx(31.0)  # 950 + 100 > 1000 until it slides
    clock[0] += 31
    second = caps.admit_key(5, 100)
    assert isinstance(second, Lease)
    assert caps.snapshot()[0]["tokens_last_minute"] == 100
    clock[0] += 600  # long idle: every bucket leaves at once
    assert caps.snapshot()[0]["requests_last_minute"] == 0


def _spend(state: SharedState, worker: int, results: Any) -> None:
    budgets = Budgets(state.ledgers, state.workers, worker, clock=lambda: NOW)
    budgets.configure([(7, 1.0, "daily", 0.8)], lambda key, since: 0.25)
    served = 0
    for _ in range(10):
        try:
            hold = budgets.reserve(7, 0.1)
        except BudgetExceededError:
            continue
        assert hold is not None
        budgets.settle(hold, 0.1)
        served += 1
    results.put(served)


def test_a_budget_is_spent_once_across_processes() -> None:
    state = SharedState.create(workers=3, shared=True)
    served = _in_workers(_spend, state)  # 30 tries of $0.10 on $0.75 left
    assert sum(served) == 7
    budgets = Budgets(state.ledgers, state.workers, 0, clock=lambda: NOW)
    budgets.configure([(7, 1.0, "daily", 0.8)], lambda key, since: 99.0)  # same period: kept
    assert budgets.ledgers[7].spent == pytest.approx(0.95)
    assert budgets.ledgers[7].reserved == 0


def test_a_full_board_says_so() -> None:
    board = Board(fields=1, slots=2)
    board.slot("a"), board.slot("b")
    with pytest.raises(BoardFullError):
        board.slot("c")
