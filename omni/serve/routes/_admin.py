"""Helpers shared by the management routes: typed JSON bodies, services on a thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from aiohttp import web

from omni.errors import InvalidInputError
from omni.serve import keys

T = TypeVar("T")


async def run_service(request: web.Request, call: Callable[[], T], changes: bool = False) -> T:
    """Run a (synchronous) service call on a worker thread; after a change, reload routing."""
    result = await asyncio.get_running_loop().run_in_executor(None, _no_stop_iteration, call)
    if changes:
        request.app[keys.GATEWAY].reload()
    return result


def _no_stop_iteration(call: Callable[[], T]) -> T:
    """``call()``; a StopIteration leaking out of it cannot be set on a future (the request
    would never be answered), so it becomes an ordinary error."""
    try:
        return call()
    except StopIteration as exc:
        raise RuntimeError("a service call ended with StopIteration") from exc


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's body, which must be a JSON object (strict JSON: no NaN or Infinity,
    no number too large for a double)."""
    try:
        data = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise InvalidInputError("the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidInputError("the request body must be a JSON object")
    return data


async def json_fields(request: web.Request, fields: dict[str, type]) -> dict[str, Any]:
    """The JSON object body, each known field of its type; ``null`` means left out."""
    data = await json_body(request)
    args: dict[str, Any] = {}
    for name, value in data.items():
        kind = fields.get(name)
        if kind is None:
            raise InvalidInputError(f"unknown field '{name}'")
        if value is None:
            continue
        if not isinstance(value, kind):
            raise InvalidInputError(f"field '{name}' must be a {kind.__name__}")
        args[name] = value
    return args
