"""Combo management: ``/api/combos`` (list, create) and ``/api/combos/{name}`` (show, edit,
remove).

Thin: validate the JSON shape, run the service on a worker thread, reload the routing
snapshot after a change so the combo answers at once.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from omni.admin.combos import ComboService
from omni.errors import InvalidInputError
from omni.serve import keys
from omni.serve.guard import actor_of
from omni.serve.routes._admin import json_fields, run_service

_CREATE_FIELDS: dict[str, type] = {"name": str, "steps": list, "strategy": str, "config": dict}
_EDIT_FIELDS: dict[str, type] = {"steps": list, "strategy": str, "config": dict}


async def _body(request: web.Request, fields: dict[str, type]) -> dict[str, Any]:
    args = await json_fields(request, fields)
    if any(not isinstance(s, str) for s in args.get("steps") or []):
        raise InvalidInputError("field 'steps' must be a list of strings")
    return args


def _service(request: web.Request) -> ComboService:
    return ComboService(request.app[keys.ADMIN], actor_of(request))


async def list_combos(request: web.Request) -> web.Response:
    return web.json_response({"combos": await run_service(request, _service(request).list_all)})


async def create_combo(request: web.Request) -> web.Response:
    args = await _body(request, _CREATE_FIELDS)
    if "name" not in args:
        raise InvalidInputError("field 'name' is required")
    if "steps" not in args:
        raise InvalidInputError("field 'steps' is required: the models to try, in order")
    service = _service(request)
    result = await run_service(request, lambda: service.create(**args), changes=True)
    return web.json_response(result, status=201)


async def get_combo(request: web.Request) -> web.Response:
    service, name = _service(request), request.match_info["name"]
    return web.json_response(await run_service(request, lambda: service.get(name)))


async def edit_combo(request: web.Request) -> web.Response:
    args = await _body(request, _EDIT_FIELDS)
    service, name = _service(request), request.match_info["name"]
    return web.json_response(
        await run_service(request, lambda: service.edit(name, **args), changes=True)
    )


async def delete_combo(request: web.Request) -> web.Response:
    service, name = _service(request), request.match_info["name"]
    return web.json_response(await run_service(request, lambda: service.remove(name), changes=True))


def setup(app: web.Application) -> None:
    app.router.add_get("/api/combos", list_combos)
    app.router.add_post("/api/combos", create_combo)
    app.router.add_get("/api/combos/{name}", get_combo)
    app.router.add_put("/api/combos/{name}", edit_combo)
    app.router.add_delete("/api/combos/{name}", delete_combo)
