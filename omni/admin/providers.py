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

from omni.admin import CLI, Actor, AdminContext
from omni.errors import InvalidInputError, NotFoundError
from omni.providers.catalog import FORMATS, load_catalog
from omni.providers.http import USER_AGENT, auth_headers
from omni.providers.proxy import check_proxy_url, has_password, mask_url, open_sealed
from omni.providers.urlguard import check_url
from omni.store import audit
from omni.store import providers as repo

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


_HEADER = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
_SECRET_HEADER = re.compile(r"auth|key|token|secret|cookie|password", re.IGNORECASE)
_RESERVED_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


def guard_url(ctx: AdminContext, url: str, what: str = "base URL") -> str:
    """``url`` checked by the SSRF guard; a refusal is written to the audit log."""
    try:
        return check_url(url, allow_private=ctx.settings.allow_private_urls, what=what)
    except InvalidInputError as exc:
        if "omni will not call it" in exc.message:
            with ctx.db.transaction() as conn:
                audit.record(
                    conn, "admin", "provider.validation.ssrf_blocked", target=url,
                    outcome="denied", detail={"reason": exc.message},
                )  # fmt: skip
        raise


def check_headers(headers: object) -> dict[str, str]:
    """Extra headers for a provider: a mapping of valid header names to strings."""
    if not isinstance(headers, dict):
        raise InvalidInputError("headers must be an object of header names to strings")
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER.match(name):
            raise InvalidInputError(f"invalid header name {name!r}")
        if name.lower() in _RESERVED_HEADERS:
            raise InvalidInputError(f"header {name!r} is set by omni itself")
        if not isinstance(value, str) or "\n" in value or "\r" in value:
            raise InvalidInputError(f"header {name!r} needs a one-line string value")
    return dict(headers)


def check_path(path: object, what: str) -> str:
    """A path under the base URL, such as '/chat/completions' or '/v2/chat?x=1'."""
    if not isinstance(path, str) or not path.startswith("/") or "://" in path:
        raise InvalidInputError(f"{what} must be a path starting with '/', not {path!r}")
    if any(c.isspace() for c in path) or len(path) > 300:
        raise InvalidInputError(f"{what} {path!r} must be one word of at most 300 characters")
    return path


def check_api_key(key: str | None) -> str | None:
    """An upstream API key as given, if it can travel in an HTTP header at all."""
    if key is None:
        return None
    if (
        not isinstance(key, str)
        or not 0 < len(key) <= 8192
        or not key.isascii()
        or any(not 33 <= ord(c) <= 126 for c in key)
    ):
        raise InvalidInputError(
            "an API key is one word of printable ASCII characters (no spaces or accents)"
        )
    return key


def is_secret_header(name: str) -> bool:
    """Whether a header of this name carries a credential (masked, never exported)."""
    return bool(_SECRET_HEADER.search(name))


def masked_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: "***" if _SECRET_HEADER.search(k) else v for k, v in headers.items()}


def seal_proxy(ctx: AdminContext, url: str | None) -> str | None:
    """A proxy URL as stored: checked, and encrypted when it holds a password."""
    if not url:
        return None
    url = check_proxy_url(url)
    return ctx.secrets.encrypt(url) if has_password(url) else url


