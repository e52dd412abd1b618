"""The OpenAPI 3.1 document of everything the server answers (``GET /api/openapi.json``).

Every route the app registers is described by one :class:`~omni.serve.openapi_schemas.
Operation` in a table module listed in :data:`SOURCES` (one per area of the API).
:func:`coverage` compares the tables with ``app.router.routes()``; the test suite fails
on any route without a description (naming the table to add it to) and on any
description without a route, so the document cannot silently go stale.

To describe a new route: add an ``op(...)`` to the ``OPERATIONS`` list of the table for
its area (see :data:`TABLE_FOR`), with its answer's schema (new shared shapes go in that
module's ``SCHEMAS``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from aiohttp import web

from omni import __version__
from omni.serve import openapi_admin, openapi_client, openapi_config, openapi_extra
from omni.serve.openapi_schemas import (
    ERROR_SCHEMAS,
    SECURITY_SCHEMES,
    Operation,
    error_response,
    path_shape,
)

SOURCES: tuple[ModuleType, ...] = (openapi_client, openapi_admin, openapi_config, openapi_extra)

_CLIENT_ROUTES = "openai anthropic responses gemini ollama media pinned"
_ADMIN_ROUTES = "providers provider_ops models combos api_keys auth"
_CONFIG_ROUTES = "settings backups usage cache resilience telemetry monitoring compliance system"
TABLE_FOR: dict[str, str] = {
    **dict.fromkeys(_CLIENT_ROUTES.split(), "omni/serve/openapi_client.py"),
    **dict.fromkeys(_ADMIN_ROUTES.split(), "omni/serve/openapi_admin.py"),
    **dict.fromkeys(_CONFIG_ROUTES.split(), "omni/serve/openapi_config.py"),
}
"""Route module (``omni/serve/routes/<name>.py``) → the table that describes its routes;
routes of a module not listed here go in ``omni/serve/openapi_extra.py`` (or a new table
added to :data:`SOURCES`)."""

DEFAULT_TABLE = "omni/serve/openapi_extra.py"
_SKIPPED_METHODS = frozenset({"HEAD", "OPTIONS", "*"})  # HEAD comes with every GET


@dataclass(frozen=True, slots=True)
class Route:
    """A registered route: method, aiohttp path template and the module of its handler."""

    method: str
    path: str
    module: str

    @property
    def key(self) -> tuple[str, str]:
        return self.method, path_shape(self.path)

    @property
    def table(self) -> str:
        area = self.module.rpartition(".")[2]
        return TABLE_FOR.get(area, DEFAULT_TABLE)


def routes(app: web.Application) -> list[Route]:
    found: list[Route] = []
    for route in app.router.routes():
        if route.method in _SKIPPED_METHODS:
            continue
        path = route.resource.canonical if route.resource is not None else ""
        found.append(Route(route.method, path, getattr(route.handler, "__module__", "?")))
    return found


def operations() -> list[Operation]:
    return [o for source in SOURCES for o in source.OPERATIONS]


def coverage(app: web.Application) -> tuple[list[str], list[str]]:
    """What is out of step: (routes without a description, descriptions without a route),
    each as a sentence saying where to fix it."""
    registered = {r.key: r for r in routes(app)}
    described: dict[tuple[str, str], Operation] = {}
    twice: list[str] = []
    for operation in operations():
        if operation.key in described:
            twice.append(f"{operation.method} {operation.path} is described twice")
        described[operation.key] = operation
    missing = [
        f"{r.method} {r.path} (registered by {r.module}) has no OpenAPI description: add "
        f"op({r.method!r}, {_openapi_path(r.path)!r}, …) to OPERATIONS in {r.table}"
        for key, r in sorted(registered.items())
        if key not in described
    ]
    stale = [
        f"{o.method} {o.path} is described (in {_table_of(o)}) but no route serves it: "
        "remove the description or register the route"
        for key, o in sorted(described.items())
        if key not in registered
    ]
    return missing, stale + twice


def _openapi_path(path: str) -> str:
    return re.sub(r"\{([^}:]+)[^}]*\}", r"{\1}", path)


def _table_of(operation: Operation) -> str:
    for source in SOURCES:
        if operation in source.OPERATIONS:
            return f"omni/serve/{source.__name__.rpartition('.')[2]}.py"
    return "?"


def _schemas() -> Iterator[tuple[str, Any]]:
    yield from ERROR_SCHEMAS.items()
    for source in SOURCES:
        yield from source.SCHEMAS.items()


def document(app: web.Application) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``'s routes (those described)."""
    registered = {r.key for r in routes(app)}
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations():
        if operation.key in registered:
            paths.setdefault(operation.path, {})[operation.method.lower()] = operation.spec
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "omni",
            "version": __version__,
            "description": "A local-first AI gateway: the client API in the OpenAI, "
            "Anthropic, Gemini and Ollama dialects (errors in the caller's dialect), and the "
            "management API under /api/* (errors in the OpenAI shape).",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(_schemas()),
            "responses": {name: error_response(name) for name in ERROR_SCHEMAS},
            "securitySchemes": SECURITY_SCHEMES,
        },
        "tags": [{"name": name} for name in _tags(operations())],
    }


def _tags(found: Iterable[Operation]) -> list[str]:
    return list(dict.fromkeys(tag for o in found for tag in o.spec["tags"]))
