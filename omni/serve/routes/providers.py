"""Provider management: ``/api/providers`` (list, add) and ``/api/providers/{id}``.

Thin: validate the JSON shape, run the service on a worker thread (it may call the
provider's model list), reload the routing snapshot so the change applies at once.
"""

from __future__ import annotations

from aiohttp import web

from omni.admin.providers import ProviderService
from omni.errors import InvalidInputError
from omni.serve import keys
from omni.serve.guard import actor_of
from omni.serve.routes._admin import json_fields, run_service

_ADD_FIELDS: dict[str, type] = {
    "name": str,
    "base_url": str,
    "api_key": str,
    "api_key_env": str,
    "format": str,
    "account": str,
    "models": list,
    "sync_models": bool,
}


async def list_providers(request: web.Request) -> web.Response:
    service = ProviderService(request.app[keys.ADMIN], actor_of(request))
    return web.json_response({"providers": await run_service(request, service.list_all)})


async def add_provider(request: web.Request) -> web.Response:
    args = await json_fields(request, _ADD_FIELDS)
    if not isinstance(args.get("name"), str):
        raise InvalidInputError("field 'name' is required")
    if any(not isinstance(m, str) for m in args.get("models") or []):
        raise InvalidInputError("field 'models' must be a list of strings")
    name = args.pop("name")
    service = ProviderService(request.app[keys.ADMIN], actor_of(request))
    result = await run_service(request, lambda: service.add(name, **args), changes=True)
    return web.json_response(result, status=201)


async def get_provider(request: web.Request) -> web.Response:
    service = ProviderService(request.app[keys.ADMIN], actor_of(request))
    name = request.match_info["provider_id"]
    return web.json_response(await run_service(request, lambda: service.get(name)))


async def delete_provider(request: web.Request) -> web.Response:
    service = ProviderService(request.app[keys.ADMIN], actor_of(request))
    name = request.match_info["provider_id"]
    return web.json_response(await run_service(request, lambda: service.remove(name), changes=True))


def setup(app: web.Application) -> None:
    app.router.add_get("/api/providers", list_providers)
    app.router.add_post("/api/providers", add_provider)
    app.router.add_get("/api/providers/{provider_id}", get_provider)
    app.router.add_delete("/api/providers/{provider_id}", delete_provider)
