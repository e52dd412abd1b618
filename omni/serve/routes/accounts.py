"""Accounts of providers: ``GET /api/accounts[?provider=]``,
``GET/POST /api/providers/{id}/accounts`` and ``DELETE
/api/providers/{id}/accounts/{account}`` (changes to one account:
``PUT /api/providers/{id}/accounts/{account}`` in :mod:`.provider_ops`).

Thin: shape checks here, the work in :class:`~omni.admin.accounts.AccountService`;
changes reload the routing snapshot at once.
"""

from __future__ import annotations

from aiohttp import web

from omni.admin.accounts import AccountService
from omni.errors import InvalidInputError
from omni.serve import keys
from omni.serve.guard import actor_of
from omni.serve.routes._admin import json_fields, run_service

_ADD_FIELDS: dict[str, type] = {
    "name": str,
    "api_key": str,
    "api_key_env": str,
    "base_url": str,
    "priority": int,
}


def _service(request: web.Request) -> AccountService:
    return AccountService(request.app[keys.ADMIN], actor_of(request))


async def list_all(request: web.Request) -> web.Response:
    service, provider = _service(request), request.query.get("provider") or None
    found = await run_service(request, lambda: service.list_all(provider))
    return web.json_response({"accounts": found})


async def list_of_provider(request: web.Request) -> web.Response:
    service, provider = _service(request), request.match_info["provider_id"]
    found = await run_service(request, lambda: service.list_all(provider))
    return web.json_response({"accounts": found})


async def add(request: web.Request) -> web.Response:
    args = await json_fields(request, _ADD_FIELDS)
    if not isinstance(args.get("name"), str):
        raise InvalidInputError("field 'name' (the account's name) is required")
    service, provider = _service(request), request.match_info["provider_id"]
    name = args.pop("name")
    result = await run_service(request, lambda: service.add(provider, name, **args), True)
    return web.json_response(result, status=201)


async def remove(request: web.Request) -> web.Response:
    service = _service(request)
    provider, name = request.match_info["provider_id"], request.match_info["account"]
    return web.json_response(
        await run_service(request, lambda: service.remove(provider, name), changes=True)
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/api/accounts", list_all)
    app.router.add_get("/api/providers/{provider_id}/accounts", list_of_provider)
    app.router.add_post("/api/providers/{provider_id}/accounts", add)
    app.router.add_delete("/api/providers/{provider_id}/accounts/{account}", remove)
