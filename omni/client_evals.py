"""The admin client's operations on evals and configuration sync.

Split from :mod:`omni.client` like :mod:`omni.client_usage`: :class:`EvalsAdmin` is part of
the :class:`~omni.client.AdminClient` protocol, :class:`LocalEvalsMixin` runs the services
in-process (an eval run gets a temporary gateway on the store), :class:`HttpEvalsMixin`
calls the running server. :func:`fetch_bundle` pulls another omni's bundle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from omni.client_usage import segment
from omni.errors import (
    AuthError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    OmniError,
    ServerNotRunningError,
)

if TYPE_CHECKING:
    from omni.admin import AdminContext


class EvalsAdmin(Protocol):
    def list_evals(self) -> list[dict[str, Any]]: ...
    def get_eval(self, suite: str) -> dict[str, Any]: ...
    def create_eval(
        self, name: str, model: str, cases: list[Any], description: str | None = None
    ) -> dict[str, Any]: ...
    def run_eval(self, suite: str, model: str | None = None) -> dict[str, Any]: ...
    def remove_eval(self, suite: str) -> dict[str, Any]: ...
    def sync_init(self, with_keys: bool = False) -> dict[str, Any]: ...
    def sync_status(self) -> dict[str, Any]: ...
    def sync_revoke(self) -> dict[str, Any]: ...
    def sync_apply(
        self, bundle: dict[str, Any], dry_run: bool = False, source: str | None = None
    ) -> dict[str, Any]: ...


class LocalEvalsMixin:
    """In-process implementations (the store, no server)."""

    _ctx: AdminContext

    def _evals(self) -> Any:
        from omni.admin.evals import EvalService

        return EvalService(self._ctx)

    def _sync(self) -> Any:
        from omni.admin.sync import SyncService

        return SyncService(self._ctx)

    def list_evals(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._evals().list_all()
        return found

    def get_eval(self, suite: str) -> dict[str, Any]:
        found: dict[str, Any] = self._evals().get(suite)
        return found

    def create_eval(
        self, name: str, model: str, cases: list[Any], description: str | None = None
    ) -> dict[str, Any]:
        created: dict[str, Any] = self._evals().create(name, model, cases, description)
        return created

    def run_eval(self, suite: str, model: str | None = None) -> dict[str, Any]:
        import asyncio

        from omni.admin.evals import execute, standalone_chat

        async def run() -> dict[str, Any]:
            async with standalone_chat(self._ctx) as (chat, routable):
                return await execute(self._evals(), chat, suite, model, asyncio.to_thread, routable)

        return asyncio.run(run())

    def remove_eval(self, suite: str) -> dict[str, Any]:
        removed: dict[str, Any] = self._evals().remove(suite)
        return removed

    def sync_init(self, with_keys: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = self._sync().initialize(with_keys)
        return result

    def sync_status(self) -> dict[str, Any]:
        result: dict[str, Any] = self._sync().status()
        return result

    def sync_revoke(self) -> dict[str, Any]:
        result: dict[str, Any] = self._sync().revoke()
        return result

    def sync_apply(
        self, bundle: dict[str, Any], dry_run: bool = False, source: str | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._sync().apply(bundle, dry_run, source)
        return result


class HttpEvalsMixin:
    """Implementations over the running server's API."""

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        raise NotImplementedError

    _http: Any

    def _long_call(self, method: str, path: str, json: Any = None) -> Any:
        """A call that may take minutes (an eval run waits for every case)."""
        import httpx

        from omni.client import _raise_for

        try:
            response = self._http.request(
                method, path, json=json, timeout=httpx.Timeout(30, read=3600)
            )
        except httpx.HTTPError as exc:
            raise ServerNotRunningError(
                f"cannot reach the omni server at {self._http.base_url}: {type(exc).__name__}"
            ) from None
        _raise_for(response)
        return response.json()

    def list_evals(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call("GET", "/api/evals")["suites"]
        return found

    def get_eval(self, suite: str) -> dict[str, Any]:
        found: dict[str, Any] = self._call("GET", f"/api/evals/{segment(suite)}")
        return found

    def create_eval(
        self, name: str, model: str, cases: list[Any], description: str | None = None
    ) -> dict[str, Any]:
        body = {"name": name, "model": model, "cases": cases, "description": description}
        created: dict[str, Any] = self._call("POST", "/api/evals", body)
        return created

    def run_eval(self, suite: str, model: str | None = None) -> dict[str, Any]:
        body = {"model": model} if model else {}
        result: dict[str, Any] = self._long_call("POST", f"/api/evals/{segment(suite)}/run", body)
        return result

    def remove_eval(self, suite: str) -> dict[str, Any]:
        removed: dict[str, Any] = self._call("DELETE", f"/api/evals/{segment(suite)}")
        return removed

    def sync_init(self, with_keys: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/api/sync/initialize", {"withKeys": with_keys})
        return result

    def sync_status(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/api/sync/status")
        return result

    def sync_revoke(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("DELETE", "/api/sync/token")
        return result

    def sync_apply(
        self, bundle: dict[str, Any], dry_run: bool = False, source: str | None = None
    ) -> dict[str, Any]:
        body = {"bundle": bundle, "dryRun": dry_run, "source": source}
        result: dict[str, Any] = self._call("POST", "/api/sync/apply", body)
        return result


def fetch_bundle(
    url: str, token: str, with_keys: bool = False, etag: str | None = None
) -> dict[str, Any] | None:
    """The bundle another omni at ``url`` serves to ``token``; None when it is unchanged
    since ``etag`` (the server answered 304)."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    if etag:
        headers["If-None-Match"] = f'"{etag}"'
    params = {"withKeys": "true"} if with_keys else {}
    target = url.rstrip("/") + "/api/sync/cloud"
    try:
        response = httpx.get(target, headers=headers, params=params, timeout=30.0)
    except httpx.HTTPError as exc:
        raise ServerNotRunningError(f"cannot reach {target}: {type(exc).__name__}") from None
    if response.status_code == 304:
        return None
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code >= 400:
        message = f"{target} answered HTTP {response.status_code}"
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            message = f"{message}: {data['error'].get('message')}"
        kind = {400: InvalidInputError, 401: AuthError, 403: ForbiddenError, 404: NotFoundError}
        raise kind.get(response.status_code, OmniError)(message)
    if not isinstance(data, dict):
        raise InvalidInputError(f"{target} did not answer with a configuration bundle")
    return data
