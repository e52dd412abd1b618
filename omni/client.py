"""The admin client: one interface, two ways to reach the management operations.

``HttpAdminClient`` talks to a running server (local, authenticated with the admin token
file, or remote with ``--url``); ``LocalAdminClient`` calls the service layer in-process on
the store when no server runs. Both return the same JSON-ready values, so every CLI
command is one code path. :func:`connect` picks the right one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from omni.client_evals import EvalsAdmin, HttpEvalsMixin, LocalEvalsMixin
from omni.client_models import HttpModelsMixin, LocalModelsMixin, ModelsAdmin
from omni.client_oauth import HttpOAuthMixin, LocalOAuthMixin, OAuthAdmin
from omni.client_ops import HttpOpsMixin, LocalOpsMixin, OpsAdmin
from omni.client_usage import HttpUsageMixin, LocalUsageMixin, UsageAdmin, segment
from omni.config import Settings
from omni.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    OmniError,
    ServerNotRunningError,
)

Progress = Callable[[int, int | None], None]
"""Told (bytes done, bytes in all if known) as a file moves; for progress bars."""

if TYPE_CHECKING:
    from omni.admin.auth import AuthService
    from omni.admin.keys import KeyService


class AdminClient(ModelsAdmin, UsageAdmin, OAuthAdmin, OpsAdmin, EvalsAdmin, Protocol):
    """Management operations available to the CLI and the TUI."""

    where: str

    def list_providers(self) -> list[dict[str, Any]]: ...
    def get_provider(self, name: str) -> dict[str, Any]: ...
    def add_provider(self, name: str, **fields: Any) -> dict[str, Any]: ...
    def remove_provider(self, name: str) -> dict[str, Any]: ...
    def list_combos(self) -> list[dict[str, Any]]: ...
    def get_combo(self, name: str) -> dict[str, Any]: ...
    def create_combo(
        self,
        name: str,
        steps: list[str],
        strategy: str = "priority",
        config: dict[str, Any] | None = None,
    ) -> dict[str, Any]: ...
    def edit_combo(
        self,
        name: str,
        steps: list[str] | None = None,
        strategy: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> dict[str, Any]: ...
    def remove_combo(self, name: str) -> dict[str, Any]: ...
    def explain_route(self, model: str) -> dict[str, Any]: ...
    def resilience(self) -> dict[str, Any]: ...
    def reset_resilience(self) -> dict[str, Any]: ...
    def list_backups(self) -> list[dict[str, Any]]: ...
    def create_backup(self) -> dict[str, Any]: ...
    def restore_backup(self, name: str) -> dict[str, Any]: ...
    def export_backup(
        self, target: Path, full: bool = False, progress: Progress | None = None
    ) -> dict[str, Any]: ...
    def import_backup(self, source: Path, progress: Progress | None = None) -> dict[str, Any]: ...
    def list_keys(self) -> list[dict[str, Any]]: ...
    def get_key(self, key_id: str) -> dict[str, Any]: ...
    def create_key(self, name: str, **fields: Any) -> dict[str, Any]: ...
    def edit_key(self, key_id: str, **fields: Any) -> dict[str, Any]: ...
    def revoke_key(self, key_id: str) -> dict[str, Any]: ...
    def audit_log(
        self, action: str | None = None, limit: int = 100, before: int | None = None
    ) -> dict[str, Any]: ...
    def set_password(self, password: str) -> dict[str, Any]: ...
    def lockouts(self) -> list[dict[str, Any]]: ...
    def unlock(self, ip: str) -> dict[str, Any]: ...
    def close(self) -> None: ...


class LocalAdminClient(
    LocalModelsMixin, LocalUsageMixin, LocalOAuthMixin, LocalOpsMixin, LocalEvalsMixin
):
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
        self,
        name: str,
        steps: list[str],
        strategy: str = "priority",
        config: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self._combos.create(name, steps, strategy, config)

    def edit_combo(
        self,
        name: str,
        steps: list[str] | None = None,
        strategy: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self._combos.edit(name, steps=steps, strategy=strategy, config=config)

    def remove_combo(self, name: str) -> dict[str, Any]:
        return self._combos.remove(name)

    def explain_route(self, model: str) -> dict[str, Any]:
        from omni.admin.routing import RouteService

        return RouteService(self._ctx).explain(model)

    def resilience(self) -> dict[str, Any]:
        from omni.admin.routing import RouteService
        from omni.gateway.policy import Policy, parse_resilience

        stored = RouteService(self._ctx).policy()["resilience"]
        profiles = Policy(**parse_resilience(stored)).profiles
        # Nothing rests without a running server: cooldowns and circuits live in it.
        return {
            "settings": stored,
            "profiles": {
                n: {"failures": p.failures, "open_s": p.open_s} for n, p in profiles.items()
            },
            "breakers": {},
            "cooldowns": [],
        }

    def reset_resilience(self) -> dict[str, Any]:
        return {"reset": False}

    def _backups(self) -> Any:
        from omni.admin.backups import BackupService

        return BackupService(self._ctx, actor="cli")

    def list_backups(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._backups().list_all()
        return result

    def create_backup(self) -> dict[str, Any]:
        result: dict[str, Any] = self._backups().create()
        return result

    def restore_backup(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self._backups().restore(name)
        return result

    def export_backup(
        self, target: Path, full: bool = False, progress: Progress | None = None
    ) -> dict[str, Any]:
        service = self._backups()
        result: dict[str, Any] = service.export_all(target) if full else service.export(target)
        if progress is not None:
            progress(result["size"], result["size"])
        return result

    def import_backup(self, source: Path, progress: Progress | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._backups().import_file(source, source.name)
        if progress is not None:
            size = source.stat().st_size
            progress(size, size)
        return result

    def list_keys(self) -> list[dict[str, Any]]:
        return self._keys().list_all()

    def get_key(self, key_id: str) -> dict[str, Any]:
        return self._keys().get(key_id)

    def create_key(self, name: str, **fields: Any) -> dict[str, Any]:
        return self._keys().create(name, **fields)

    def edit_key(self, key_id: str, **fields: Any) -> dict[str, Any]:
        return self._keys().edit(key_id, **fields)

    def revoke_key(self, key_id: str) -> dict[str, Any]:
        return self._keys().revoke(key_id)

    def audit_log(
        self, action: str | None = None, limit: int = 100, before: int | None = None
    ) -> dict[str, Any]:
        from omni.admin.audit import AuditService

        return AuditService(self._ctx).entries(action, limit, before)

    def set_password(self, password: str) -> dict[str, Any]:
        return self._auth().set_password(password)

    def lockouts(self) -> list[dict[str, Any]]:
        return self._auth().lockouts()

    def unlock(self, ip: str) -> dict[str, Any]:
        return self._auth().unlock(ip)

    def _keys(self) -> KeyService:
        from omni.admin.keys import KeyService

        return KeyService(self._ctx)

    def _auth(self) -> AuthService:
        from omni.admin.auth import AuthService

        return AuthService(self._ctx)

    def close(self) -> None:
        pass


_ERRORS: dict[int, type[OmniError]] = {
    400: InvalidInputError,
    401: AuthError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
}


class HttpAdminClient(
    HttpModelsMixin, HttpUsageMixin, HttpOAuthMixin, HttpOpsMixin, HttpEvalsMixin
):
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
        _raise_for(response)
        try:
            return response.json()
        except ValueError:
            return None

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
        self,
        name: str,
        steps: list[str],
        strategy: str = "priority",
        config: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        body = {"name": name, "steps": steps, "strategy": strategy, "config": config}
        result: dict[str, Any] = self._call("POST", "/api/combos", body)
        return result

    def edit_combo(
        self,
        name: str,
        steps: list[str] | None = None,
        strategy: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        fields = (("steps", steps), ("strategy", strategy), ("config", config))
        body = {k: v for k, v in fields if v is not None}
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

    def list_backups(self) -> list[dict[str, Any]]:
        backups: list[dict[str, Any]] = self._call("GET", "/api/db-backups")["backups"]
        return backups

    def create_backup(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PUT", "/api/db-backups")
        return result

    def restore_backup(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/api/db-backups", {"name": name})
        return result

    def export_backup(
        self, target: Path, full: bool = False, progress: Progress | None = None
    ) -> dict[str, Any]:
        import os

        import httpx

        path = "/api/db-backups/exportAll" if full else "/api/db-backups/export"
        part = target.with_name(f".{target.name}.part")
        try:
            with self._http.stream("GET", path, timeout=httpx.Timeout(30, read=600)) as response:
                if response.status_code >= 400:
                    response.read()
                    _raise_for(response)
                total = int(response.headers.get("Content-Length") or 0) or None
                done = 0
                fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    for chunk in response.iter_bytes(1 << 20):
                        handle.write(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(done, total)
            part.replace(target)
        except httpx.HTTPError as exc:
            part.unlink(missing_ok=True)
            raise ServerNotRunningError(
                f"the export from {self._http.base_url} failed: {type(exc).__name__}"
            ) from None
        return {"file": str(target), "size": done}

    def import_backup(self, source: Path, progress: Progress | None = None) -> dict[str, Any]:
        import httpx

        try:
            total = source.stat().st_size
        except OSError as exc:
            raise InvalidInputError(f"cannot read {source}: {exc.strerror}") from None

        def chunks() -> Iterator[bytes]:
            done = 0
            with source.open("rb") as handle:
                while block := handle.read(1 << 20):
                    done += len(block)
                    if progress is not None:
                        progress(done, total)
                    yield block

        try:
            response = self._http.post(
                "/api/db-backups/import",
                params={"name": source.name},
                content=chunks(),
                headers={"Content-Type": "application/vnd.sqlite3", "Content-Length": str(total)},
                timeout=httpx.Timeout(30, read=600, write=600),
            )
        except httpx.HTTPError as exc:
            raise ServerNotRunningError(
                f"the import to {self._http.base_url} failed: {type(exc).__name__}"
            ) from None
        _raise_for(response)
        result: dict[str, Any] = response.json()
        return result

    def list_keys(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call("GET", "/api/keys")["keys"]
        return found

    def get_key(self, key_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/api/keys/{segment(key_id)}")
        return result

    def create_key(self, name: str, **fields: Any) -> dict[str, Any]:
        body = {"name": name, **{k: v for k, v in fields.items() if v is not None}}
        result: dict[str, Any] = self._call("POST", "/api/keys", body)
        return result

    def edit_key(self, key_id: str, **fields: Any) -> dict[str, Any]:
        body = {k: v for k, v in fields.items() if v is not None}
        result: dict[str, Any] = self._call("PATCH", f"/api/keys/{segment(key_id)}", body)
        return result

    def revoke_key(self, key_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("DELETE", f"/api/keys/{segment(key_id)}")
        return result

    def audit_log(
        self, action: str | None = None, limit: int = 100, before: int | None = None
    ) -> dict[str, Any]:
        from urllib.parse import urlencode

        query = {"action": action, "limit": limit, "before": before}
        params = urlencode({k: v for k, v in query.items() if v is not None})
        result: dict[str, Any] = self._call("GET", f"/api/compliance/audit-log?{params}")
        return result

    def set_password(self, password: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/api/auth/password", {"password": password})
        return result

    def lockouts(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call("GET", "/api/policies")["lockouts"]
        return found

    def unlock(self, ip: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("DELETE", f"/api/policies/{segment(ip)}")
        return result

    def close(self) -> None:
        self._http.close()


def _raise_for(response: Any) -> None:
    """Raise the error a failed answer of the admin API stands for."""
    if response.status_code < 400:
        return
    message = f"server answered HTTP {response.status_code}"
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        message = str(data["error"].get("message", message))
    raise _ERRORS.get(response.status_code, OmniError)(message)


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
