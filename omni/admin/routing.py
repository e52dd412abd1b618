"""Routing configuration: how a model would be routed (from the stored configuration
alone, no running server needed) and the routing policy documents (fallback, breakers,
account rotation, operator caps) that ``/api/resilience`` and ``/api/rate-limit`` edit."""

from __future__ import annotations

from typing import Any

from omni.admin import AdminContext
from omni.gateway.explain import explain
from omni.gateway.policy import parse_rate_limits, parse_resilience
from omni.gateway.registry import build_registry
from omni.providers.catalog import load_catalog
from omni.store import audit
from omni.store import settings as settings_repo


class RouteService:
    """Route explanations and the routing policy."""

    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    def explain(self, model: str) -> dict[str, Any]:
        """How ``model`` would be routed, from the stored configuration."""
        with self.ctx.db.session() as conn:
            registry = build_registry(
                conn, load_catalog(), self.ctx.settings, self.ctx.secrets,
                self.ctx.db.config_version(conn),
            )  # fmt: skip
        return explain(registry, model)

    def policy(self) -> dict[str, Any]:
        """The stored routing policy documents (``{}`` where nothing was set)."""
        with self.ctx.db.session() as conn:
            return {
                "resilience": settings_repo.get_setting(conn, "resilience", {}),
                "rate_limits": settings_repo.get_setting(conn, "rate_limits", {}),
            }

    def set_policy(self, name: str, document: Any, actor: str = "cli") -> dict[str, Any]:
        """Replace the ``resilience`` or ``rate_limits`` document after validating it."""
        check = {"resilience": parse_resilience, "rate_limits": parse_rate_limits}[name]
        check(document)
        with self.ctx.db.transaction() as conn:
            settings_repo.set_setting(conn, name, document)
            audit.record(conn, actor, f"settings.{name}", detail={"keys": sorted(document)})
        return self.policy()