def shown_proxy(ctx: AdminContext, stored: str | None) -> str | None:
    """A stored proxy URL for output: decrypted, with its password masked."""
    if stored and stored.startswith("enc:"):
        return mask_url(open_sealed(stored, ctx.secrets))
    return stored


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
        check_api_key(api_key or None)
        if api_key_env and not _ENV.match(api_key_env):
            raise InvalidInputError(f"invalid environment variable name {api_key_env!r}")
        if format is not None and format not in FORMATS:
            raise InvalidInputError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
        spec = load_catalog().get(name)
        if spec is not None and spec.auth == "oauth":
            raise InvalidInputError(
                f"'{spec.id}' is a subscription: it signs in with OAuth, not an API key",
                hint=f"run 'omni providers login {spec.id}' (or 'omni providers import …')",
            )
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
        url = guard_url(self.ctx, base_url) if base_url else None
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

    def edit(
        self,
        name: str,
        *,
        base_url: str | None = None,
        headers: dict[str, str] | None = None,
        enabled: bool | None = None,
        proxy: str | None = None,
        chat_path: str | None = None,
        models_path: str | None = None,
    ) -> dict[str, Any]:
        """Change a provider; an empty string clears ``base_url``, ``proxy`` or a path."""
        provider_id = self.get(name)["id"]
        fields: dict[str, Any] = {}
        if base_url is not None:
            fields["base_url"] = guard_url(self.ctx, base_url) if base_url else None
        if headers is not None:
            fields["headers"] = check_headers(headers)
        if enabled is not None:
            fields["enabled"] = bool(enabled)
        if proxy is not None:
            fields["proxy"] = seal_proxy(self.ctx, proxy)
        for key, value in (("chat_path", chat_path), ("models_path", models_path)):
            if value is not None:
                fields[key] = check_path(value, key.replace("_", " ")) if value else None
        if not fields:
            raise InvalidInputError(
                "nothing to change: give base_url, headers, enabled, proxy, chat_path "
                "or models_path"
            )
        with self.ctx.db.transaction() as conn:
            row = repo.get_provider(conn, provider_id)
            if row is not None and row.catalog_id and fields.get("chat_path"):
                raise InvalidInputError(
                    f"'{provider_id}' is a catalog provider; a chat path override is for "
                    "custom providers and nodes"
                )
            repo.update_provider(conn, provider_id, **fields)
        return self.get(provider_id)

    def edit_account(
        self,
        name: str,
        account: str,
        *,
        proxy: str | None = None,
        enabled: bool | None = None,
        base_url: str | None = None,
        priority: int | None = None,
    ) -> dict[str, Any]:
        """Change one account of a provider: its proxy, enabled flag, base URL, priority."""
        provider_id = self.get(name)["id"]
        fields: dict[str, Any] = {}
        if proxy is not None:
            fields["proxy"] = seal_proxy(self.ctx, proxy)
        if enabled is not None:
            fields["enabled"] = bool(enabled)
        if base_url is not None:
            fields["base_url"] = guard_url(self.ctx, base_url) if base_url else None
        if priority is not None:
            if isinstance(priority, bool) or not isinstance(priority, int) or abs(priority) > 10**6:
                raise InvalidInputError("priority must be a whole number from -1000000 to 1000000")
            fields["priority"] = priority
        if not fields:
            raise InvalidInputError("nothing to change: give proxy, enabled, base_url or priority")
        with self.ctx.db.transaction() as conn:
            if not repo.update_account(conn, provider_id, account, **fields):
                raise NotFoundError(
                    f"provider '{provider_id}' has no account named '{account}'",
                    hint=f"see 'omni providers show {provider_id}'",
                )
        return self.get(provider_id)

    def _describe(self, conn: Any, row: repo.ProviderRow) -> dict[str, Any]:
        spec = load_catalog().get(row.catalog_id) if row.catalog_id else None
        accounts = [
            {
                "id": a.id,
                "name": a.name,
                "auth": a.auth_type if a.auth_type != "env" else f"env:{a.secret_env}",
                "enabled": a.enabled,
                "priority": a.priority,
                "proxy": shown_proxy(self.ctx, a.proxy),
                "created_at": a.created_at,
                **(_login(a) if a.auth_type == "oauth" else {}),
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
            "node": row.node,
            "headers": masked_headers(row.headers),
            "chat_path": row.chat_path,
            "models_path": row.models_path,
            "proxy": shown_proxy(self.ctx, row.proxy),
            "accounts": accounts,
            "models": models,
            "created_at": row.created_at,
        }


def _login(account: repo.AccountRow) -> dict[str, Any]:
    """How an OAuth account stands: signed in (and until when) or needing a new login."""
    from datetime import UTC, datetime

    expires = account.expires_at
    return {
        "login": "needs login" if account.login_state == "needs_login" else "ok",
        "login_error": account.login_error,
        "expires_at": None
        if expires is None
        else datetime.fromtimestamp(expires, UTC).isoformat(timespec="seconds"),
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
