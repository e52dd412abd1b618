"""The admin client's operations on routing policy, usage, budgets and the cache.

Split from :mod:`omni.client` to keep each file readable, like :mod:`omni.client_models`:
:class:`UsageAdmin` is part of the :class:`~omni.client.AdminClient` protocol,
:class:`LocalUsageMixin` runs the services in-process, :class:`HttpUsageMixin` calls the
running server's API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

if TYPE_CHECKING:
    from omni.admin import AdminContext


def segment(value: str) -> str:
    """A value safe to put in a URL path as one segment."""
    return quote(str(value), safe="")


class UsageAdmin(Protocol):
    def routing_policy(self) -> dict[str, Any]: ...
    def set_policy(self, name: str, document: dict[str, Any]) -> dict[str, Any]: ...
    def request_logs(self, **filters: Any) -> list[dict[str, Any]]: ...
    def list_budgets(self) -> list[dict[str, Any]]: ...
    def set_budget(self, key: str, limit: float, period: str, warn_at: float) -> dict[str, Any]: ...
    def remove_budget(self, key: str) -> dict[str, Any]: ...
    def cache_stats(self) -> dict[str, Any]: ...
    def clear_cache(self) -> dict[str, Any]: ...
    def set_cache(self, **fields: Any) -> dict[str, Any]: ...


class LocalUsageMixin:
    """In-process implementations (the store, no server)."""

    _ctx: AdminContext

    def routing_policy(self) -> dict[str, Any]:
        from omni.admin.routing import RouteService

        return RouteService(self._ctx).policy()

    def set_policy(self, name: str, document: dict[str, Any]) -> dict[str, Any]:
        from omni.admin.routing import RouteService

        return RouteService(self._ctx).set_policy(name, document)

    def request_logs(self, **filters: Any) -> list[dict[str, Any]]:
        from omni.admin.usage import UsageService

        return UsageService(self._ctx).request_logs(**filters)

    def list_budgets(self) -> list[dict[str, Any]]:
        from omni.admin.budgets import BudgetService

        return BudgetService(self._ctx).list_all()

    def set_budget(self, key: str, limit: float, period: str, warn_at: float) -> dict[str, Any]:
        from omni.admin.budgets import BudgetService

        return BudgetService(self._ctx).set(key, limit, period, warn_at)

    def remove_budget(self, key: str) -> dict[str, Any]:
        from omni.admin.budgets import BudgetService

        return BudgetService(self._ctx).remove(key)

    def cache_stats(self) -> dict[str, Any]:
        from omni.admin.usage import cache_store_stats

        return cache_store_stats(self._ctx)

    def clear_cache(self) -> dict[str, Any]:
        from omni.admin.usage import clear_cache_store

        return clear_cache_store(self._ctx)

    def set_cache(self, **fields: Any) -> dict[str, Any]:
        from omni.admin.usage import set_cache_settings
        from omni.store import settings as settings_repo

        set_cache_settings(self._ctx, fields)
        with self._ctx.db.session() as conn:
            stored: dict[str, Any] = settings_repo.get_setting(conn, "cache", {})
        return stored


class HttpUsageMixin:
    """Implementations over the running server's API."""

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        raise NotImplementedError

    def routing_policy(self) -> dict[str, Any]:
        return {
            "resilience": self._call("GET", "/api/resilience")["settings"],
            "rate_limits": self._call("GET", "/api/rate-limit"),
        }

    def set_policy(self, name: str, document: dict[str, Any]) -> dict[str, Any]:
        path = "/api/resilience" if name == "resilience" else "/api/rate-limit"
        self._call("PUT", path, document)
        return self.routing_policy()

    def request_logs(self, **filters: Any) -> list[dict[str, Any]]:
        from urllib.parse import urlencode

        names = {"before_id": "before"}
        query = urlencode(
            {names.get(k, k): str(v).lower() if isinstance(v, bool) else v
             for k, v in filters.items() if v not in (None, False)}
        )  # fmt: skip
        rows: list[dict[str, Any]] = self._call("GET", f"/api/usage/request-logs?{query}")[
            "requests"
        ]
        return rows

    def list_budgets(self) -> list[dict[str, Any]]:
        budgets: list[dict[str, Any]] = self._call("GET", "/api/usage/budget")["budgets"]
        return budgets

    def set_budget(self, key: str, limit: float, period: str, warn_at: float) -> dict[str, Any]:
        body = {"keyId": key, "limit": limit, "period": period, "warnAt": warn_at}
        result: dict[str, Any] = self._call("POST", "/api/usage/budget", body)
        return result

    def remove_budget(self, key: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("DELETE", f"/api/usage/budget/{segment(key)}")
        return result

    def cache_stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/api/cache")
        return result

    def clear_cache(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("DELETE", "/api/cache")
        return result

    def set_cache(self, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PUT", "/api/cache/settings", fields)
        return result
