"""The admin client's operations on accounts, model and combo tests, usage totals and
the API-key requirement.

Split from :mod:`omni.client` like :mod:`omni.client_models`: :class:`OpsAdmin` is part
of the :class:`~omni.client.AdminClient` protocol, :class:`LocalOpsMixin` runs the
services in-process, :class:`HttpOpsMixin` calls the running server. Both return the
same JSON-ready values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlencode

if TYPE_CHECKING:
    from omni.admin import AdminContext


class OpsAdmin(Protocol):
    def list_accounts(self, provider: str | None = None) -> list[dict[str, Any]]: ...
    def add_account(self, provider: str, name: str, **fields: Any) -> dict[str, Any]: ...
    def remove_account(self, provider: str, name: str) -> dict[str, Any]: ...
    def test_model(self, model: str) -> dict[str, Any]: ...
    def test_combo(self, name: str) -> dict[str, Any]: ...
    def usage_history(
        self, group: str = "day", since: str | None = None, until: str | None = None
    ) -> dict[str, Any]: ...
    def require_api_key(self) -> bool: ...


def _given(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


class LocalOpsMixin:
    """In-process, on the store."""

    _ctx: AdminContext

    def list_accounts(self, provider: str | None = None) -> list[dict[str, Any]]:
        from omni.admin.accounts import AccountService

        return AccountService(self._ctx).list_all(provider)

    def add_account(self, provider: str, name: str, **fields: Any) -> dict[str, Any]:
        from omni.admin.accounts import AccountService

        return AccountService(self._ctx).add(provider, name, **_given(**fields))

    def remove_account(self, provider: str, name: str) -> dict[str, Any]:
        from omni.admin.accounts import AccountService

        return AccountService(self._ctx).remove(provider, name)

    def test_model(self, model: str) -> dict[str, Any]:
        from omni.admin.probes import ProbeService

        return ProbeService(self._ctx).test_model(model)

    def test_combo(self, name: str) -> dict[str, Any]:
        from omni.admin.probes import ProbeService

        return ProbeService(self._ctx).test_combo(name)

    def usage_history(
        self, group: str = "day", since: str | None = None, until: str | None = None
    ) -> dict[str, Any]:
        from omni.admin.usage_history import UsageHistoryService

        return UsageHistoryService(self._ctx).history(group, since, until)

    def require_api_key(self) -> bool:
        from omni.admin.auth import AuthService

        return AuthService(self._ctx).toggles()["requireApiKey"]


class HttpOpsMixin:
    """Through the running server's management API."""

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        raise NotImplementedError  # provided by HttpAdminClient

    def list_accounts(self, provider: str | None = None) -> list[dict[str, Any]]:
        query = f"?{urlencode({'provider': provider})}" if provider else ""
        found: list[dict[str, Any]] = self._call("GET", f"/api/accounts{query}")["accounts"]
        return found

    def add_account(self, provider: str, name: str, **fields: Any) -> dict[str, Any]:
        path = f"/api/providers/{quote(provider, safe='')}/accounts"
        result: dict[str, Any] = self._call("POST", path, {"name": name, **_given(**fields)})
        return result

    def remove_account(self, provider: str, name: str) -> dict[str, Any]:
        path = f"/api/providers/{quote(provider, safe='')}/accounts/{quote(name, safe='')}"
        result: dict[str, Any] = self._call("DELETE", path)
        return result

    def test_model(self, model: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/api/models/test", {"model": model})
        return result

    def test_combo(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/api/combos/{quote(name, safe='')}/test")
        return result

    def usage_history(
        self, group: str = "day", since: str | None = None, until: str | None = None
    ) -> dict[str, Any]:
        query = urlencode(_given(group=group, since=since, until=until))
        result: dict[str, Any] = self._call("GET", f"/api/usage/history?{query}")
        return result

    def require_api_key(self) -> bool:
        return bool(self._call("GET", "/api/settings/require-api-key")["requireApiKey"])
