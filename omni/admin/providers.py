"""Provider management: add a provider account, list, show and remove providers.

A name that is a catalog id or alias (``openai``, ``anthropic``…) takes format, base URL
and auth style from the catalog; any other name is a custom provider and needs
``base_url``. The API key is encrypted before it reaches the store, or only the name of
the environment variable that holds it is kept. Adding also tries to read the provider's
model list, so ``/v1/models`` shows what it serves.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

from omni.admin import CLI, Actor, AdminContext
from omni.errors import InvalidInputError, NotFoundError
from omni.providers.catalog import FORMATS, load_catalog
from omni.providers.http import USER_AGENT, auth_headers
from omni.store import audit
from omni.store import providers as repo

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(f"base URL {url!r} must be an http:// or https:// URL with a host")
    return url.rstrip("/")


class ProviderService:
    """Add, list, show and remove providers and their accounts."""

    def __init__(self, ctx: AdminContext, actor: Actor = CLI) -> None:
        self.ctx = ctx
        self.actor = actor

    def add(
        self,
        name: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_env: str | None = None,
        format: str | None = None,
        account: str = "default",
        models: list[str] | None = None,
        sync_models: bool = True,
    ) -> dict[str, Any]:
        """Create or update provider ``name`` and store (or replace) one of its accounts."""
        if not _NAME.match(name or ""):
            raise InvalidInputError(
                f"invalid provider name {name!r}: use lower-case letters, digits, '.', '_' "
                "or '-' (it becomes the model prefix, as in 'name/model')"
            )
        if not _NAME.match(account or ""):
            raise InvalidInputError(f"invalid account name {account!r}")
        if api_key and api_key_env:
            raise InvalidInputError("give either an API key or the variable that holds it")
        if api_key_env and not _ENV.match(api_key_env):
            raise InvalidInputError(f"invalid environment variable name {api_key_env!r}")
        if format is not None and format not in FORMATS:
            raise InvalidInputError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
        spec = load_catalog().get(name)
        if spec is not None:
            if format is not None and format != spec.format:
                raise InvalidInputError(
                    f"'{spec.id}' is a catalog provider speaking '{spec.format}'; "
                    f"to use '{format}', add it under another name with --base-url"
                )
            provider_id, fmt = spec.id, spec.format
            if not (api_key or api_key_env or spec.local or spec.auth == "none"):
                raise InvalidInputError(
                    f"provider '{spec.id}' needs a key: pass --api-key or --api-key-env"
                )
        else:
            if not base_url:
                raise InvalidInputError(
                    f"'{name}' is not in the catalog, so it needs --base-url",
                    hint="run 'omni providers catalog' to see the built-in providers",
                )
            provider_id, fmt = name, format or "openai"
        url = _check_url(base_url) if base_url else None
        secret = self.ctx.secrets.encrypt(api_key) if api_key else None
        auth_type = "api_key" if api_key else "env" if api_key_env else "none"
        with self.ctx.db.transaction() as conn:
            existing = repo.get_provider(conn, provider_id)
            provider_url = (
                url if spec is None else (url or (existing.base_url if existing else None))
            )
            repo.upsert_provider(
                conn,
                provider_id,
                catalog_id=spec.id if spec else None,
                format=fmt,
                base_url=provider_url,
                headers=existing.headers if existing else None,
            )
            repo.upsert_account(
                conn,
                provider_id,
                account,
                auth_type=auth_type,
                secret=secret,
                secret_env=api_key_env,
                base_url=None,
            )
            if models:
                repo.replace_models(conn, provider_id, models, "user")
            audit.record(
                conn, self.actor.name, "provider.add", target=provider_id, ip=self.actor.ip,
                detail={"account": account, "auth": auth_type, "new": existing is None},
            )  # fmt: skip
        warnings: list[str] = []
        if sync_models and fmt == "openai":
            effective = (
                self.ctx.settings.provider_base_url(provider_id)
                or provider_url
                or (spec.base_url if spec else "")
            )
            key = api_key or (os.environ.get(api_key_env) if api_key_env else None)
            style = spec.auth if spec else "bearer"
            try:
                found = fetch_openai_models(effective, auth_headers(style, key))
            except InvalidInputError as exc:
                warnings.append(exc.message)
            else:
                with self.ctx.db.transaction() as conn:
                    repo.replace_models(conn, provider_id, found, "sync")
        result = self.get(provider_id)
        result["warnings"] = warnings
        return result

    def list_all(self) -> list[dict[str, Any]]:
        with self.ctx.db.session() as conn:
            return [self._describe(conn, row) for row in repo.list_providers(conn)]

    def get(self, name: str) -> dict[str, Any]:
        with self.ctx.db.session() as conn:
            row = repo.get_provider(conn, self._id(name))
            if row is None:
                raise NotFoundError(f"no provider named '{name}'", hint="see 'omni providers list'")
            return self._describe(conn, row)

    def remove(self, name: str) -> dict[str, Any]:
        described = self.get(name)
        with self.ctx.db.transaction() as conn:
            repo.delete_provider(conn, described["id"])
            audit.record(
                conn, self.actor.name, "provider.remove", target=described["id"], ip=self.actor.ip
            )
        return described

    @staticmethod
    def _id(name: str) -> str:
        spec = load_catalog().get(name)
        return spec.id if spec is not None else name

    @staticmethod
    def _describe(conn: Any, row: repo.ProviderRow) -> dict[str, Any]:
        spec = load_catalog().get(row.catalog_id) if row.catalog_id else None
        accounts = [
            {
                "id": a.id,
                "name": a.name,
                "auth": a.auth_type if a.auth_type != "env" else f"env:{a.secret_env}",
                "enabled": a.enabled,
                "priority": a.priority,
                "created_at": a.created_at,
            }
            for a in repo.list_accounts(conn, row.id)
        ]
        models = [m for _, m in repo.list_models(conn, row.id)]
        if spec is not None:
            models += [m.id for m in spec.models if m.id not in models]
        return {
            "id": row.id,
            "catalog_id": row.catalog_id,
            "format": row.format,
            "base_url": row.base_url or (spec.base_url if spec else None),
            "enabled": row.enabled,
            "accounts": accounts,
            "models": models,
            "created_at": row.created_at,
        }


def fetch_openai_models(base_url: str, headers: dict[str, str], timeout: float = 5.0) -> list[str]:
    """The model ids an OpenAI-compatible ``/models`` endpoint lists."""
    import httpx

    url = base_url.rstrip("/") + "/models"
    try:
        response = httpx.get(url, headers={**headers, "User-Agent": USER_AGENT}, timeout=timeout)
    except httpx.HTTPError as exc:
        raise InvalidInputError(
            f"could not list models at {url}: {type(exc).__name__}; add them with --models"
        ) from None
    if response.status_code != 200:
        raise InvalidInputError(
            f"could not list models at {url}: HTTP {response.status_code}; add them with --models"
        )
    try:
        data = response.json().get("data", [])
        return [str(item["id"]) for item in data if isinstance(item, dict) and "id" in item]
    except (ValueError, AttributeError):
        raise InvalidInputError(f"the model list at {url} is not OpenAI-shaped JSON") from None
