"""Request checks behind the ``admin_auth`` middleware: who is calling, and may they.

Management routes (``/api/*`` except the client API and public paths) accept, in order:
the local admin token (``Authorization: Bearer``), a login session (the ``auth_token``
cookie or the same token as Bearer), an admin-scoped API key (Bearer or ``x-api-key``),
and — only under :func:`~omni.admin.access.anonymous_allowed` — nobody at all.

The client API (``/v1/*``, ``/v1beta/*``, Ollama's ``/api/chat`` …) needs an omni API key
when the ``REQUIRE_API_KEY`` setting or toggle is on: ``Authorization: Bearer``,
``x-api-key``, ``x-goog-api-key`` or, for Gemini paths, ``?key=``. Refusals are answered
in the caller's dialect and never echo the key.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from omni.admin import Actor
from omni.admin.access import Access, KeyEntry, anonymous_allowed, normalize_ip
from omni.errors import AuthError, ForbiddenError, OmniError
from omni.gateway.usage import CURRENT_KEY
from omni.serve import keys

SESSION_COOKIE = "auth_token"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who passed the management check: ``actor`` for the audit log, ``method`` is one of
    ``token``, ``session``, ``key``, ``anonymous``; ``session`` holds its token."""

    actor: str
    method: str
    session: str | None = None


# The management caller of the request being served (set by the ``admin_auth`` middleware).
CALLER: ContextVar[Caller | None] = ContextVar("omni_caller", default=None)


def client_ip(request: web.Request) -> str | None:
    return normalize_ip(request.remote)


def actor_of(request: web.Request) -> Actor:
    caller = CALLER.get()
    return Actor(caller.actor if caller else "anonymous", client_ip(request))


def bearer(headers: Mapping[str, str]) -> str:
    given = headers.get("Authorization", "")
    return given[7:].strip() if given[:7].lower() == "bearer " else ""


def identify(request: web.Request, access: Access) -> Caller | None:
    """The management caller this request authenticates as, or None."""
    import hmac

    token = bearer(request.headers)
    if token:
        admin_token = request.app[keys.ADMIN_TOKEN]
        if hmac.compare_digest(token.encode(), admin_token.encode()):
            return Caller("admin", "token")
        if not token.startswith("sk-") and access.sessions.valid(token):
            return Caller("admin", "session", token)
    key = token or request.headers.get("x-api-key", "").strip()
    if key.startswith("sk-"):
        entry = access.match(key)
        if entry is not None and entry.problem(time.time()) is None and "admin" in entry.scopes:
            return Caller(f"key:{entry.prefix}", "key")
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if cookie and access.sessions.valid(cookie):
        return Caller("admin", "session", cookie)
    bind_host = request.app[keys.SETTINGS].host
    if anonymous_allowed(access.require_login, bind_host, client_ip(request)):
        return Caller("anonymous", "anonymous")
    return None


def _refuse(kind: type[OmniError], message: str, code: str) -> OmniError:
    """An error the ``errors`` middleware renders in the caller's dialect."""
    error = kind(message)
    error.code = code
    return error


def client_key(request: web.Request) -> str:
    """The API key a client sent, in whichever header its SDK uses (or the query)."""
    key = header_key(request.headers)
    if key:
        return key
    path = request.path
    if path.startswith("/v1beta/") or ":generateContent" in path or ":streamGenerate" in path:
        return request.query.get("key", "").strip()  # Gemini clients without headers
    return ""


def header_key(headers: Mapping[str, str]) -> str:
    """The API key a client sent in whichever header its SDK uses."""
    key = bearer(headers)
    if key:
        return key
    for name in ("x-api-key", "x-goog-api-key"):
        value = headers.get(name, "").strip()
        if value:
            return value
    return ""


async def requested_model(request: web.Request) -> str | None:
    """The model a client API request asks for (path, JSON body or form), if any."""
    if request.method != "POST":
        return None
    path = request.path
    if "/models/" in path:  # Gemini: /v1beta/models/{model}:{method}
        tail = path.split("/models/", 1)[1]
        return tail.rpartition(":")[0] or tail
    if request.content_type.startswith("multipart/"):
        try:
            value = (await request.post()).get("model")
        except ValueError:
            return None  # the handler reports the broken form
        return value if isinstance(value, str) else None
    return json_model(await request.read())


def json_model(body: bytes) -> str | None:
    """The ``model`` of a JSON request body, if it has one."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None  # the handler reports the broken body
    model = data.get("model") if isinstance(data, dict) else None
    return model if isinstance(model, str) else None


def model_allowed(app: web.Application, entry: KeyEntry, model: str) -> bool:
    """The allowlist admits the name asked for, or every target it resolves to."""
    if entry.allows(model):
        return True
    try:
        plan = app[keys.GATEWAY].registry.plan(model)
    except OmniError:
        return False
    return bool(plan.targets) and all(
        entry.allows(f"{t.provider_id}/{t.model}") for t in plan.targets
    )


async def client_api(request: web.Request, handler: Handler, access: Access) -> web.StreamResponse:
    """Serve a client API request only with a usable key; tag its usage with the key."""
    entry = admit(client_key(request), access)
    if entry.models:
        check_model(request.app, entry, await requested_model(request))
    token = CURRENT_KEY.set(entry.id)
    try:
        return await handler(request)
    finally:
        CURRENT_KEY.reset(token)


def admit(key: str, access: Access) -> KeyEntry:
    """The entry of a usable client key with the chat scope; refusals raise."""
    if not key:
        raise _refuse(
            AuthError,
            "this omni server requires an API key: send it as 'Authorization: Bearer sk-…' "
            "(or in the x-api-key / x-goog-api-key header)",
            "missing_api_key",
        )
    entry = access.match(key)
    if entry is None:
        raise _refuse(
            AuthError, "invalid API key: this omni server does not know it", "invalid_api_key"
        )
    problem = entry.problem(time.time())
    if problem is not None:
        raise _refuse(
            AuthError,
            f"API key '{entry.name}' ({entry.prefix}…) is {problem}; ask for a new one",
            f"api_key_{problem}",
        )
    if "chat" not in entry.scopes:
        raise _refuse(
            ForbiddenError,
            f"API key '{entry.name}' has no 'chat' scope: it may only call the management API",
            "scope_missing",
        )
    return entry


def check_model(app: web.Application, entry: KeyEntry, model: str | None) -> None:
    """Refuse a model the key's allowlist does not admit (None: no model asked for)."""
    if model is not None and not model_allowed(app, entry, model):
        raise _refuse(
            ForbiddenError,
            f"model '{model}' is not allowed for API key '{entry.name}' "
            f"(allowed: {', '.join(entry.models)})",
            "model_not_allowed",
        )
