"""Regressions for what schemathesis found: bad input to the management API is a clear 400
(or 404) in the caller's dialect, never a 500 or an answer that never comes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

from omni.admin.token import read_admin_token
from omni.config import Settings
from omni.serve.routes._admin import run_service


def _auth(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}


async def test_out_of_range_numbers_and_odd_bodies_are_4xx(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway()
    auth = _auth(settings)
    huge = "-36138439659748134912"
    for path in (
        f"/api/compliance/audit-log?before={huge}",
        f"/api/usage/request-logs?before={huge}",
    ):
        response = await client.get(path, headers=auth)
        assert response.status == 400, path
        assert "must be" in (await response.json())["error"]["message"]
    response = await client.post(
        "/api/usage/budget", headers=auth, json={"keyId": 2**64 - 1, "limit": 1}
    )
    assert response.status == 404
    for path in ("/api/keys/%C2%B2", "/api/evals/%C2%B9"):  # superscript digits: not ids
        assert (await client.get(path, headers=auth)).status == 404, path
    response = await client.put(
        "/api/providers/fake/accounts/default", headers=auth, json={"priority": 2**70}
    )
    assert response.status == 400
    for raw in (b'{"ttl_s": NaN}', b'{"ttl_s": 1e400}', b'{"ttl_s": Infinity}'):
        response = await client.put("/api/cache/settings", headers=auth, data=raw)
        assert response.status == 400, raw
    response = await client.post(
        "/api/providers", headers=auth,
        json={"name": "acme", "base_url": "http://127.0.0.1:9/v1", "api_key": "k\u00e8y"},
    )  # fmt: skip
    assert (
        response.status == 400 and "printable ASCII" in (await response.json())["error"]["message"]
    )


async def test_broken_multipart_uploads_are_400(
    gateway: Callable[..., Any], settings: Settings
) -> None:
    client = await gateway()
    auth = _auth(settings)
    no_boundary = {**auth, "Content-Type": "multipart/form-data"}
    response = await client.post("/api/db-backups/import", headers=no_boundary, data=b"x")
    assert response.status == 400
    bad_part = b'--b\r\nContent-Disposition: form-data; name="\x13\xc2\x80e"\r\n\r\nx\r\n--b--\r\n'
    response = await client.post(
        "/api/db-backups/import",
        headers={**auth, "Content-Type": "multipart/form-data; boundary=b"},
        data=bad_part,
    )
    assert response.status == 400
    response = await client.post(
        "/v1/audio/transcriptions", headers={"Content-Type": "multipart/form-data"}, data=b"x"
    )
    assert response.status == 400 and "error" in await response.json()


async def test_a_service_ending_in_stop_iteration_is_answered(settings: Settings) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.json_response(await run_service(request, lambda: next(iter([]))))

    from omni.config import load_settings
    from omni.serve.app import RUNNER_OPTIONS, create_app

    app = create_app(load_settings())
    app.router.add_get("/api/broken", broken)
    from aiohttp.test_utils import TestClient, TestServer

    async with TestClient(TestServer(app, **RUNNER_OPTIONS)) as client, asyncio.timeout(20):
        response = await client.get("/api/broken", headers=_auth(settings))
        assert response.status == 500
        assert (await response.json())["error"]["code"] == "internal_error"
