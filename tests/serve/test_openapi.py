"""The OpenAPI document: it describes every route the app registers (and nothing else),
it is served at /api/openapi.json without a login, and it is a valid OpenAPI 3.1 file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from omni.config import load_settings
from omni.serve.app import create_app
from omni.serve.openapi import coverage


def test_every_registered_route_is_described_and_nothing_else() -> None:
    missing, stale = coverage(create_app(load_settings()))
    assert not missing, "routes without an OpenAPI description:\n" + "\n".join(missing)
    assert not stale, "OpenAPI descriptions out of step with the routes:\n" + "\n".join(stale)


def test_a_new_route_is_reported_with_where_to_describe_it() -> None:
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        return web.json_response({})

    app = create_app(load_settings())
    app.router.add_get("/api/brand-new/{thing_id}", handler)
    missing, _ = coverage(app)
    assert len(missing) == 1
    assert "GET /api/brand-new/{thing_id}" in missing[0]
    assert "omni/serve/openapi_extra.py" in missing[0]


async def test_served_without_login_and_lists_the_security_schemes(
    make_client: Callable[..., Any],
) -> None:
    client = await make_client()
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    doc = await response.json()
    assert doc["openapi"].startswith("3.1")
    schemes = doc["components"]["securitySchemes"]
    assert schemes["sessionCookie"] == {
        "type": "apiKey", "in": "cookie", "name": "auth_token",
        "description": schemes["sessionCookie"]["description"],
    }  # fmt: skip
    assert {schemes[n]["name"] for n in ("xApiKey", "xGoogApiKey")} == {
        "x-api-key", "x-goog-api-key",
    }  # fmt: skip
    login = doc["paths"]["/api/auth/login"]["post"]
    assert login["security"] == []
    keys = doc["paths"]["/api/keys"]["post"]
    assert {"adminToken": []} in keys["security"]
    assert keys["responses"]["201"]["content"]["application/json"]["schema"]
    error = doc["paths"]["/v1/messages"]["post"]["responses"]["4XX"]["$ref"].rpartition("/")[2]
    assert doc["components"]["responses"][error]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AnthropicError"
    }
    assert "/v1/chat/completions" in doc["paths"] and "/metrics" in doc["paths"]


def test_the_document_is_valid_openapi() -> None:
    schemathesis = pytest.importorskip("schemathesis")
    from omni.serve.openapi import document

    doc = document(create_app(load_settings()))
    schemathesis.openapi.from_dict(doc).validate()  # raises on an invalid document
    operation_ids = [
        operation["operationId"] for item in doc["paths"].values() for operation in item.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))
