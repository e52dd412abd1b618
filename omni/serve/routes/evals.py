"""Evals: ``GET/POST /api/evals`` (list, create a suite), ``GET/DELETE /api/evals/{id}``
(a suite with its cases and last results; remove it) and ``POST /api/evals/{id}/run``
(run it now through this server's gateway; body ``{"model": …}`` to try another model).

``{id}`` is a suite's number or name. A run answers when every case is done and is kept
with its pass rate and each case's latency.
"""

from __future__ import annotations

from collections.abc import Awaitable

from aiohttp import web

from omni.admin.evals import EvalService, execute
from omni.errors import InvalidInputError
from omni.gateway.answers import Reply
from omni.ir import Dialect
from omni.serve import keys
from omni.serve.routes._admin import json_fields, run_service

_CREATE_FIELDS: dict[str, type] = {"name": str, "model": str, "cases": list, "description": str}


def _service(request: web.Request) -> EvalService:
    return EvalService(request.app[keys.ADMIN], actor="admin")


async def list_suites(request: web.Request) -> web.Response:
    return web.json_response({"suites": await run_service(request, _service(request).list_all)})


async def create_suite(request: web.Request) -> web.Response:
    args = await json_fields(request, _CREATE_FIELDS)
    missing = [f for f in ("name", "model", "cases") if f not in args]
    if missing:
        raise InvalidInputError(f"field{'s' if len(missing) > 1 else ''} "
                                f"{', '.join(repr(m) for m in missing)} required")  # fmt: skip
    service = _service(request)
    return web.json_response(await run_service(request, lambda: service.create(**args)), status=201)


async def get_suite(request: web.Request) -> web.Response:
    service, ident = _service(request), request.match_info["suite_id"]
    return web.json_response(await run_service(request, lambda: service.get(ident)))


async def delete_suite(request: web.Request) -> web.Response:
    service, ident = _service(request), request.match_info["suite_id"]
    return web.json_response(await run_service(request, lambda: service.remove(ident)))


async def run_suite(request: web.Request) -> web.Response:
    args = await json_fields(request, {"model": str}) if request.body_exists else {}
    gateway = request.app[keys.GATEWAY]

    def chat(body: bytes) -> Awaitable[Reply]:
        return gateway.handle(Dialect.OPENAI_CHAT, body, endpoint="/api/evals/run")

    def routable(model: str) -> object:
        return gateway.registry.plan(model)  # the snapshot of now, not of the route's setup

    result = await execute(
        _service(request), chat, request.match_info["suite_id"], args.get("model"),
        lambda call: run_service(request, call), routable,
    )  # fmt: skip
    return web.json_response(result)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/evals", list_suites)
    app.router.add_post("/api/evals", create_suite)
    app.router.add_get("/api/evals/{suite_id}", get_suite)
    app.router.add_delete("/api/evals/{suite_id}", delete_suite)
    app.router.add_post("/api/evals/{suite_id}/run", run_suite)
