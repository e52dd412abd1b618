"""Database backups: ``/api/db-backups`` (GET list, PUT create, POST restore one),
``/api/db-backups/export`` (a ``.sqlite`` snapshot), ``/api/db-backups/import`` (upload a
``.sqlite``: raw body or multipart) and ``/api/db-backups/exportAll`` (``.tar.gz``).

Thin: files move between the socket and a private temporary file in the backup folder
(streamed, so an upload is not bound by the JSON body limit but by :data:`MAX_IMPORT_BYTES`);
the service does the rest on a worker thread. After a restore or import the routing
snapshot is rebuilt and cooldowns, breakers and the IP filter are refreshed, so the
restored configuration serves the next request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import BodyPartReader, web

from omni.admin.backups import BackupService, stamp
from omni.errors import InvalidInputError
from omni.serve import keys
from omni.serve.routes._admin import json_fields, run_service
from omni.store import backup as store

MAX_IMPORT_BYTES = 4 * 1024**3
_CHUNK = 1 << 20


def _service(request: web.Request) -> BackupService:
    return BackupService(request.app[keys.ADMIN], actor="admin", ip=request.remote)


def _after_replace(request: web.Request) -> None:
    gateway = request.app[keys.GATEWAY]
    gateway.cooldowns.reset()
    gateway.breakers.reset()
    request.app[keys.IP_FILTER].version = -1  # re-read on the next request


async def list_backups(request: web.Request) -> web.Response:
    service = _service(request)
    return web.json_response({"backups": await run_service(request, service.list_all)})


async def create_backup(request: web.Request) -> web.Response:
    service = _service(request)
    return web.json_response(await run_service(request, service.create), status=201)


async def restore_backup(request: web.Request) -> web.Response:
    args = await json_fields(request, {"name": str, "backupId": str})
    name = args.get("name", args.get("backupId"))  # backupId: OmniRoute's field name
    if name is None:
        raise InvalidInputError("field 'name' is required: the backup to restore")
    service = _service(request)
    result = await run_service(request, lambda: service.restore(name), changes=True)
    _after_replace(request)
    return web.json_response(result)


async def _send_file(
    request: web.Request, path: Path, size: int, filename: str, content_type: str
) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{filename}"',
        }
    )
    response.content_length = size
    loop = asyncio.get_running_loop()
    await response.prepare(request)
    with path.open("rb") as handle:
        while chunk := await loop.run_in_executor(None, handle.read, _CHUNK):
            await response.write(chunk)
    await response.write_eof()
    return response


async def export_db(request: web.Request) -> web.StreamResponse:
    service = _service(request)
    path = store.private_temp(service.folder)
    try:
        result = await run_service(request, lambda: service.export(path))
        name = f"omni-export-{stamp()}.sqlite"
        return await _send_file(request, path, result["size"], name, "application/vnd.sqlite3")
    finally:
        store.remove_db_file(path)


async def export_all(request: web.Request) -> web.StreamResponse:
    service = _service(request)
    path = store.private_temp(service.folder, ".tar.gz")
    try:
        result = await run_service(request, lambda: service.export_all(path))
        return await _send_file(
            request, path, result["size"], f"omni-full-backup-{stamp()}.tar.gz", "application/gzip"
        )
    finally:
        store.remove_db_file(path)


async def _upload(request: web.Request) -> tuple[AsyncIterator[bytes], str]:
    """The uploaded file's chunks and a label for it (its file name when given)."""
    label = Path(request.query.get("name", "") or "upload").name[:200]
    if not request.content_type.startswith("multipart/"):
        return request.content.iter_chunked(_CHUNK), label
    try:
        reader = await request.multipart()
    except ValueError:  # no boundary in the Content-Type
        raise InvalidInputError(
            "the multipart Content-Type has no boundary; send the file as the raw body "
            "or as proper multipart/form-data"
        ) from None
    while (part := await reader.next()) is not None:
        if isinstance(part, BodyPartReader) and (part.filename or part.name == "file"):
            return _part_chunks(part), Path(part.filename or label).name[:200]
    raise InvalidInputError("the multipart upload holds no file: send it in a part named 'file'")


async def _part_chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(_CHUNK):
        yield chunk


async def import_db(request: web.Request) -> web.Response:
    service = _service(request)
    path = store.private_temp(service.folder)
    loop = asyncio.get_running_loop()
    try:
        chunks, label = await _upload(request)
        written = 0
        with path.open("wb") as handle:
            async for chunk in chunks:
                written += len(chunk)
                if written > MAX_IMPORT_BYTES:
                    raise InvalidInputError(
                        f"the upload is larger than {MAX_IMPORT_BYTES // 1024**3} GiB"
                    )
                await loop.run_in_executor(None, handle.write, chunk)
        if written == 0:
            raise InvalidInputError(
                "the upload is empty: send the .sqlite file as the body (or a multipart 'file')"
            )
        result = await run_service(request, lambda: service.import_file(path, label), changes=True)
        _after_replace(request)
        return web.json_response(result)
    finally:
        store.remove_db_file(path)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/db-backups", list_backups)
    app.router.add_put("/api/db-backups", create_backup)
    app.router.add_post("/api/db-backups", restore_backup)
    app.router.add_get("/api/db-backups/export", export_db)
    app.router.add_post("/api/db-backups/import", import_db)
    app.router.add_get("/api/db-backups/exportAll", export_all)
