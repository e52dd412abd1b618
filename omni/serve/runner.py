"""Running the server process: event loop, listening socket, signals, pid file.

``run`` installs uvloop when available, binds the socket, writes ``server.json`` (pid,
address) in the runtime dir so the CLI can find the server, and on SIGINT or SIGTERM stops
accepting, lets in-flight requests finish, flushes pending writes and removes the file.
``POST /api/shutdown`` and ``/api/restart`` take the same path through the app's
:class:`~omni.serve.lifecycle.Lifecycle`; ``run`` then says whether to start again.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import logging
import os
import signal
import socket
import sys
import time

import orjson
from aiohttp import web

from omni import __version__
from omni.config import Settings
from omni.errors import ConfigError
from omni.gateway.shared import SharedState
from omni.paths import write_private
from omni.serve import keys
from omni.serve.app import RUNNER_OPTIONS, create_app
from omni.serve.front import FrontRunner

log = logging.getLogger("omni.serve")

SHUTDOWN_GRACE_S = 30.0


def local_url(host: str, port: int) -> str:
    """The URL a local client uses to reach a server bound to ``host``."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - mapping a wildcard bind to loopback
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def run(settings: Settings) -> bool:
    """Serve until SIGINT/SIGTERM or a stop through the API (blocking); True when the
    server was asked to restart. With ``settings.workers`` > 1 this process supervises
    that many worker processes (see :mod:`omni.serve.workers`)."""
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if settings.workers > 1:
        from omni.serve.workers import supervise

        return supervise(settings)
    restart = serve_forever(settings)
    return restart


def serve_forever(
    settings: Settings,
    sock: socket.socket | None = None,
    shared: SharedState | None = None,
) -> bool:
    """One server process's event loop (uvloop when installed): on ``sock`` as one of
    several workers, or on its own listener writing ``server.json``."""
    serving = _serve(settings, sock, shared)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(serving)
    restart: bool = uvloop.run(serving)
    return restart


# Young-generation collections every this many allocations (CPython's default is 700).
# Almost every object of a request dies by reference counting; collecting that often cost
# ~10% of the CPU per request and promoted enough to gen2 for full collections of 30+ ms.
GC_THRESHOLDS = (10_000, 20, 10)


def _settle_memory() -> None:
    """Once the server is up: everything built at start-up is long-lived, so freeze it
    out of the collector's sight, and collect young objects less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def cannot_listen(settings: Settings, exc: OSError) -> ConfigError:
    """What to tell the user when the address cannot be bound."""
    if exc.errno == errno.EADDRINUSE:
        return ConfigError(
            f"port {settings.port} on {settings.host} is already in use",
            hint="stop the other server ('omni stop') or choose --port",
        )
    return ConfigError(f"cannot listen on {settings.host}:{settings.port}: {exc}")


def write_server_file(settings: Settings) -> None:
    """Tell the CLI where this server is (``server.json``: pid, address, version)."""
    write_private(
        settings.paths.server_file,
        orjson.dumps(
            {
                "pid": os.getpid(),
                "host": settings.host,
                "port": settings.port,
                "url": local_url(settings.host, settings.port),
                "version": __version__,
                "started_at": time.time(),
                "workers": settings.workers,
            }
        ),
    )


def remove_server_file(settings: Settings) -> None:
    """Remove ``server.json`` if this process wrote it."""
    server_file = settings.paths.server_file
    with contextlib.suppress(FileNotFoundError, orjson.JSONDecodeError):
        if orjson.loads(server_file.read_bytes()).get("pid") == os.getpid():
            server_file.unlink()


async def _serve(
    settings: Settings, sock: socket.socket | None, shared: SharedState | None
) -> bool:
    app = create_app(settings, shared)
    lifecycle = app[keys.LIFECYCLE]
    lifecycle.managed = True
    runner = FrontRunner(
        app,
        access_log=None,
        handle_signals=False,
        shutdown_timeout=SHUTDOWN_GRACE_S,
        **RUNNER_OPTIONS,
    )
    await runner.setup()
    site: web.BaseSite
    if sock is not None:
        site = web.SockSite(runner, sock)
    else:
        site = web.TCPSite(runner, settings.host, settings.port, backlog=1024)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise cannot_listen(settings, exc) from None

    _settle_memory()
    if sock is None:
        write_server_file(settings)
        log.info("omni %s listening on %s", __version__, local_url(settings.host, settings.port))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lifecycle.stop)
    try:
        await lifecycle.stopping.wait()
        log.info("stopping: finishing in-flight requests and flushing writes")
    finally:
        await runner.cleanup()
        if sock is None:
            remove_server_file(settings)
        log.info("stopped" if not lifecycle.restart else "stopped; restarting")
    return lifecycle.restart
