"""OpenAPI descriptions of the remaining management routes: the document itself, evals
and configuration sync (``omni/serve/routes/{openapi,evals,sync}.py``)."""

from __future__ import annotations

from omni.serve.openapi_schemas import PUBLIC, Operation, Schema, op

SCHEMAS: dict[str, Schema] = {}

OPERATIONS: list[Operation] = [
    op("GET", "/api/openapi.json", "This document (OpenAPI 3.1)", tag="System",
       security=PUBLIC, ok={"type": "object", "required": ["openapi", "paths"]}),
]  # fmt: skip
