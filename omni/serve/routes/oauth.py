"""Subscription sign-in for the TUI and remote use: ``POST /api/oauth/{provider}/{action}``.

Actions: ``authorize`` (``{redirect_uri?, account?, project?}`` → the URL to open and a
``flow_id``), ``exchange`` (``{flow_id, code, state?}``; ``code`` may be the pasted URL or
``code#state``), ``device-code`` (``{account?}`` → the user code and page), ``poll``
(``{flow_id}`` → ``pending`` / ``slow_down`` with the interval to wait, or ``complete``)
and ``import`` (``{credentials, account?, write_back?, project?}``: the JSON of a vendor
CLI's credential file; ``provider`` is then the tool: claude, codex or gemini).

Thin: the work is in :class:`omni.admin.oauth.OAuthService` on a worker thread (it calls
the provider's token endpoint); a stored account reloads the routing snapshot at once.
Flows in progress live with the app (:class:`PendingFlows`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from omni.admin.oauth import OAuthService, PendingFlows
from omni.errors import InvalidInputError, NotFoundError
from omni.serve import keys
from omni.serve.guard import actor_of
from omni.serve.routes._admin import json_fields, run_service

PENDING = web.AppKey("oauth_pending", PendingFlows)

_FIELDS: dict[str, dict[str, type]] = {
    "authorize": {"redirect_uri": str, "account": str, "project": str},
    "exchange": {"flow_id": str, "code": str, "state": str},
    "device-code": {"account": str},
    "poll": {"flow_id": str},
    "import": {"credentials": dict, "account": str, "write_back": str, "project": str},
}
_REQUIRED = {"exchange": ("flow_id", "code"), "poll": ("flow_id",), "import": ("credentials",)}


def _call(service: OAuthService, provider: str, action: str, args: dict[str, Any]) -> Any:
    calls: dict[str, Callable[[], Any]] = {
        "authorize": lambda: service.authorize(provider, **args),
        "exchange": lambda: service.exchange(provider, **args),
        "device-code": lambda: service.device_code(provider, **args),
        "poll": lambda: service.poll(provider, **args),
        "import": lambda: service.import_credentials(provider, **args),
    }
    return calls[action]()


async def oauth_action(request: web.Request) -> web.Response:
    provider, action = request.match_info["provider"], request.match_info["action"]
    fields = _FIELDS.get(action)
    if fields is None:
        raise NotFoundError(
            f"unknown OAuth action '{action}'", hint="one of: " + ", ".join(_FIELDS)
        )
    args = await json_fields(request, fields) if request.body_exists else {}
    for name in _REQUIRED.get(action, ()):
        if name not in args:
            raise InvalidInputError(f"field '{name}' is required")
    service = OAuthService(request.app[keys.ADMIN], request.app[PENDING], actor_of(request))
    result = await run_service(request, lambda: _call(service, provider, action, args))
    if action in ("exchange", "import") or (action == "poll" and result["status"] == "complete"):
        request.app[keys.GATEWAY].reload()
    return web.json_response(result)


def setup(app: web.Application) -> None:
    app[PENDING] = PendingFlows()
    app.router.add_post("/api/oauth/{provider}/{action}", oauth_action)
