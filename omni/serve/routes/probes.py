"""Trying models and combos for real: ``POST /api/models/test`` (``{"model"}``: routed as
the gateway would, first target that answers) and ``POST /api/combos/{name}/test`` (each
step on its own). Both send one tiny chat request per try and answer 200 with ``ok``
false when the upstream failed; the work runs on a worker thread.
"""

from __future__ import annotations

from aiohttp import web

from omni.admin.probes import ProbeService
from omni.errors import InvalidInputError
from omni.serve import keys
from omni.serve.routes._admin import json_fields, run_service


async def test_model(request: web.Request) -> web.Response:
    model = (await json_fields(request, {"model": str})).get("model")
    if not model:
        raise InvalidInputError("field 'model' (the model to try) is required")
    service = ProbeService(request.app[keys.ADMIN])
    return web.json_response(await run_service(request, lambda: service.test_model(model)))


async def test_combo(request: web.Request) -> web.Response:
    service, name = ProbeService(request.app[keys.ADMIN]), request.match_info["name"]
    return web.json_response(await run_service(request, lambda: service.test_combo(name)))


def setup(app: web.Application) -> None:
    app.router.add_post("/api/models/test", test_model)
    app.router.add_post("/api/combos/{name}/test", test_combo)
