"""``GET /api/openapi.json``: the OpenAPI 3.1 document of every route (public: it holds no
data, and tools such as schemathesis read it before they log in)."""

from __future__ import annotations

from aiohttp import web

from omni.serve.openapi import document


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(document(request.app))


def setup(app: web.Application) -> None:
    app.router.add_get("/api/openapi.json", openapi)
