"""Local API keys: ``/api/keys`` (list, create) and ``/api/keys/{id}`` (show, edit, revoke).

The key itself is in the answer to the create call only. Changes reload the access
snapshot at once, so a new key works (and a revoked one stops working) on the next request.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from omni.admin.keys import KeyService
from omni.errors import InvalidInputError
from omni.serve import keys
from omni.serve.guard import actor_of
from omni.serve.routes._admin import json_fields, run_service

_EDIT_FIELDS: dict[str, type] = {
    "name": str,
    "models": list,
    "scopes": list,
    "expires_at": str,
    "enabled": bool,
}
_CREATE_FIELDS = {k: v for k, v in _EDIT_FIELDS.items() if k != "enabled"}


async def _body(request: web.Request, fields: dict[str, type]) -> dict[str, Any]:
    args = await json_fields(request, fields)
    for name in ("models", "scopes"):
        if any(not isinstance(v, str) for v in args.get(name) or []):
            raise InvalidInputError(f"field '{name}' must be a list of strings")
    return args


def _service(request: web.Request) -> KeyService:
    return KeyService(request.app[keys.ADMIN], actor_of(request))


async def list_keys(request: web.Request) -> web.Response:
    return web.json_response({"keys": await run_service(request, _service(request).list_all)})


async def create_key(request: web.Request) -> web.Response:
    args = await _body(request, _CREATE_FIELDS)
    name = args.pop("name", None)
    if name is None:
        raise InvalidInputError("field 'name' is required")
    service = _service(request)
    result = await run_service(request, lambda: service.create(name, **args), changes=True)
    return web.json_response(result, status=201)


async def get_key(request: web.Request) -> web.Response:
    service, ident = _service(request), request.match_info["key_id"]
    return web.json_response(await run_service(request, lambda: service.get(ident)))


async def edit_key(request: web.Request) -> web.Response:
    args = await _body(request, _EDIT_FIELDS)
    service, ident = _service(request), request.match_info["key_id"]
    return web.json_response(
        await run_service(request, lambda: service.edit(ident, **args), changes=True)
    )


async def revoke_key(request: web.Request) -> web.Response:
    service, ident = _service(request), request.match_info["key_id"]
    return web.json_response(
        await run_service(request, lambda: service.revoke(ident), changes=True)
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/api/keys", list_keys)
    app.router.add_post("/api/keys", create_key)
    app.router.add_get("/api/keys/{key_id}", get_key)
    app.router.add_patch("/api/keys/{key_id}", edit_key)
    app.router.add_put("/api/keys/{key_id}", edit_key)
    app.router.add_delete("/api/keys/{key_id}", revoke_key)
