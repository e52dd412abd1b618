"""Middlewares: errors in the caller's dialect, and the access gate.

``admin_auth`` guards the management API (``/api/*``: admin token, login session,
admin-scoped key, or anonymous under the loopback rule) and, when keys are required, the
client API (see :mod:`omni.serve.guard`).

Every failure leaves the server as that dialect's error body with a fitting status: an
:class:`~omni.errors.OmniError` keeps its status, aiohttp's own HTTP errors (413 body too
large, 404, 405) keep theirs, and anything unexpected is logged and answered 500 without
internals. A client never sees a stack trace.
"""

from __future__ import annotations

import logging
import math

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler

from omni.errors import OmniError
from omni.ir import Dialect
from omni.serve import guard, ipfilter, keys
from omni.translate.errors import error_body

log = logging.getLogger("omni.serve")

PUBLIC_API = frozenset(
    {
        "/api/monitoring/health",
        "/api/auth/login",
        "/api/auth/logout",
        "/api/auth/status",
        "/api/openapi.json",
        # the sync bundle: its handler checks the sync token or a management caller
        "/api/sync/cloud",
        "/api/sync/bundle",
        "/api/cloud/bundle",
    }
)
_GEMINI_METHODS = frozenset({"countTokens", "embedContent", "batchEmbedContents"})


def dialect_of(path: str) -> Dialect:
    """The dialect a caller of ``path`` speaks (for error bodies)."""
    if path.startswith("/v1/messages"):
        return Dialect.ANTHROPIC
    if path.startswith("/v1beta/") or ":generateContent" in path or ":streamGenerate" in path:
        return Dialect.GEMINI
    if path.startswith("/v1/models/") and path.rpartition(":")[2] in _GEMINI_METHODS:
        return Dialect.GEMINI  # google-genai 3.x: /v1/models/{model}:countTokens …
    if path.startswith(("/api/chat", "/v1/api/", "/api/tags", "/api/show", "/api/embed")):
        return Dialect.OLLAMA
    if path.startswith(("/v1/responses", "/responses")):
        return Dialect.OPENAI_RESPONSES
    return Dialect.OPENAI_CHAT


def error_response(
    path: str,
    status: int,
    message: str,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    return web.Response(
        status=status,
        body=error_body(dialect_of(path), status, message, code),
        content_type="application/json",
        headers=headers,
    )


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Exception as exc:  # noqa: BLE001 - rendered, or re-raised, by failure()
        return failure(exc, request.method, request.path, request.app)


def failure(exc: Exception, method: str, path: str, app: web.Application) -> web.Response:
    """The answer to a request that raised ``exc`` (re-raised if it is not a failure: a
    redirect, or the client gone)."""
    if isinstance(exc, OmniError):
        message = f"{exc.message} ({exc.hint})" if exc.hint else exc.message
        retry = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(math.ceil(retry))} if retry else None
        return error_response(path, exc.status, message, exc.code, headers)
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        limit = app[keys.SETTINGS].max_body_mb
        return (
            error_response(path, 413, f"request body too large: the limit is {limit} MiB", None)
            if exc.status == 413
            else error_response(path, exc.status, exc.reason)
        )
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:
            raise exc
        reason = exc.text if exc.text and not exc.text.startswith(str(exc.status)) else exc.reason
        if exc.status == 404:
            reason = f"no such endpoint: {method} {path}"
        elif exc.status == 405:
            reason = f"method {method} is not allowed on {path}"
        return error_response(path, exc.status, reason)
    if isinstance(exc, HttpProcessingError):  # a malformed body part, read lazily
        status = exc.code if 400 <= exc.code < 500 else 400
        return error_response(path, status, f"malformed request: {exc.message[:200]}")
    if isinstance(exc, ConnectionResetError):
        raise exc
    log.exception("unexpected error serving %s %s", method, path, exc_info=exc)
    return error_response(path, 500, "internal error in omni; see the server log")


def refused(app: web.Application, path: str, remote: str | None) -> web.Response | None:
    """The IP filter's answer to a caller it refuses, else None; brings the filter and the
    API-key state up to date with the config first."""
    version = app[keys.GATEWAY].registry.version
    state = app[keys.IP_FILTER]
    if state.version != version:
        state = ipfilter.refresh(app)
    access = app[keys.ACCESS]
    if access.version != version:  # keys or toggles may have changed
        access.refresh(version)
    if state.rules.mode != "off" and not state.rules.allows(remote):
        return error_response(
            path,
            403,
            f"requests from {remote} are not allowed by this server's IP filter",
            "ip_not_allowed",
        )
    return None


@web.middleware
async def admin_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who may call what: the IP filter first, then management auth or API keys (one
    middleware, not two, so every request pays for one coroutine level only)."""
    path = request.path
    refusal = refused(request.app, path, request.remote)
    if refusal is not None:
        return refusal
    access = request.app[keys.ACCESS]
    if path.startswith("/api/") and not _is_ollama(path):
        if path not in PUBLIC_API:
            caller = guard.identify(request, access)
            if caller is None:
                return error_response(
                    path,
                    401,
                    "the management API needs a login (POST /api/auth/login), an admin-scoped "
                    "API key or the local admin token (the omni CLI sends it for you)",
                    "admin_auth_required",
                )
            token = guard.CALLER.set(caller)
            try:
                return await handler(request)
            finally:
                guard.CALLER.reset(token)
    elif access.require_api_key:
        return await guard.client_api(request, handler, access)
    return await handler(request)


def _is_ollama(path: str) -> bool:
    return path in ("/api/chat", "/api/tags", "/api/show", "/api/embed", "/api/generate")
