"""The admin client: one interface, two ways to reach the management operations.

``HttpAdminClient`` talks to a running server (local, authenticated with the admin token
file, or remote with ``--url``); ``LocalAdminClient`` calls the service layer in-process on
the store when no server runs. Both return the same JSON-ready values, so every CLI
command is one code path. :func:`connect` picks the right one.
"""

from __future__ import annotations

from typing import Any, Protocol

from omni.client_models import HttpModelsMixin, LocalModelsMixin, ModelsAdmin
from omni.config import Settings
from omni.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    OmniError,
    ServerNotRunningError,
)


class AdminClient(ModelsAdmin, Protocol):
    """Management operations available to the CLI and the TUI."""

    where: str

    def list_providers(self) -> list[dict[str, Any]]: ...
    def get_provider(self, name: str) -> dict[str, Any]: ...
    def add_provider(self, name: str, **fields: Any) -> dict[str, Any]: ...
    def remove_provider(self, name: str) -> dict[str, Any]: ...
    def list_combos(self) -> list[dict[str, Any]]: ...
    def get_combo(self, name: str) -> dict[str, Any]: ...
    def create_combo(
        self, name: str, steps: list[str], strategy: str = "priority"
    ) -> dict[str, Any]: ...
    def edit_combo(
        self, name: str, steps: list[str] | None = None, strategy: str | None = None
    ) -> dict[str, Any]: ...
    def remove_combo(self, name: str) -> dict[str, Any]: ...
    def explain_route(self, model: str) -> dict[str, Any]: ...
    def resilience(self) -> dict[str, Any]: ...
    def reset_resilience(self) -> dict[str, Any]: ...
    def close(self) -> None: ...


class LocalAdminClient(LocalModelsMixin):
    """Runs services in this process, directly on the store."""

    def __init__(self, settings: Settings) -> None:
        from omni.admin import AdminContext
        from omni.admin.combos import ComboService
        from omni.admin.providers import ProviderService

        self.where = f"local store {settings.paths.database}"
        ctx = AdminContext.open(settings)
        self._providers = ProviderService(ctx)
        self._combos = ComboService(ctx)
        self._ctx = ctx

    def list_providers(self) -> list[dict[str, Any]]:
        return self._providers.list_all()

    def get_provider(self, name: str) -> dict[str, Any]:
        return self._providers.get(name)

    def add_provider(self, name: str, **fields: Any) -> dict[str, Any]:
        return self._providers.add(name, **fields)

    def remove_provider(self, name: str) -> dict[str, Any]:
        return self._providers.remove(name)

    def list_combos(self) -> list[dict[str, Any]]:
        return self._combos.list_all()

    def get_combo(self, name: str) -> dict[str, Any]:
        return self._combos.get(name)

    def create_combo(
        self, name: str, steps: list[str], strategy: str = "priority"
    ) -> dict[str, Any]:
        return self._combos.create(name, steps, strategy)

    def edit_combo(
        self, name: str, steps: list[str] | None = None, strategy: str | None = None
    ) -> dict[str, Any]:
        return self._combos.edit(name, steps=steps, strategy=strategy)

    def remove_combo(self, name: str) -> dict[str, Any]:
        return self._combos.remove(name)

    def explain_route(self, model: str) -> dict[str, Any]:
        from omni.admin.routing import RouteService

        return RouteService(self._ctx).explain(model)

    def resilience(self) -> dict[str, Any]:
        from omni.gateway.resilience import PROFILES

        # Nothing rests without a running server: cooldowns and circuits live in it.
        return {
            "profiles": {
                n: {"failures": p.failures, "open_s": p.open_s} for n, p in PROFILES.items()
            },
            "breakers": {},
            "cooldowns": [],
        }

    def reset_resilience(self) -> dict[str, Any]:
        return {"reset": False}

    def close(self) -> None:
        pass


_ERRORS: dict[int, type[OmniError]] = {
    400: InvalidInputError,
    404: NotFoundError,
    409: ConflictError,
}


class HttpAdminClient(HttpModelsMixin):
    """Calls the admin API of a running server."""

    def __init__(self, url: str, token: str | None, timeout: float = 30.0) -> None:
        import httpx

        self.where = f"server {url}"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=url, headers=headers, timeout=timeout)

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        import httpx

        try:
            response = self._http.request(method, path, json=json)
        except httpx.HTTPError as exc:
            raise ServerNotRunningError(
                f"cannot reach the omni server at {self._http.base_url}: {type(exc).__name__}"
            ) from None
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

    def list_providers(self) -> list[dict[str, Any]]:
        providers: list[dict[str, Any]] = self._call("GET", "/api/providers")["providers"]
        return providers

    def get_provider(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/api/providers/{name}")
        return result

    def add_provider(self, name: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/api/providers", {"name": name, **fields})
        return result

    def remove_provider(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("DELETE", f"/api/providers/{name}")
        return result

    def list_combos(self) -> list[dict[str, Any]]:
        combos: list[dict[str, Any]] = self._call("GET", "/api/combos")["combos"]
        return combos

    def get_combo(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/api/combos/{name}")
        return result

    def create_combo(
        self, name: str, steps: list[str], strategy: str = "priority"
    ) -> dict[str, Any]:
        body = {"name": name, "steps": steps, "strategy": strategy}
        result: dict[str, Any] = self._call("POST", "/api/combos", body)
        return result

    def edit_combo(
        self, name: str, steps: list[str] | None = None, strategy: str | None = None
    ) -> dict[str, Any]:
        body = {k: v for k, v in (("steps", steps), ("strategy", strategy)) if v is not None}
        result: dict[str, Any] = self._call("PUT", f"/api/combos/{name}", body)
        return result

    def remove_combo(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("DELETE", f"/api/combos/{name}")
        return result

    def explain_route(self, model: str) -> dict[str, Any]:
        from urllib.parse import quote

        result: dict[str, Any] = self._call("GET", f"/api/route/explain?model={quote(model)}")
        return result

    def resilience(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/api/resilience")
        return result

    def reset_resilience(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/api/resilience/reset")
        return result

    def close(self) -> None:
        self._http.close()


def connect(settings: Settings, url: str | None = None, token: str | None = None) -> AdminClient:
    """The running server's admin API if there is one, else the store in-process."""
    from omni.admin.token import read_admin_token

    if url:
        return HttpAdminClient(url.rstrip("/"), token or read_admin_token(settings.paths))
    from omni.process import find_server

    info = find_server(settings)
    if info is not None:
        return HttpAdminClient(info.url, read_admin_token(settings.paths))
    return LocalAdminClient(settings)
