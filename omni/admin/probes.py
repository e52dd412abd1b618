"""Trying models and combos with one tiny real request (``omni models test``,
``omni combos test``; ``POST /api/models/test``, ``POST /api/combos/{name}/test``).

A model is tried the way the gateway would route it: its targets in order until one
answers. A combo is tried step by step (nested combos step by step too), each step on
its accounts in order, so the answer says which steps work and which do not, with the
upstream's error for the ones that fail. The steps run in parallel. Routing uses the
stored configuration, without the live cooldowns and circuits of a running server.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from omni.admin import AdminContext
from omni.admin import upstream as calls
from omni.admin.combos import ComboService
from omni.errors import OmniError
from omni.gateway.registry import Registry, build_registry
from omni.providers.catalog import load_catalog
from omni.providers.executor import Target

MAX_TRIES = 5  # targets tried per model or step at most
PARALLEL = 8


def _attempt(target: Target, timeout: float) -> dict[str, Any]:
    outcome = calls.chat_once(target, target.model, timeout=timeout)
    return {
        "provider": target.provider_id,
        "account": target.account_name,
        "model": target.model,
        **outcome.as_dict(),
    }


def _try(targets: tuple[Target, ...], timeout: float) -> dict[str, Any]:
    """Targets in order until one answers: ok, who served, the attempts made."""
    attempts = []
    for target in targets[:MAX_TRIES]:
        attempt = _attempt(target, timeout)
        attempts.append(attempt)
        if attempt["ok"]:
            return {
                "ok": True,
                "served_by": f"{target.provider_id}/{target.model}",
                "account": target.account_name,
                "latency_ms": attempt["latency_ms"],
                "error": None,
                "attempts": attempts,
            }
    last = attempts[-1]["error"] if attempts else "no target to try"
    return {
        "ok": False,
        "served_by": None,
        "account": None,
        "latency_ms": None,
        "error": last,
        "attempts": attempts,
    }


class ProbeService:
    """Send one tiny request to a model or through each step of a combo."""

    def __init__(self, ctx: AdminContext, timeout: float = 30.0) -> None:
        self.ctx = ctx
        self.timeout = timeout

    def _registry(self) -> Registry:
        with self.ctx.db.session() as conn:
            return build_registry(
                conn, load_catalog(), self.ctx.settings, self.ctx.secrets,
                self.ctx.db.config_version(conn),
            )  # fmt: skip

    def test_model(self, model: str) -> dict[str, Any]:
        """Route ``model`` as the gateway would and send one tiny request."""
        registry = self._registry()
        try:
            plan = registry.plan(model)
        except OmniError as exc:
            return {"model": model, "combo": None, "ok": False, "served_by": None,
                    "account": None, "latency_ms": None, "error": exc.message,
                    "attempts": []}  # fmt: skip
        return {"model": model, "combo": plan.combo, **_try(plan.targets, self.timeout)}

    def test_combo(self, name: str) -> dict[str, Any]:
        """Every step of combo ``name`` (and of combos it names), each tried on its own."""
        combo = ComboService(self.ctx).get(name)
        registry = self._registry()
        steps: list[tuple[str, str | None]] = []
        self._flatten(registry, combo["steps"], None, steps, depth=1)
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(steps) or 1)) as pool:
            results = list(pool.map(lambda s: self._step(registry, *s), steps))
        working = sum(1 for r in results if r["ok"])
        return {
            "combo": combo["name"],
            "strategy": combo["strategy"],
            "ok": working == len(results) and bool(results),
            "usable": working > 0,
            "working": working,
            "steps": results,
        }

    def _flatten(
        self,
        registry: Registry,
        names: list[str],
        via: str | None,
        out: list[tuple[str, str | None]],
        depth: int,
    ) -> None:
        for step in names:
            inner = registry.combos.get(step)
            if inner is not None and depth < 3:
                self._flatten(registry, list(inner.steps), step, out, depth + 1)
            else:
                out.append((step, via))

    def _step(self, registry: Registry, step: str, via: str | None) -> dict[str, Any]:
        head = {"step": step, "via": via}
        try:
            plan = registry.plan(step)
        except OmniError as exc:
            return {**head, "ok": False, "served_by": None, "account": None,
                    "latency_ms": None, "error": exc.message, "attempts": []}  # fmt: skip
        return {**head, **_try(plan.targets, self.timeout)}
