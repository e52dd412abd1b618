"""The TUI's view of the server: a small async interface over the management API.

:class:`AdminApi` is everything the dashboard asks of a server; :class:`HttpAdminApi`
implements it with ``httpx`` (async, so the UI never waits on the network) against a
local server with the admin token or a remote one with a login token. Tests implement
the same interface in memory. Failures are :mod:`omni.errors` exceptions: an unreachable
server is :class:`~omni.errors.ServerNotRunningError`, an API error keeps the server's
message, so a view can show what happened without knowing HTTP.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from omni.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    OmniError,
    ServerNotRunningError,
)

Event = tuple[str, dict[str, Any]]
"""One server-sent event: its name (``request``, ``stats``, ``dropped``) and its data."""


class AdminApi(Protocol):
    """What the dashboard needs from a server."""

    url: str

    async def health(self) -> dict[str, Any]: ...
    async def providers(self) -> list[dict[str, Any]]: ...
    async def add_account(self, provider: str, **fields: Any) -> dict[str, Any]: ...
    async def edit_provider(self, provider: str, **fields: Any) -> dict[str, Any]: ...
    async def edit_account(self, provider: str, account: str, **fields: Any) -> dict[str, Any]: ...
    async def test_provider(
        self, provider: str, account: str | None = None, model: str | None = None
    ) -> dict[str, Any]: ...
    async def resilience(self) -> dict[str, Any]: ...
    async def reset_resilience(self) -> dict[str, Any]: ...
    async def rate_limits(self) -> dict[str, Any]: ...
    async def sessions(self) -> list[dict[str, Any]]: ...
    async def budgets(self) -> list[dict[str, Any]]: ...
    async def set_budget(
        self, key_id: int, limit: float, period: str = "monthly", warn_at: float | None = None
    ) -> dict[str, Any]: ...
    async def remove_budget(self, key_id: int) -> dict[str, Any]: ...
    async def cache_stats(self) -> dict[str, Any]: ...
    async def telemetry(self) -> dict[str, Any]: ...
    async def request_logs(
        self, limit: int = 200, before: int | None = None
    ) -> list[dict[str, Any]]: ...
    async def explain(self, model: str) -> dict[str, Any]: ...
    async def combos(self) -> list[dict[str, Any]]: ...
    async def create_combo(
        self, name: str, steps: list[str], strategy: str = "priority"
    ) -> dict[str, Any]: ...
    async def edit_combo(self, name: str, **fields: Any) -> dict[str, Any]: ...
    async def remove_combo(self, name: str) -> dict[str, Any]: ...
    async def keys(self) -> list[dict[str, Any]]: ...
    async def create_key(self, name: str, **fields: Any) -> dict[str, Any]: ...
    async def edit_key(self, key_id: int, **fields: Any) -> dict[str, Any]: ...
    async def revoke_key(self, key_id: int) -> dict[str, Any]: ...
    def events(self) -> AsyncIterator[Event]: ...
    async def close(self) -> None: ...


_ERRORS: dict[int, type[OmniError]] = {
    400: InvalidInputError,
    401: AuthError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
}

Relogin = Callable[[], Awaitable[str | None]]
"""Gets a fresh token after the server refused ours (the session expired or ended)."""


def _segment(value: object) -> str:
    return quote(str(value), safe="")


class HttpAdminApi:
    """:class:`AdminApi` over HTTP. ``relogin`` is asked for a new token on a 401."""

    def __init__(
        self, url: str, token: str | None, relogin: Relogin | None = None, timeout: float = 15.0
    ) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._relogin = relogin
        self._timeout = timeout
        self._http: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(base_url=self.url, timeout=self._timeout)
        return self._http

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        for attempt in (1, 2):
            try:
                response = await self._client().request(
                    method, path, json=body, headers=self._headers()
                )
            except httpx.HTTPError as exc:
                raise ServerNotRunningError(
                    f"cannot reach the omni server at {self.url}: {type(exc).__name__}"
                ) from None
            if response.status_code == 401 and attempt == 1 and self._relogin is not None:
                token = await self._relogin()
                if token:
                    self._token = token
                    continue
            return _answer(response)
        raise AssertionError("unreachable")  # pragma: no cover

    async def health(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/api/monitoring/health")
        return result

    async def providers(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (await self._call("GET", "/api/providers"))["providers"]
        return found

    async def add_account(self, provider: str, **fields: Any) -> dict[str, Any]:
        body = {"name": provider, **{k: v for k, v in fields.items() if v not in (None, "")}}
        result: dict[str, Any] = await self._call("POST", "/api/providers", body)
        return result

    async def edit_provider(self, provider: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "PUT", f"/api/providers/{_segment(provider)}", fields
        )
        return result

    async def edit_account(self, provider: str, account: str, **fields: Any) -> dict[str, Any]:
        path = f"/api/providers/{_segment(provider)}/accounts/{_segment(account)}"
        result: dict[str, Any] = await self._call("PUT", path, fields)
        return result

    async def test_provider(
        self, provider: str, account: str | None = None, model: str | None = None
    ) -> dict[str, Any]:
        body = {k: v for k, v in (("account", account), ("model", model)) if v}
        result: dict[str, Any] = await self._call(
            "POST", f"/api/providers/{_segment(provider)}/test", body
        )
        return result

    async def resilience(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/api/resilience")
        return result

    async def reset_resilience(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "/api/resilience/reset")
        return result

    async def rate_limits(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/api/rate-limits")
        return result

    async def sessions(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (await self._call("GET", "/api/sessions"))["sessions"]
        return found

    async def budgets(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (await self._call("GET", "/api/usage/budget"))["budgets"]
        return found

    async def set_budget(
        self, key_id: int, limit: float, period: str = "monthly", warn_at: float | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"keyId": key_id, "limit": limit, "period": period}
        if warn_at is not None:
            body["warnAt"] = warn_at
        result: dict[str, Any] = await self._call("POST", "/api/usage/budget", body)
        return result

    async def remove_budget(self, key_id: int) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("DELETE", f"/api/usage/budget/{key_id}")
        return result

    async def cache_stats(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/api/cache")
        return result

    async def telemetry(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "/api/telemetry/summary")
        return result

    async def request_logs(
        self, limit: int = 200, before: int | None = None
    ) -> list[dict[str, Any]]:
        query = f"limit={limit}" + (f"&before={before}" if before is not None else "")
        rows: list[dict[str, Any]] = (await self._call("GET", f"/api/usage/request-logs?{query}"))[
            "requests"
        ]
        return rows

    async def explain(self, model: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "GET", f"/api/route/explain?model={_segment(model)}"
        )
        return result

    async def combos(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (await self._call("GET", "/api/combos"))["combos"]
        return found

    async def create_combo(
        self, name: str, steps: list[str], strategy: str = "priority"
    ) -> dict[str, Any]:
        body = {"name": name, "steps": steps, "strategy": strategy}
        result: dict[str, Any] = await self._call("POST", "/api/combos", body)
        return result

    async def edit_combo(self, name: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("PUT", f"/api/combos/{_segment(name)}", fields)
        return result

    async def remove_combo(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("DELETE", f"/api/combos/{_segment(name)}")
        return result

    async def keys(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (await self._call("GET", "/api/keys"))["keys"]
        return found

    async def create_key(self, name: str, **fields: Any) -> dict[str, Any]:
        body = {"name": name, **{k: v for k, v in fields.items() if v not in (None, "", [])}}
        result: dict[str, Any] = await self._call("POST", "/api/keys", body)
        return result

    async def edit_key(self, key_id: int, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("PATCH", f"/api/keys/{key_id}", fields)
        return result

    async def revoke_key(self, key_id: int) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("DELETE", f"/api/keys/{key_id}")
        return result

    async def events(self) -> AsyncIterator[Event]:
        """The server's live events until the connection ends (then the iterator ends)."""
        timeout = httpx.Timeout(self._timeout, read=60.0)
        try:
            async with self._client().stream(
                "GET", "/api/events", headers=self._headers(), timeout=timeout
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    _answer(response)
                name, data = "message", []
                async for line in response.aiter_lines():
                    if line.startswith("event:"):
                        name = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif not line and data:
                        yield name, json.loads("\n".join(data))
                        name, data = "message", []
        except httpx.HTTPError as exc:
            raise ServerNotRunningError(
                f"the event stream from {self.url} broke: {type(exc).__name__}"
            ) from None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


def _answer(response: httpx.Response) -> Any:
    """The JSON of a successful answer, or the error it stands for."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code >= 400:
        message = f"server answered HTTP {response.status_code}"
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            message = str(data["error"].get("message", message))
        raise _ERRORS.get(response.status_code, OmniError)(message)
    return data


async def login(url: str, password: str, wait: float = 15.0) -> str:
    """Log in to the server at ``url`` with the admin password; the session token."""
    async with httpx.AsyncClient(base_url=url.rstrip("/"), timeout=wait) as http:
        try:
            response = await http.post("/api/auth/login", json={"password": password})
        except httpx.HTTPError as exc:
            raise ServerNotRunningError(
                f"cannot reach the omni server at {url}: {type(exc).__name__}"
            ) from None
    token = _answer(response).get("token")
    if not isinstance(token, str):
        raise AuthError(f"the server at {url} answered the login without a token")
    return token
