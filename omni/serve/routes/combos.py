"""Combo management: ``/api/combos`` (list, create) and ``/api/combos/{name}`` (show, edit,
remove).

Thin: validate the JSON shape, run the service on a worker thread, reload the routing
snapshot after a change so the combo answers at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from omni.admin.combos import ComboService
from omni.errors import InvalidInputError
from omni.serve import keys

T = TypeVar("T")

_CREATE_FIELDS: dict[str, type] = {"name": str, "steps": list, "strategy": str}
_EDIT_FIELDS: dict[str, type] = {"steps": list, "strategy": str}


async def _run(request: web.Request, call: Callable[[], T], changes: bool = False) -> T:
    result = await asyncio.get_running_loop().run_in_executor(None, call)
    if changes:
        request.app[keys.GATEWAY].reload()
    return result


async def _body(request: web.Request, fields: dict[str, type]) -> dict[str, Any]:
    """The JSON object body, each known field of its type (``null`` means left out)."""
    try:
        data = await request.json()
    except ValueError:
        raise InvalidInputError("the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidInputError("the request body must be a JSON object")
    args: dict[str, Any] = {}
    for name, value in data.items():
        kind = fields.get(name)
        if kind is None:
            raise InvalidInputError(f"unknown field '{name}'")
        if value is None:
            continue
        if not isinstance(value, kind):
            raise InvalidInputError(f"field '{name}' must be a {kind.__name__}")
        args[name] = value
    if any(not isinstance(s, str) for s in args.get("steps") or []):
        raise InvalidInputError("field 'steps' must be a list of strings")
    return args


def _service(request: web.Request) -> ComboService:
    return ComboService(request.app[keys.ADMIN])


async def list_combos(request: web.Request) -> web.Response:
    return web.json_response({"combos": await _run(request, _service(request).list_all)})


async def create_combo(request: web.Request) -> web.Response:
    args = await _body(request, _CREATE_FIELDS)
    if "name" not in args:
        raise InvalidInputError("field 'name' is required")
    if "steps" not in args:
        raise InvalidInputError("field 'steps' is required: the models to try, in order")
    service = _service(request)
    result = await _run(request, lambda: service.create(**args), changes=True)
    return web.json_response(result, status=201)


async def get_combo(request: web.Request) -> web.Response:
    service, name = _service(request), request.match_info["name"]
    return web.json_response(await _run(request, lambda: service.get(name)))


async def edit_combo(request: web.Request) -> web.Response:
    args = await _body(request, _EDIT_FIELDS)
    service, name = _service(request), request.match_info["name"]
    return web.json_response(await _run(request, lambda: service.edit(name, **args), changes=True))


async def delete_combo(request: web.Request) -> web.Response:
    service, name = _service(request), request.match_info["name"]
    return web.json_response(await _run(request, lambda: service.remove(name), changes=True))


def setup(app: web.Application) -> None:
    app.router.add_get("/api/combos", list_combos)
    app.router.add_post("/api/combos", create_combo)
    app.router.add_get("/api/combos/{name}", get_combo)
    app.router.add_put("/api/combos/{name}", edit_combo)
    app.router.add_delete("/api/combos/{name}", delete_combo)
