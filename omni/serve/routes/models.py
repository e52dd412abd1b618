"""Model management: ``/api/models`` (configured), ``/api/models/info?id=``,
``/api/models/catalog``, ``/api/models/alias`` (+ ``/{alias}``),
``/api/models/availability`` and ``/api/provider-models`` (custom models).

Thin: shape checks here, the work in :mod:`omni.admin.models` and
:mod:`omni.admin.aliases`; changes reload the routing snapshot at once.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aiohttp import web

from omni.admin.aliases import AliasService
from omni.admin.checks import ProviderCheckService
from omni.admin.models import ModelService
from omni.errors import InvalidInputError
from omni.serve import keys
from omni.serve.routes._admin import json_fields, run_service

MAX_CHECKS = 20


def _models(request: web.Request) -> ModelService:
    return ModelService(request.app[keys.ADMIN])


def _aliases(request: web.Request) -> AliasService:
    return AliasService(request.app[keys.ADMIN])


async def configured(request: web.Request) -> web.Response:
    return web.json_response({"models": await run_service(request, _models(request).configured)})


async def info(request: web.Request) -> web.Response:
    model_id = request.query.get("id", "")
    if not model_id:
        raise InvalidInputError("give the model: /api/models/info?id=provider/model")
    service = _models(request)
    return web.json_response(await run_service(request, lambda: service.show(model_id)))


async def catalog(request: web.Request) -> web.Response:
    service, provider = _models(request), request.query.get("provider")
    providers = await run_service(request, lambda: service.catalog(provider))
    return web.json_response({"providers": providers})


async def list_aliases(request: web.Request) -> web.Response:
    return web.json_response({"aliases": await run_service(request, _aliases(request).list_all)})


async def set_alias(request: web.Request) -> web.Response:
    args = await json_fields(request, {"alias": str, "target": str})
    if "alias" not in args or "target" not in args:
        raise InvalidInputError("fields 'alias' (a name or glob pattern) and 'target' are required")
    service = _aliases(request)
    result = await run_service(
        request, lambda: service.set(args["alias"], args["target"]), changes=True
    )
    return web.json_response(result, status=201)


async def delete_alias(request: web.Request) -> web.Response:
    service, alias = _aliases(request), request.match_info["alias"]
    return web.json_response(
        await run_service(request, lambda: service.remove(alias), changes=True)
    )


async def availability(request: web.Request) -> web.Response:
    gateway = request.app[keys.GATEWAY]
    cooldowns, breakers = gateway.cooldowns.snapshot(), gateway.breakers.snapshot()
    service = _models(request)
    result = await run_service(request, lambda: service.availability(cooldowns, breakers))
    return web.json_response(result)


async def check_availability(request: web.Request) -> web.Response:
    """Run a real check (one tiny chat request) for each given ``provider/model``."""
    args = await json_fields(request, {"model": str, "models": list})
    wanted: list[Any] = [args["model"]] if "model" in args else list(args.get("models") or [])
    if not wanted or len(wanted) > MAX_CHECKS:
        raise InvalidInputError(f"give 'model' or 'models' (1 to {MAX_CHECKS} of them) to check")
    checks = ProviderCheckService(request.app[keys.ADMIN])
    results = []
    for model in wanted:
        provider, sep, name = model.partition("/") if isinstance(model, str) else ("", "", "")
        if not sep or not name:
            raise InvalidInputError(f"models to check are 'provider/model', not {model!r}")
        result = await run_service(request, partial(checks.test, provider, model=name))
        results.append({"id": model, "available": result["ok"], **result})
    return web.json_response({"results": results})


async def list_custom(request: web.Request) -> web.Response:
    service, provider = _models(request), request.query.get("provider")
    models = await run_service(request, lambda: service.custom_models(provider))
    return web.json_response({"models": models})


async def add_custom(request: web.Request) -> web.Response:
    args = await json_fields(request, {"provider": str, "model": str, "models": list})
    if "provider" not in args:
        raise InvalidInputError("field 'provider' is required")
    models = [args["model"]] if "model" in args else list(args.get("models") or [])
    service = _models(request)
    added = await run_service(
        request, lambda: service.add_custom(args["provider"], models), changes=True
    )
    return web.json_response({"models": added}, status=201)


async def remove_custom(request: web.Request) -> web.Response:
    provider, model = request.query.get("provider", ""), request.query.get("model", "")
    if not provider or not model:
        raise InvalidInputError("give ?provider=…&model=… to remove a custom model")
    service = _models(request)
    removed = await run_service(
        request, lambda: service.remove_custom(provider, model), changes=True
    )
    return web.json_response(removed)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/models", configured)
    app.router.add_get("/api/models/info", info)
    app.router.add_get("/api/models/catalog", catalog)
    app.router.add_get("/api/models/alias", list_aliases)
    app.router.add_post("/api/models/alias", set_alias)
    app.router.add_delete("/api/models/alias/{alias:.+}", delete_alias)
    app.router.add_get("/api/models/availability", availability)
    app.router.add_post("/api/models/availability", check_availability)
    app.router.add_get("/api/provider-models", list_custom)
    app.router.add_post("/api/provider-models", add_custom)
    app.router.add_delete("/api/provider-models", remove_custom)
