"""Provider operations beyond add/list/remove: ``PUT /api/providers/{id}`` (edit),
``PUT /api/providers/{id}/accounts/{account}``, ``POST /api/providers/{id}/test``,
``GET /api/providers/{id}/models[?refresh=true]``, ``POST /api/providers/validate``,
the custom nodes under ``/api/provider-nodes`` and the global outbound proxy
``/api/settings/proxy`` (+ ``POST /test``).

Thin: shape checks here, the work in the services (which may call the upstream, so they
run on a worker thread); changes reload the routing snapshot at once.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from omni.admin.checks import ProviderCheckService
from omni.admin.nodes import NodeService
from omni.admin.providers import ProviderService
from omni.admin.proxy import ProxyService
from omni.errors import InvalidInputError
from omni.serve import keys
from omni.serve.routes._admin import json_body, json_fields, run_service

_EDIT_FIELDS: dict[str, type] = {
    "base_url": str,
    "headers": dict,
    "enabled": bool,
    "proxy": str,
    "chat_path": str,
    "models_path": str,
}
_ACCOUNT_FIELDS: dict[str, type] = {"proxy": str, "enabled": bool, "base_url": str, "priority": int}
_NODE_FIELDS: dict[str, type] = {
    "prefix": str,
    "base_url": str,
    "format": str,
    "chat_path": str,
    "models_path": str,
    "headers": dict,
    "api_key": str,
    "api_key_env": str,
    "models": list,
    "proxy": str,
    "sync_models": bool,
}
_VALIDATE_FIELDS: dict[str, type] = {
    "provider": str,
    "base_url": str,
    "api_key": str,
    "format": str,
    "headers": dict,
    "models_path": str,
}


def _ctx(request: web.Request) -> Any:
    return request.app[keys.ADMIN]


async def _optional(request: web.Request, fields: dict[str, type]) -> dict[str, Any]:
    """The JSON body's fields, or none when the request has no body."""
    return await json_fields(request, fields) if request.body_exists else {}


async def edit_provider(request: web.Request) -> web.Response:
    args = await json_fields(request, _EDIT_FIELDS)
    service, name = ProviderService(_ctx(request)), request.match_info["provider_id"]
    return web.json_response(
        await run_service(request, lambda: service.edit(name, **args), changes=True)
    )


async def edit_account(request: web.Request) -> web.Response:
    args = await json_fields(request, _ACCOUNT_FIELDS)
    service = ProviderService(_ctx(request))
    name, account = request.match_info["provider_id"], request.match_info["account"]
    return web.json_response(
        await run_service(request, lambda: service.edit_account(name, account, **args), True)
    )


async def test_provider(request: web.Request) -> web.Response:
    args = (
        await json_fields(request, {"account": str, "model": str}) if request.can_read_body else {}
    )
    service, name = ProviderCheckService(_ctx(request)), request.match_info["provider_id"]
    return web.json_response(await run_service(request, lambda: service.test(name, **args)))


async def provider_models(request: web.Request) -> web.Response:
    refresh = request.query.get("refresh", "").lower() in ("1", "true", "yes")
    service, name = ProviderCheckService(_ctx(request)), request.match_info["provider_id"]
    return web.json_response(
        await run_service(request, lambda: service.models(name, refresh), changes=refresh)
    )


async def validate(request: web.Request) -> web.Response:
    args = await json_fields(request, _VALIDATE_FIELDS)
    service = ProviderCheckService(_ctx(request))
    return web.json_response(await run_service(request, lambda: service.validate(**args)))


async def list_nodes(request: web.Request) -> web.Response:
    service = NodeService(_ctx(request))
    return web.json_response({"nodes": await run_service(request, service.list_all)})


async def create_node(request: web.Request) -> web.Response:
    args = await json_fields(request, _NODE_FIELDS)
    if "prefix" not in args or "base_url" not in args:
        raise InvalidInputError("fields 'prefix' and 'base_url' are required")
    if any(not isinstance(m, str) for m in args.get("models") or []):
        raise InvalidInputError("field 'models' must be a list of strings")
    prefix, base_url = args.pop("prefix"), args.pop("base_url")
    service = NodeService(_ctx(request))
    result = await run_service(
        request, lambda: service.create(prefix, base_url, **args), changes=True
    )
    return web.json_response(result, status=201)


async def get_node(request: web.Request) -> web.Response:
    service, node_id = NodeService(_ctx(request)), request.match_info["node_id"]
    return web.json_response(await run_service(request, lambda: service.get(node_id)))


async def edit_node(request: web.Request) -> web.Response:
    args = await json_fields(request, _EDIT_FIELDS)
    service, node_id = NodeService(_ctx(request)), request.match_info["node_id"]
    return web.json_response(
        await run_service(request, lambda: service.edit(node_id, **args), changes=True)
    )


async def delete_node(request: web.Request) -> web.Response:
    service, node_id = NodeService(_ctx(request)), request.match_info["node_id"]
    return web.json_response(
        await run_service(request, lambda: service.remove(node_id), changes=True)
    )


async def get_proxy(request: web.Request) -> web.Response:
    return web.json_response(await run_service(request, ProxyService(_ctx(request)).get))


async def set_proxy(request: web.Request) -> web.Response:
    data = await json_body(request)
    if set(data) - {"url"}:
        raise InvalidInputError('send {"url": "http://host:port"} or {"url": null}')
    url = data.get("url")
    if url is not None and not isinstance(url, str):
        raise InvalidInputError("field 'url' must be a string or null")
    service = ProxyService(_ctx(request))
    return web.json_response(await run_service(request, lambda: service.set(url), changes=True))


async def test_proxy(request: web.Request) -> web.Response:
    args = await _optional(request, {"url": str, "target": str})
    service = ProxyService(_ctx(request))
    return web.json_response(await run_service(request, lambda: service.test(**args)))


def setup(app: web.Application) -> None:
    app.router.add_post("/api/providers/validate", validate)
    app.router.add_put("/api/providers/{provider_id}", edit_provider)
    app.router.add_put("/api/providers/{provider_id}/accounts/{account}", edit_account)
    app.router.add_post("/api/providers/{provider_id}/test", test_provider)
    app.router.add_get("/api/providers/{provider_id}/models", provider_models)
    app.router.add_get("/api/provider-nodes", list_nodes)
    app.router.add_post("/api/provider-nodes", create_node)
    app.router.add_get("/api/provider-nodes/{node_id}", get_node)
    app.router.add_put("/api/provider-nodes/{node_id}", edit_node)
    app.router.add_delete("/api/provider-nodes/{node_id}", delete_node)
    app.router.add_get("/api/settings/proxy", get_proxy)
    app.router.add_put("/api/settings/proxy", set_proxy)
    app.router.add_post("/api/settings/proxy/test", test_proxy)
