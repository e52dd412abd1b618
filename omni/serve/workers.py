"""Several server processes on one port: ``omni serve --workers N``.

A supervisor process prepares what must happen once (migrate the database, create the
secret key and the admin token), holds the address, makes the shared caps and budgets
(:class:`~omni.gateway.shared.SharedState`) and forks N workers. Every worker listens on
the same port with its own socket and event loop (SO_REUSEPORT); the kernel hands each new
connection to one of them. The supervisor owns ``server.json`` (its pid is the server's),
passes SIGINT/SIGTERM on to the workers and waits for them, and starts a worker that
died again after giving back what it held (requests in flight, money reserved). A
worker that stops because it was asked to through the API (``/api/shutdown``) stops the
others too; ``/api/restart`` ends in a fresh supervisor.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time

from omni.config import Settings
from omni.errors import ConfigError
from omni.gateway.shared import SharedState
from omni.serve.runner import cannot_listen, remove_server_file, serve_forever, write_server_file

log = logging.getLogger("omni.serve")

EXIT_RESTART = 75  # a worker's exit code: the server was asked to restart
EXIT_FAILED = 78  # a worker's exit code: it could not start (the error is logged)
CRASHES_ALLOWED = 5  # deaths per minute before the supervisor gives up


def bind(settings: Settings, listen: bool) -> socket.socket:
    """A socket on the server's address in the port's SO_REUSEPORT group: the
    supervisor's only holds the address (a server without the option cannot take it),
    each worker's listens, and the kernel spreads new connections over the listeners
    evenly (one shared listener would let whichever worker wakes first take them all)."""
    try:
        infos = socket.getaddrinfo(
            settings.host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        family, kind, proto, _, address = infos[0]
        if not listen:  # a listener in the group (another omni) must not be joined
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(address)
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        if listen:
            sock.listen(1024)
    except OSError as exc:
        raise cannot_listen(settings, exc) from None
    sock.setblocking(False)
    return sock


def _prepare(settings: Settings) -> None:
    """What must not race between workers: migrations, the secret key, the admin token."""
    from omni.admin.token import ensure_admin_token
    from omni.store.db import open_database
    from omni.store.secrets import load_secret_box

    db = open_database(settings.paths.database)
    load_secret_box(db, settings.paths.secret_key_file)
    ensure_admin_token(settings.paths)


def _die_with_parent() -> None:
    """Ask the kernel to stop this worker if the supervisor goes away (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


_STOPS = {signal.SIGINT, signal.SIGTERM}


def _spawn(settings: Settings, shared: SharedState, index: int) -> int:
    # Stop signals wait until the child has dropped the supervisor's handlers.
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    pid = os.fork()
    if pid:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)
        return pid
    code = EXIT_FAILED
    try:
        for sig in _STOPS:
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)
        _die_with_parent()
        shared.worker = index
        sock = bind(settings, listen=True)
        code = EXIT_RESTART if serve_forever(settings, sock=sock, shared=shared) else 0
    except ConfigError as exc:
        log.error("worker %d could not start: %s", index, exc)
    except BaseException:
        log.exception("worker %d failed", index)
    finally:
        logging.shutdown()
        os._exit(code)


def supervise(settings: Settings) -> bool:
    """Run ``settings.workers`` workers until stopped; True when asked to restart."""
    _prepare(settings)
    sock = bind(settings, listen=False)
    shared = SharedState.create(settings.workers, shared=True)
    children = {_spawn(settings, shared, i): i for i in range(settings.workers)}
    write_server_file(settings)
    log.info("%d workers serving", settings.workers)
    state = {"stopping": False, "restart": False, "failed": False}

    def stop_all(*_: object) -> None:
        if not state["stopping"]:
            state["stopping"] = True
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    deaths: list[float] = []
    try:
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            index = children.pop(pid, None)
            if index is None or state["stopping"]:
                continue
            code = os.waitstatus_to_exitcode(status)
            if code in (0, EXIT_RESTART, EXIT_FAILED):
                state["restart"] = code == EXIT_RESTART
                state["failed"] = code == EXIT_FAILED
                stop_all()
                continue
            now = time.monotonic()
            deaths = [t for t in deaths if now - t < 60] + [now]
            if len(deaths) > CRASHES_ALLOWED:
                log.error("workers keep dying (%d in a minute); stopping the server", len(deaths))
                state["failed"] = True
                stop_all()
                continue
            log.warning("worker %d ended (exit code %d); starting it again", index, code)
            shared.forget_worker(index)
            children[_spawn(settings, shared, index)] = index
    finally:
        sock.close()
        remove_server_file(settings)
    if state["failed"]:
        raise ConfigError("the server could not keep its workers running (see the log above)")
    return bool(state["restart"])
