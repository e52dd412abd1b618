"""The audit log: ``GET /api/compliance/audit-log?action=key.&limit=100&before=123``.

Newest first; ``action`` filters by prefix, ``before`` pages back by entry id (pass the
``next_before`` of the previous page).
"""

from __future__ import annotations

from aiohttp import web

from omni.admin.audit import AuditService
from omni.errors import InvalidInputError
from omni.serve import keys
from omni.serve.routes._admin import run_service


def _int(request: web.Request, name: str, default: int | None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        number = int(raw)
    except ValueError:
        number = None
    if number is None or abs(number) >= 2**63:
        raise InvalidInputError(f"query parameter '{name}' must be an integer") from None
    return number


async def audit_log(request: web.Request) -> web.Response:
    service = AuditService(request.app[keys.ADMIN])
    action = request.query.get("action") or None
    limit = _int(request, "limit", 100)
    before = _int(request, "before", None)
    return web.json_response(
        await run_service(request, lambda: service.entries(action, limit or 0, before))
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/api/compliance/audit-log", audit_log)
