"""Repository for eval suites and their runs.

A suite's cases are one JSON array (they are read and written whole); each run keeps its
per-case results as JSON next to the totals the list views need.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from omni.store.driver import Connection


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class SuiteRow:
    id: int
    name: str
    model: str
    description: str | None
    cases: list[dict[str, Any]]
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class RunRow:
    id: int
    suite_id: int
    model: str
    started_at: str
    finished_at: str
    total: int
    passed: int
    pass_rate: float
    latency_ms: float | None
    results: list[dict[str, Any]]


def _suite(r: Any) -> SuiteRow:
    return SuiteRow(
        int(r["id"]), r["name"], r["model"], r["description"], json.loads(r["cases"]),
        r["created_at"], r["updated_at"],
    )  # fmt: skip


def _run(r: Any) -> RunRow:
    return RunRow(
        int(r["id"]), int(r["suite_id"]), r["model"], r["started_at"], r["finished_at"],
        int(r["total"]), int(r["passed"]), float(r["pass_rate"]), r["latency_ms"],
        json.loads(r["results"]),
    )  # fmt: skip


def insert_suite(
    conn: Connection, name: str, model: str, description: str | None, cases: list[dict[str, Any]]
) -> int:
    now = _now()
    cursor = conn.execute(
        "INSERT INTO eval_suites (name, model, description, cases, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (name, model, description, json.dumps(cases), now, now),
    )
    return int(cursor.lastrowid or 0)


def get_suite(conn: Connection, ident: int | str) -> SuiteRow | None:
    column = "id" if isinstance(ident, int) else "name"
    row = conn.execute(
        f"SELECT * FROM eval_suites WHERE {column} = ?",  # noqa: S608 - a fixed column name
        (ident,),
    ).fetchone()
    return None if row is None else _suite(row)


def list_suites(conn: Connection) -> list[SuiteRow]:
    return [_suite(r) for r in conn.execute("SELECT * FROM eval_suites ORDER BY name")]


def delete_suite(conn: Connection, suite_id: int) -> bool:
    conn.execute("DELETE FROM eval_runs WHERE suite_id = ?", (suite_id,))
    return bool(conn.execute("DELETE FROM eval_suites WHERE id = ?", (suite_id,)).rowcount)


def insert_run(
    conn: Connection,
    suite_id: int,
    model: str,
    started_at: str,
    results: list[dict[str, Any]],
    latency_ms: float | None,
) -> int:
    total = len(results)
    passed = sum(1 for r in results if r.get("passed"))
    cursor = conn.execute(
        "INSERT INTO eval_runs (suite_id, model, started_at, finished_at, total, passed, "
        "pass_rate, latency_ms, results) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            suite_id, model, started_at, _now(), total, passed,
            passed / total if total else 0.0, latency_ms, json.dumps(results),
        ),
    )  # fmt: skip
    return int(cursor.lastrowid or 0)


def get_run(conn: Connection, run_id: int) -> RunRow | None:
    row = conn.execute("SELECT * FROM eval_runs WHERE id = ?", (run_id,)).fetchone()
    return None if row is None else _run(row)


def list_runs(conn: Connection, suite_id: int, limit: int = 20) -> list[RunRow]:
    """The suite's newest runs first."""
    rows = conn.execute(
        "SELECT * FROM eval_runs WHERE suite_id = ? ORDER BY id DESC LIMIT ?", (suite_id, limit)
    )
    return [_run(r) for r in rows]
