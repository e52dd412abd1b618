"""Routing questions answered from the configuration alone (no running server needed)."""

from __future__ import annotations

from typing import Any

from omni.admin import AdminContext
from omni.gateway.explain import explain
from omni.gateway.registry import build_registry
from omni.providers.catalog import load_catalog


class RouteService:
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
