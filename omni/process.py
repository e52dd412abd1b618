"""Finding, starting and stopping the server process from the CLI and TUI.

A running server announces itself in ``server.json`` in the runtime dir (pid, URL). A
file whose pid is gone is stale and ignored. ``start_detached`` spawns
``python -m omni.serve`` in its own session with output to the log folder and waits until
the health endpoint answers; ``stop`` sends SIGTERM and waits for the graceful exit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from omni.config import Settings
from omni.errors import OmniError, ServerNotRunningError
from omni.paths import ensure_dir


@dataclass(frozen=True, slots=True)
class ServerInfo:
    pid: int
    url: str
    host: str
    port: int
    version: str
    started_at: float


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find_server(settings: Settings) -> ServerInfo | None:
    """The server this installation runs, if its process is alive."""
    try:
        data = json.loads(settings.paths.server_file.read_text("utf-8"))
        info = ServerInfo(
            pid=int(data["pid"]),
            url=str(data["url"]),
            host=str(data["host"]),
            port=int(data["port"]),
            version=str(data.get("version", "")),
            started_at=float(data.get("started_at", 0)),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if _alive(info.pid) else None


def health(url: str, timeout: float = 2.0) -> dict[str, object] | None:
    """The health document of the server at ``url``, or None if it does not answer."""
    import httpx

    try:
        response = httpx.get(f"{url}/api/monitoring/health", timeout=timeout)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    data: dict[str, object] = response.json()
    return data


def server_command(settings: Settings) -> list[str]:
    """The command line of a server process for ``settings`` (``python -m omni.serve``).

    ``-P``: the server runs the omni installed for this Python, never an ``omni`` folder
    that happens to be in the current directory (``-m`` would put it first on the path).
    """
    return [
        sys.executable, "-P", "-m", "omni.serve",
        "--host", settings.host, "--port", str(settings.port), "--log-level", settings.log_level,
        "--workers", str(settings.workers),
    ]  # fmt: skip


def serve_foreground(settings: Settings) -> None:
    """Become the server process for ``settings`` (same pid; returns only by raising).

    The bare ``python -m omni.serve`` process takes over, so whatever the caller loaded
    (the CLI's typer and rich) does not stay in memory for the server's whole life.
    """
    running = find_server(settings)
    if running is not None:
        raise OmniError(
            f"a server is already running at {running.url} (pid {running.pid})",
            hint="'omni stop' first",
        )
    print(f"omni: serving on {settings.host}:{settings.port} (Ctrl-C to stop)", file=sys.stderr)  # noqa: T201
    sys.stderr.flush()
    command = server_command(settings)
    os.execv(command[0], command)  # noqa: S606 - a fixed argument list, no shell


def start_detached(settings: Settings, wait: float = 15.0) -> ServerInfo:
    """Start the server in the background and return once it answers."""
    running = find_server(settings)
    if running is not None:
        raise OmniError(
            f"a server is already running at {running.url} (pid {running.pid})",
            hint="'omni stop' first, or 'omni restart'",
        )
    log_dir = ensure_dir(settings.paths.log_dir)
    log_path = log_dir / "server.log"
    command = server_command(settings)
    env = dict(os.environ)
    env.setdefault("OMNI_DATA_DIR", str(settings.paths.data_dir))
    with open(log_path, "ab") as log_file:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
            env=env,
            close_fds=True,
        )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        code = child.poll()
        if code is not None:
            raise OmniError(
                f"the server exited during start-up (code {code})",
                hint=f"see {log_path}: {_tail(log_path)}",
            )
        info = find_server(settings)
        if info is not None and info.pid == child.pid and health(info.url, 0.5) is not None:
            return info
        time.sleep(0.05)
    child.terminate()
    raise OmniError(f"the server did not answer within {wait:g} s", hint=f"see {log_path}")


def stop(settings: Settings, wait: float = 40.0) -> ServerInfo:
    """Ask the running server to stop (SIGTERM) and wait until it has."""
    info = find_server(settings)
    if info is None:
        raise ServerNotRunningError("no omni server is running")
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if not _alive(info.pid) or _zombie(info.pid):
            return info
        time.sleep(0.05)
    raise OmniError(
        f"the server (pid {info.pid}) is still finishing requests after {wait:g} s",
        hint=f"wait, or 'kill -9 {info.pid}' to stop it at once",
    )


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _tail(path: os.PathLike[str] | str, lines: int = 3) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return " | ".join(handle.read().strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"
