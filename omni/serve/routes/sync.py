"""Configuration sync: ``POST /api/sync/initialize`` (create or rotate the sync token),
``GET /api/sync/status``, ``DELETE /api/sync/token``, the bundle at ``GET /api/sync/cloud``
(also ``/api/sync/bundle`` and ``/api/cloud/bundle``) and ``POST /api/sync/apply`` (merge a
pulled bundle here; ``dryRun`` to preview).

The bundle answers the sync token (``Authorization: Bearer oms-…``) or a management caller;
``?withKeys=true`` adds upstream secrets and only a token created with that right may ask
for it. It carries an ETag; ``If-None-Match`` with the current one gets a 304.
"""

from __future__ import annotations

from aiohttp import web

from omni.admin.sync import SyncService
from omni.admin.sync_bundle import build
from omni.errors import AuthError, ForbiddenError, InvalidInputError
from omni.serve import keys
from omni.serve.guard import actor_of, identify
from omni.serve.routes._admin import json_fields, run_service

BUNDLE_PATHS = ("/api/sync/cloud", "/api/sync/bundle", "/api/cloud/bundle")


def _service(request: web.Request) -> SyncService:
    actor = actor_of(request)
    return SyncService(request.app[keys.ADMIN], actor=actor.name, ip=actor.ip)


async def initialize(request: web.Request) -> web.Response:
    args = await json_fields(request, {"withKeys": bool}) if request.body_exists else {}
    service, with_keys = _service(request), args.get("withKeys", False)
    return web.json_response(
        await run_service(request, lambda: service.initialize(with_keys)), status=201
    )


async def status(request: web.Request) -> web.Response:
    return web.json_response(await run_service(request, _service(request).status))


async def revoke(request: web.Request) -> web.Response:
    return web.json_response(await run_service(request, _service(request).revoke))


def _flag(request: web.Request, name: str) -> bool:
    value = request.query.get(name, "").lower()
    if value not in ("", "0", "1", "true", "false", "yes", "no"):
        raise InvalidInputError(f"query parameter '{name}' must be true or false")
    return value in ("1", "true", "yes")


def _matches(header: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/").strip('"') for t in header.split(",")]
    return "*" in tags or etag in tags


async def bundle(request: web.Request) -> web.StreamResponse:
    given = request.headers.get("Authorization", "")
    token = given[7:].strip() if given[:7].lower() == "bearer " else ""
    service = _service(request)
    may_pull_keys = await run_service(request, lambda: service.authorize(token)) if token else None
    if may_pull_keys is None and identify(request, request.app[keys.ACCESS]) is None:
        error = AuthError(
            "the configuration bundle needs the sync token (Authorization: Bearer oms-…) "
            "or a management login"
        )
        error.code = "sync_token_required"
        raise error
    with_keys = _flag(request, "withKeys")
    if with_keys and not may_pull_keys:
        raise ForbiddenError(
            "only a sync token created with the right to pull keys may ask for them",
            hint="on the serving omni: 'omni sync init --with-keys'",
        )
    ctx = request.app[keys.ADMIN]
    found = await run_service(request, lambda: build(ctx, with_keys))
    headers = {"ETag": f'"{found["etag"]}"', "Cache-Control": "no-store", "Vary": "Authorization"}
    if _matches(request.headers.get("If-None-Match", ""), found["etag"]):
        return web.Response(status=304, headers=headers)
    return web.json_response(found, headers=headers)


async def apply(request: web.Request) -> web.Response:
    args = await json_fields(request, {"bundle": dict, "dryRun": bool, "source": str})
    if "bundle" not in args:
        raise InvalidInputError("field 'bundle' is required: the bundle to apply")
    service = _service(request)
    dry_run = args.get("dryRun", False)
    result = await run_service(
        request,
        lambda: service.apply(args["bundle"], dry_run, args.get("source")),
        changes=not dry_run,
    )
    return web.json_response(result)


def setup(app: web.Application) -> None:
    app.router.add_post("/api/sync/initialize", initialize)
    app.router.add_get("/api/sync/status", status)
    app.router.add_delete("/api/sync/token", revoke)
    app.router.add_post("/api/sync/apply", apply)
    for path in BUNDLE_PATHS:
        app.router.add_get(path, bundle)
