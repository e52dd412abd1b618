"""The aiohttp application factory.

Composes middlewares, routes and the engine's resources; holds no logic. Resources live in
one ``cleanup_ctx`` so they open in order on start and close in reverse on stop: the
database and secret key, the upstream clients, the usage writer (flushed last, so
a graceful stop loses no usage row), the gateway and its config watcher, and the OAuth
token keeper (the gateway's 401 refresher, and a background refresh ahead of expiry).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from omni.admin import AdminContext
from omni.admin.access import Access
from omni.admin.ipfilter import IpFilter, IpRules
from omni.admin.token import ensure_admin_token
from omni.config import Settings
from omni.gateway.pipeline import Gateway
from omni.gateway.shared import SharedState
from omni.gateway.usage import UsageRecorder
from omni.oauth.keeper import TokenKeeper
from omni.providers.http import Upstream
from omni.serve import keys, middlewares, routes
from omni.serve.lifecycle import Lifecycle
from omni.store.db import open_database
from omni.store.secrets import load_secret_box


async def _engine(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    db = open_database(settings.paths.database)
    secrets = load_secret_box(db, settings.paths.secret_key_file)
    admin = AdminContext(settings=settings, db=db)
    admin.__dict__["secrets"] = secrets
    app[keys.ADMIN] = admin
    app[keys.ADMIN_TOKEN] = ensure_admin_token(settings.paths)
    http = Upstream(settings.connect_timeout, settings.stall_timeout)
    usage = UsageRecorder(db)
    usage.start()
    shared = app[keys.SHARED]
    gateway = Gateway(settings, db, secrets, http, usage, shared)
    gateway.reload()
    app[keys.GATEWAY] = gateway
    access = Access(db, config_requires_key=settings.require_api_key)
    access.refresh(gateway.registry.version)
    app[keys.ACCESS] = access
    watcher = asyncio.get_running_loop().create_task(gateway.watch(), name="config-watch")
    # OAuth accounts: refreshed ahead of expiry in the background, and on an upstream 401.
    keeper = TokenKeeper(
        db, secrets, settings, version=lambda: gateway.registry.version, on_change=gateway.reload
    )
    gateway.refresher = keeper.refresher
    app[keys.OAUTH] = keeper
    sweeper = None
    if shared.worker == 0:  # one process renews ahead of expiry; any may on a 401
        sweeper = asyncio.get_running_loop().create_task(keeper.run(), name="oauth-refresh")
    try:
        yield
    finally:
        if sweeper is not None:
            sweeper.cancel()
        watcher.cancel()
        await http.close()
        await usage.close()
        gateway.close()
        access.close()


# How the app is served (here so the tests serve it the same way): a client that goes
# away cancels its request, so no upstream call goes on for nobody and no account is
# charged for a failure that was never the upstream's.
RUNNER_OPTIONS: dict[str, Any] = {"handler_cancellation": True}


def create_app(settings: Settings, shared: SharedState | None = None) -> web.Application:
    """A ready-to-run omni server application for ``settings``; ``shared``: the caps and
    budgets of a server that runs several worker processes (this process's own if None)."""
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[middlewares.errors, middlewares.admin_auth],
    )
    app[keys.SETTINGS] = settings
    app[keys.STARTED_AT] = time.time()
    app[keys.IP_FILTER] = IpFilter(IpRules())
    app[keys.LIFECYCLE] = Lifecycle()
    app[keys.SHARED] = shared or SharedState.create()
    app.cleanup_ctx.append(_engine)
    routes.setup(app)
    return app
