"""The route explainer: which targets a model string leads to, in order, and why each
would be tried or skipped right now (cooling down, circuit open).

Used by ``GET /api/route/explain`` (with the live resilience state of the server) and by
``omni route explain`` without a server (configuration only).
"""

from __future__ import annotations

from typing import Any

from omni.errors import OmniError
from omni.gateway.registry import Registry
from omni.gateway.resilience import Breakers, Cooldowns


def explain(
    registry: Registry,
    model: str,
    cooldowns: Cooldowns | None = None,
    breakers: Breakers | None = None,
) -> dict[str, Any]:
    """A JSON-ready explanation of how ``model`` would be routed."""
    try:
        plan = registry.plan(model)
    except OmniError as exc:
        return {"model": model, "combo": None, "targets": [], "error": exc.message}
    targets = []
    for target in plan.targets:
        status = "ready"
        cooling = cooldowns.remaining(target.account_id) if cooldowns else 0.0
        if cooling:
            status = f"skipped: account cooling down for {cooling:.0f} s"
        elif breakers is not None and breakers.state(target.provider_id) == "open":
            status = f"skipped: circuit open for {breakers.retry_in(target.provider_id):.0f} s"
        targets.append(
            {
                "provider": target.provider_id,
                "account": target.account_name,
                "model": target.model,
                "format": target.format,
                "base_url": target.base_url,
                "status": status,
            }
        )
    return {"model": model, "combo": plan.combo, "targets": targets, "error": None}
