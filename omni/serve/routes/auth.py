"""Admin login and access toggles: ``/api/auth/*``, ``/api/settings/require-login``,
``/api/settings/require-api-key`` and the lockout list ``/api/policies``.

``POST /api/auth/login`` sets the ``auth_token`` cookie (HttpOnly, SameSite=Strict) and
also returns the token for clients that send it as ``Authorization: Bearer``. Login,
logout and status are public; the rest is behind the management check.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from omni.admin import Actor
from omni.admin.access import REQUIRE_API_KEY, REQUIRE_LOGIN, is_loopback
from omni.admin.auth import AuthService
from omni.errors import InvalidInputError
from omni.serve import keys
from omni.serve.guard import CALLER, SESSION_COOKIE, actor_of, client_ip, identify
from omni.serve.routes._admin import json_fields, run_service


def _service(request: web.Request) -> AuthService:
    return AuthService(request.app[keys.ADMIN], actor_of(request))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


async def login(request: web.Request) -> web.Response:
    args = await json_fields(request, {"password": str})
    password = args.get("password")
    if not password:
        raise InvalidInputError("field 'password' is required")
    service, ip = _service(request), client_ip(request)
    await run_service(request, lambda: service.login(password, ip))
    sessions = request.app[keys.ACCESS].sessions
    token, expires = await run_service(request, lambda: sessions.create(ip))
    response = web.json_response(
        {"authenticated": True, "token": token, "expires_at": _iso(expires)}
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(sessions.ttl_s),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )
    return response


async def logout(request: web.Request) -> web.Response:
    access, ip = request.app[keys.ACCESS], client_ip(request)
    caller = identify(request, access)
    ended = False
    if caller is not None and caller.session is not None:
        token = caller.session
        ended = await run_service(request, lambda: access.sessions.end(token))
    if ended:
        await run_service(
            request, AuthService(request.app[keys.ADMIN], Actor("admin", ip)).record_logout
        )
    response = web.json_response({"authenticated": False, "ended": ended})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def status(request: web.Request) -> web.Response:
    access = request.app[keys.ACCESS]
    caller = identify(request, access)
    service = _service(request)
    password_set = await run_service(request, service.password_set)
    return web.json_response(
        {
            "authenticated": caller is not None and caller.method != "anonymous",
            "method": caller.method if caller else None,
            "access": caller is not None,
            "requireLogin": access.require_login,
            "passwordSet": password_set,
            "loopbackListener": is_loopback(request.app[keys.SETTINGS].host),
        }
    )


async def set_password(request: web.Request) -> web.Response:
    args = await json_fields(request, {"password": str, "current": str})
    if "password" not in args:
        raise InvalidInputError("field 'password' is required")
    service = _service(request)
    caller, current = CALLER.get(), args.get("current")
    if caller is not None and caller.method == "session" and current is None:
        # A logged-in browser must prove it knows the password it replaces.
        raise InvalidInputError("field 'current' (the current password) is required")
    result = await run_service(request, lambda: service.set_password(args["password"], current))
    return web.json_response(result)


async def get_require_login(request: web.Request) -> web.Response:
    toggles = await run_service(request, _service(request).toggles)
    return web.json_response(_login_view(request, toggles["requireLogin"]))


async def put_require_login(request: web.Request) -> web.Response:
    value = (await json_fields(request, {"requireLogin": bool})).get("requireLogin")
    if value is None:
        raise InvalidInputError("field 'requireLogin' (true or false) is required")
    service = _service(request)
    toggles = await run_service(
        request, lambda: service.set_toggle(REQUIRE_LOGIN, value), changes=True
    )
    return web.json_response(_login_view(request, toggles["requireLogin"]))


def _login_view(request: web.Request, require: bool) -> dict[str, object]:
    loopback = is_loopback(request.app[keys.SETTINGS].host)
    return {
        "requireLogin": require,
        "anonymousLoopback": loopback and not require,
        "note": None
        if loopback
        else "the server listens beyond loopback, so anonymous management calls are "
        "refused whatever this setting says",
    }


async def get_require_api_key(request: web.Request) -> web.Response:
    toggles = await run_service(request, _service(request).toggles)
    return web.json_response(_key_view(toggles))


async def put_require_api_key(request: web.Request) -> web.Response:
    value = (await json_fields(request, {"requireApiKey": bool})).get("requireApiKey")
    if value is None:
        raise InvalidInputError("field 'requireApiKey' (true or false) is required")
    service = _service(request)
    toggles = await run_service(
        request, lambda: service.set_toggle(REQUIRE_API_KEY, value), changes=True
    )
    return web.json_response(_key_view(toggles))


def _key_view(toggles: dict[str, bool]) -> dict[str, bool]:
    return {
        "requireApiKey": toggles["requireApiKey"],
        "setting": toggles["requireApiKeySetting"],
        "config": toggles["requireApiKeyConfig"],
    }


async def list_lockouts(request: web.Request) -> web.Response:
    return web.json_response({"lockouts": await run_service(request, _service(request).lockouts)})


async def unlock(request: web.Request) -> web.Response:
    service, ip = _service(request), request.match_info["ip"]
    return web.json_response(await run_service(request, lambda: service.unlock(ip)))


def setup(app: web.Application) -> None:
    app.router.add_post("/api/auth/login", login)
    app.router.add_post("/api/auth/logout", logout)
    app.router.add_get("/api/auth/status", status)
    app.router.add_post("/api/auth/password", set_password)
    app.router.add_get("/api/settings/require-login", get_require_login)
    app.router.add_put("/api/settings/require-login", put_require_login)
    app.router.add_get("/api/settings/require-api-key", get_require_api_key)
    app.router.add_put("/api/settings/require-api-key", put_require_api_key)
    app.router.add_get("/api/policies", list_lockouts)
    app.router.add_delete("/api/policies/{ip}", unlock)
