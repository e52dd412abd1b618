"""An in-memory admin API for the dashboard's tests: the same interface as
:class:`omni.tui.client.HttpAdminApi`, with state a test can read and change.

Calls are recorded in ``calls``; ``down = True`` makes every call fail as an unreachable
server does (and ends the event stream). Events are pushed with :meth:`FakeApi.push`;
:meth:`FakeApi.delivered` waits (without sleeping) until the app has taken them all.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from omni.errors import InvalidInputError, NotFoundError, ServerNotRunningError

NOW = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC; the app's clock in these tests
DAY_END = 1_800_057_600.0  # 2027-01-16 00:00:00 UTC
MONTH_END = 1_801_440_000.0  # 2027-02-01 00:00:00 UTC


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def request_row(n: int, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": n,
        "ts": NOW - 250 + n * 20,
        "request_id": f"req-{n:04d}",
        "endpoint": "/v1/chat/completions",
        "client_dialect": "openai",
        "requested_model": "openai/gpt-4o-mini",
        "provider_id": "openai",
        "account_id": 1,
        "model": "gpt-4o-mini",
        "stream": False,
        "status": 200,
        "input_tokens": 1200,
        "output_tokens": 300,
        "cache_read_tokens": 0,
        "cache_write_tokens": None,
        "reasoning_tokens": 0,
        "latency_ms": 400.0 + n * 10,
        "ttft_ms": 120.0,
        "error": None,
        "attempts": 1,
        "combo": None,
        "route": [],
        "cost_usd": 0.00036,
        "api_key_id": None,
    }
    row.update(fields)
    return row


def _rows() -> list[dict[str, Any]]:
    rows = [request_row(n) for n in range(1, 13)]
    rows[3].update(requested_model="best", combo="best", provider_id="anthropic",
                   model="claude-sonnet-4", account_id=3, cost_usd=0.0081, latency_ms=1900.0,
                   attempts=2, api_key_id=1,
                   route=[{"provider": "openai", "account": "work", "outcome": "429"}])  # fmt: skip
    rows[7].update(status=502, error="upstream answered 503", cost_usd=None,
                   output_tokens=None, latency_ms=80.0)  # fmt: skip
    rows[9].update(cache_read_tokens=800, api_key_id=2)
    rows[0].update(ts=NOW - 900)  # older than five minutes
    return rows[::-1]


class FakeApi:
    """The dashboard's admin API, in memory."""

    url = "http://fake.omni:20128"

    def __init__(self) -> None:
        self.down = False
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.health_doc = {"status": "ok", "version": "0.1.0", "pid": 4242,
                           "uptime_s": 7380.0, "providers": 3}  # fmt: skip
        self.provider_list: list[dict[str, Any]] = [
            {"id": "openai", "catalog_id": "openai", "format": "openai", "base_url": None,
             "enabled": True, "models": ["gpt-4o", "gpt-4o-mini"],
             "accounts": [{"id": 1, "name": "work", "auth": "api_key", "enabled": True},
                          {"id": 2, "name": "home", "auth": "api_key", "enabled": False}]},
            {"id": "anthropic", "catalog_id": "anthropic", "format": "anthropic",
             "base_url": None, "enabled": True, "models": ["claude-sonnet-4"],
             "accounts": [{"id": 3, "name": "main", "auth": "api_key", "enabled": True}]},
            {"id": "claude", "catalog_id": "claude", "format": "anthropic", "base_url": None,
             "enabled": True, "models": ["claude-sonnet-4-5"],
             "accounts": [{"id": 4, "name": "personal", "auth": "oauth", "enabled": True,
                           "login": "ok", "login_error": None, "expires_at": iso(NOW + 240)},
                          {"id": 5, "name": "team", "auth": "oauth", "enabled": True,
                           "login": "needs login", "login_error": "the refresh token was revoked",
                           "expires_at": iso(NOW - 3600)}]},
        ]  # fmt: skip
        self.breakers: dict[str, Any] = {
            "anthropic": {"state": "open", "failures": 12, "retry_in_s": 25.0}
        }
        self.cooldowns: list[dict[str, Any]] = [
            {"account_id": 1, "provider": "openai", "account": "work", "cooling_s": 42.0}
        ]
        self.caps: list[dict[str, Any]] = [
            {"scope": "provider:openai", "rpm": 60, "tpm": 100000, "concurrency": 4,
             "requests_last_minute": 45, "tokens_last_minute": 52000, "in_flight": 2},
            {"scope": "key:1", "rpm": 30, "tpm": None, "concurrency": None,
             "requests_last_minute": 6, "tokens_last_minute": 9000, "in_flight": 0},
        ]  # fmt: skip
        self.session_list: list[dict[str, Any]] = [
            {"session": "conv-7f3a", "keyId": 1, "model": "openai/gpt-4o-mini", "requests": 6,
             "tokens": 9000, "costUsd": 0.00216, "firstSeen": NOW - 1500, "lastSeen": NOW - 65,
             "pinned": [{"session": "conv-7f3a", "provider": "openai", "account_id": 1,
                         "expires_in_s": 1500}]},
            {"session": "codex-2b9e41c7-5d0a-4f1e-9c3b-77a1", "keyId": None, "model": "best",
             "requests": 2, "tokens": 3000, "costUsd": 0.0081, "firstSeen": NOW - 900,
             "lastSeen": NOW - 300, "pinned": []},
        ]  # fmt: skip
        self.budget_list: list[dict[str, Any]] = [
            {"keyId": 1, "keyName": "laptop", "limit": 5.0, "period": "monthly", "warnAt": 0.8,
             "spent": 4.3, "reserved": 0.0, "remaining": 0.7, "periodStart": NOW - 14 * 86400
             - 8 * 3600, "resetsAt": MONTH_END},
            {"keyId": 2, "keyName": "ci", "limit": 0.5, "period": "daily", "warnAt": 0.8,
             "spent": 0.5, "reserved": 0.0, "remaining": 0.0, "periodStart": NOW - 8 * 3600,
             "resetsAt": DAY_END},
        ]  # fmt: skip
        self.cache: dict[str, Any] = {
            "semanticCache": {"memorySize": 3, "memoryMaxSize": 1000, "dbSize": 3,
                              "hitRate": 0.2},
            "idempotency": {"activeKeys": 0, "windowMs": 5000},
            "exact": {"enabled": True, "hits": 3, "misses": 12, "memoryBytes": 4096,
                      "ttlS": 3600, "savedUsd": 0.0042},
        }  # fmt: skip
        self.summary: dict[str, Any] = {
            "since": NOW - 7380,
            "providers": {
                "openai": {"count": 11, "errors": 1, "p50_ms": 450.0, "p95_ms": 520.0,
                           "p99_ms": 530.0, "ttft_p50_ms": 120.0, "ttft_p95_ms": 140.0},
                "anthropic": {"count": 1, "errors": 0, "p50_ms": 1900.0, "p95_ms": 1900.0,
                              "p99_ms": 1900.0, "ttft_p50_ms": None, "ttft_p95_ms": None},
            },
            "models": {
                "openai/gpt-4o-mini": {"count": 11, "errors": 1, "p50_ms": 450.0,
                                       "p95_ms": 520.0, "p99_ms": 530.0, "ttft_p50_ms": 120.0},
                "anthropic/claude-sonnet-4": {"count": 1, "errors": 0, "p50_ms": 1900.0,
                                              "p95_ms": 1900.0, "p99_ms": 1900.0,
                                              "ttft_p50_ms": None},
            },
        }  # fmt: skip
        self.logs = _rows()
        self.combo_list: list[dict[str, Any]] = [
            {"name": "best", "strategy": "priority",
             "steps": ["openai/gpt-4o", "anthropic/claude-sonnet-4"], "config": {}},
        ]  # fmt: skip
        self.key_list: list[dict[str, Any]] = [
            {"id": 1, "name": "laptop", "prefix": "sk-AbCdEfGh", "scopes": ["chat"],
             "models": [], "expires_at": None, "enabled": True, "status": "active",
             "last_used_at": "2027-01-15T07:55:00+00:00"},
            {"id": 2, "name": "ci", "prefix": "sk-ZyXwVuTs", "scopes": ["chat", "admin"],
             "models": ["openai/gpt-4o-mini"], "expires_at": "2027-02-01T00:00:00+00:00",
             "enabled": True, "status": "active", "last_used_at": None},
        ]  # fmt: skip
        self.test_results: dict[str, dict[str, Any]] = {}
        self._events: asyncio.Queue[tuple[str, dict[str, Any]] | None] | None = None
        self._taken: asyncio.Event | None = None

    def _record(self, name: str, *args: Any) -> None:
        if self.down:
            raise ServerNotRunningError(f"cannot reach the omni server at {self.url}")
        self.calls.append((name, args))

    def called(self, name: str) -> list[tuple[Any, ...]]:
        return [args for call, args in self.calls if call == name]

    # ------------------------------------------------------------------ reads

    async def health(self) -> dict[str, Any]:
        self._record("health")
        return dict(self.health_doc)

    async def providers(self) -> list[dict[str, Any]]:
        self._record("providers")
        return copy.deepcopy(self.provider_list)

    async def resilience(self) -> dict[str, Any]:
        self._record("resilience")
        return {"settings": {}, "profiles": {}, "breakers": copy.deepcopy(self.breakers),
                "cooldowns": copy.deepcopy(self.cooldowns)}  # fmt: skip

    async def rate_limits(self) -> dict[str, Any]:
        self._record("rate_limits")
        return {"cooldowns": copy.deepcopy(self.cooldowns), "caps": copy.deepcopy(self.caps),
                "queue": {"waiting": 1, "depth": 64, "wait_s": 30.0}}  # fmt: skip

    async def sessions(self) -> list[dict[str, Any]]:
        self._record("sessions")
        return copy.deepcopy(self.session_list)

    async def budgets(self) -> list[dict[str, Any]]:
        self._record("budgets")
        return copy.deepcopy(self.budget_list)

    async def cache_stats(self) -> dict[str, Any]:
        self._record("cache_stats")
        return copy.deepcopy(self.cache)

    async def telemetry(self) -> dict[str, Any]:
        self._record("telemetry")
        return copy.deepcopy(self.summary)

    async def request_logs(
        self, limit: int = 200, before: int | None = None
    ) -> list[dict[str, Any]]:
        self._record("request_logs", limit, before)
        rows = [r for r in self.logs if before is None or r["id"] < before]
        return copy.deepcopy(rows[:limit])

    async def explain(self, model: str) -> dict[str, Any]:
        self._record("explain", model)
        combo = next((c for c in self.combo_list if c["name"] == model), None)
        steps = combo["steps"] if combo else [model]
        targets = []
        for step in steps:
            provider, _, name = step.partition("/")
            status = "circuit open" if provider in self.breakers else "ready"
            targets.append({"provider": provider, "account": "main", "model": name,
                            "status": status})  # fmt: skip
        return {"model": model, "combo": combo["name"] if combo else None, "targets": targets,
                "error": None}  # fmt: skip

    async def combos(self) -> list[dict[str, Any]]:
        self._record("combos")
        return copy.deepcopy(self.combo_list)

    async def keys(self) -> list[dict[str, Any]]:
        self._record("keys")
        return copy.deepcopy(self.key_list)

    # ------------------------------------------------------------------ writes

    def _provider(self, name: str) -> dict[str, Any]:
        found = next((p for p in self.provider_list if p["id"] == name), None)
        if found is None:
            raise NotFoundError(f"no provider named '{name}'")
        return found

    async def add_account(self, provider: str, **fields: Any) -> dict[str, Any]:
        self._record("add_account", provider, fields)
        try:
            found = self._provider(provider)
        except NotFoundError:
            if not fields.get("base_url"):
                raise InvalidInputError(f"'{provider}' is not in the catalog, so it needs "
                                        "--base-url") from None  # fmt: skip
            found = {"id": provider, "catalog_id": None, "format": "openai",
                     "base_url": fields["base_url"], "enabled": True, "models": [],
                     "accounts": []}  # fmt: skip
            self.provider_list.append(found)
        found["accounts"].append({"id": 99, "name": fields.get("account", "default"),
                                  "auth": "api_key", "enabled": True})  # fmt: skip
        return copy.deepcopy(found)

    async def edit_provider(self, provider: str, **fields: Any) -> dict[str, Any]:
        self._record("edit_provider", provider, fields)
        found = self._provider(provider)
        found.update(fields)
        return copy.deepcopy(found)

    async def edit_account(self, provider: str, account: str, **fields: Any) -> dict[str, Any]:
        self._record("edit_account", provider, account, fields)
        found = self._provider(provider)
        for entry in found["accounts"]:
            if entry["name"] == account:
                entry.update(fields)
        return copy.deepcopy(found)

    async def test_provider(
        self, provider: str, account: str | None = None, model: str | None = None
    ) -> dict[str, Any]:
        self._record("test_provider", provider, account, model)
        passed = {"ok": True, "status": 200, "latency_ms": 210.0, "error": None}
        result = self.test_results.get(provider) or passed
        return {"provider": provider, "account": account or "work", "model": model or "gpt-4o",
                **result}  # fmt: skip

    async def reset_resilience(self) -> dict[str, Any]:
        self._record("reset_resilience")
        self.breakers, self.cooldowns = {}, []
        return {"reset": True}

    async def create_combo(
        self, name: str, steps: list[str], strategy: str = "priority"
    ) -> dict[str, Any]:
        self._record("create_combo", name, steps, strategy)
        combo = {"name": name, "strategy": strategy, "steps": steps, "config": {}}
        self.combo_list.append(combo)
        return dict(combo)

    async def edit_combo(self, name: str, **fields: Any) -> dict[str, Any]:
        self._record("edit_combo", name, fields)
        combo = next(c for c in self.combo_list if c["name"] == name)
        combo.update(fields)
        return dict(combo)

    async def remove_combo(self, name: str) -> dict[str, Any]:
        self._record("remove_combo", name)
        self.combo_list = [c for c in self.combo_list if c["name"] != name]
        return {"removed": name}

    async def create_key(self, name: str, **fields: Any) -> dict[str, Any]:
        self._record("create_key", name, fields)
        entry = {"id": len(self.key_list) + 1, "name": name, "prefix": "sk-NewKey12",
                 "scopes": fields.get("scopes") or ["chat"],
                 "models": fields.get("models") or [], "expires_at": None, "enabled": True,
                 "status": "active", "last_used_at": None}  # fmt: skip
        self.key_list.append(entry)
        return {**entry, "key": "sk-NewKey12-the-whole-secret"}

    async def edit_key(self, key_id: int, **fields: Any) -> dict[str, Any]:
        self._record("edit_key", key_id, fields)
        entry = next(k for k in self.key_list if k["id"] == key_id)
        entry.update(fields)
        if "enabled" in fields:
            entry["status"] = "active" if fields["enabled"] else "disabled"
        return dict(entry)

    async def set_budget(
        self, key_id: int, limit: float, period: str = "monthly", warn_at: float | None = None
    ) -> dict[str, Any]:
        self._record("set_budget", key_id, limit, period, warn_at)
        if limit < 0:
            raise InvalidInputError("'limit' must be a number of US dollars, 0 or more")
        key = next(k for k in self.key_list if k["id"] == key_id)
        budget = next((b for b in self.budget_list if b["keyId"] == key_id), None)
        if budget is None:
            budget = {"keyId": key_id, "keyName": key["name"], "spent": 0.0, "reserved": 0.0,
                      "periodStart": NOW - 8 * 3600, "warnAt": 0.8}  # fmt: skip
            self.budget_list.append(budget)
        budget.update(limit=limit, period=period, remaining=max(0.0, limit - budget["spent"]),
                      resetsAt=DAY_END if period == "daily" else MONTH_END)  # fmt: skip
        if warn_at is not None:
            budget["warnAt"] = warn_at
        return dict(budget)

    async def remove_budget(self, key_id: int) -> dict[str, Any]:
        self._record("remove_budget", key_id)
        if not any(b["keyId"] == key_id for b in self.budget_list):
            raise NotFoundError(f"API key #{key_id} has no budget")
        self.budget_list = [b for b in self.budget_list if b["keyId"] != key_id]
        return {"keyId": key_id, "removed": True}

    async def revoke_key(self, key_id: int) -> dict[str, Any]:
        self._record("revoke_key", key_id)
        entry = next(k for k in self.key_list if k["id"] == key_id)
        entry.update(status="revoked", enabled=False)
        return dict(entry)

    # ------------------------------------------------------------------ events

    def _queue(self) -> asyncio.Queue[tuple[str, dict[str, Any]] | None]:
        if self._events is None:
            self._events = asyncio.Queue()
            self._taken = asyncio.Event()
        return self._events

    async def events(self) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        self._record("events")
        queue = self._queue()
        assert self._taken is not None
        yield "stats", {"ts": NOW, "uptime_s": self.health_doc["uptime_s"], "requests": 12}
        while True:
            if queue.empty():
                self._taken.set()  # everything pushed so far has been handled
            item = await queue.get()
            self._taken.clear()
            if item is None or self.down:
                raise ServerNotRunningError(f"the event stream from {self.url} broke")
            yield item

    def push(self, name: str, data: dict[str, Any]) -> None:
        self._queue().put_nowait((name, data))
        assert self._taken is not None
        self._taken.clear()

    async def delivered(self) -> None:
        """Wait until the app has taken and handled every pushed event."""
        self._queue()
        assert self._taken is not None
        await self._taken.wait()

    def go_down(self) -> None:
        """The server goes away: calls fail and the stream breaks."""
        self.down = True
        self._queue().put_nowait(None)

    async def close(self) -> None:
        pass
