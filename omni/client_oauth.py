"""The admin client's subscription sign-in operations (OAuth flows and imports).

Split from :mod:`omni.client` like :mod:`omni.client_models`: :class:`OAuthAdmin` is part
of the :class:`~omni.client.AdminClient` protocol, :class:`LocalOAuthMixin` runs the
service in-process (flows in progress live in the client), :class:`HttpOAuthMixin` calls
``/api/oauth/{provider}/{action}`` on the running server (flows live there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

if TYPE_CHECKING:
    from omni.admin import AdminContext
    from omni.admin.oauth import OAuthService, PendingFlows


class OAuthAdmin(Protocol):
    def oauth_authorize(self, provider: str, **fields: Any) -> dict[str, Any]: ...
    def oauth_exchange(
        self, provider: str, flow_id: str, code: str, state: str | None = None
    ) -> dict[str, Any]: ...
    def oauth_device_code(self, provider: str, **fields: Any) -> dict[str, Any]: ...
    def oauth_poll(self, provider: str, flow_id: str) -> dict[str, Any]: ...
    def oauth_import(
        self, tool: str, credentials: dict[str, Any], **fields: Any
    ) -> dict[str, Any]: ...


def _given(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


class LocalOAuthMixin:
    """In-process: the service on the store; flows in progress live in this client."""

    _ctx: AdminContext
    _oauth_flows: PendingFlows | None = None

    def _oauth(self) -> OAuthService:
        from omni.admin.oauth import OAuthService, PendingFlows

        if self._oauth_flows is None:
            self._oauth_flows = PendingFlows()
        return OAuthService(self._ctx, self._oauth_flows)

    def oauth_authorize(self, provider: str, **fields: Any) -> dict[str, Any]:
        return self._oauth().authorize(provider, **_given(**fields))

    def oauth_exchange(
        self, provider: str, flow_id: str, code: str, state: str | None = None
    ) -> dict[str, Any]:
        return self._oauth().exchange(provider, flow_id, code, state)

    def oauth_device_code(self, provider: str, **fields: Any) -> dict[str, Any]:
        return self._oauth().device_code(provider, **_given(**fields))

    def oauth_poll(self, provider: str, flow_id: str) -> dict[str, Any]:
        return self._oauth().poll(provider, flow_id)

    def oauth_import(self, tool: str, credentials: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return self._oauth().import_credentials(tool, credentials, **_given(**fields))


class HttpOAuthMixin:
    """Through the running server's ``/api/oauth`` routes."""

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        raise NotImplementedError  # provided by HttpAdminClient

    def _oauth(self, provider: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", f"/api/oauth/{quote(provider, safe='')}/{action}", body
        )
        return result

    def oauth_authorize(self, provider: str, **fields: Any) -> dict[str, Any]:
        return self._oauth(provider, "authorize", _given(**fields))

    def oauth_exchange(
        self, provider: str, flow_id: str, code: str, state: str | None = None
    ) -> dict[str, Any]:
        return self._oauth(provider, "exchange", _given(flow_id=flow_id, code=code, state=state))

    def oauth_device_code(self, provider: str, **fields: Any) -> dict[str, Any]:
        return self._oauth(provider, "device-code", _given(**fields))

    def oauth_poll(self, provider: str, flow_id: str) -> dict[str, Any]:
        return self._oauth(provider, "poll", {"flow_id": flow_id})

    def oauth_import(self, tool: str, credentials: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return self._oauth(tool, "import", {"credentials": credentials, **_given(**fields)})
