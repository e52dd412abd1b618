"""Server lifecycle: ``omni serve``, ``start``, ``stop``, ``restart``, ``status``."""

from __future__ import annotations

import time

import typer

from omni.commands._output import note, print_json

_WORKERS = typer.Option(
    None, "--workers", "-w", min=1, max=64, help="Server processes [server.workers, 1]."
)


def serve(
    host: str = typer.Option(None, "--host", help="Address to listen on [127.0.0.1]."),
    port: int = typer.Option(None, "--port", "-p", help="Port [20128]."),
    log_level: str = typer.Option(None, "--log-level", help="debug, info, warning, error."),
    workers: int = _WORKERS,
    detach: bool = typer.Option(False, "--detach", "-d", help="Run in the background."),
) -> None:
    """Run the gateway (foreground; Ctrl-C stops it cleanly)."""
    from omni.config import load_settings

    settings = load_settings(
        {"host": host, "port": port, "log_level": log_level, "workers": workers}
    )
    if detach:
        _start(settings)
        return
    from omni.process import serve_foreground

    serve_foreground(settings)


def _start(settings: object) -> None:
    from omni.process import start_detached

    info = start_detached(settings)  # type: ignore[arg-type]
    note(f"omni: started in the background at {info.url} (pid {info.pid})")


def start(
    host: str = typer.Option(None, "--host", help="Address to listen on [127.0.0.1]."),
    port: int = typer.Option(None, "--port", "-p", help="Port [20128]."),
    workers: int = _WORKERS,
) -> None:
    """Start the gateway in the background."""
    from omni.config import load_settings

    _start(load_settings({"host": host, "port": port, "workers": workers}))


def stop() -> None:
    """Stop the background gateway (in-flight requests finish, writes are flushed)."""
    from omni.config import load_settings
    from omni.process import stop as stop_server

    info = stop_server(load_settings())
    note(f"omni: stopped the server (pid {info.pid})")


def restart() -> None:
    """Stop the gateway if it runs, then start it in the background."""
    from omni.config import load_settings
    from omni.process import find_server
    from omni.process import stop as stop_server

    settings = load_settings()
    if find_server(settings) is not None:
        stop_server(settings)
    _start(settings)


def status(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Say whether the gateway runs, where, and how it is."""
    from omni.config import load_settings
    from omni.process import find_server, health

    settings = load_settings()
    info = find_server(settings)
    state = health(info.url) if info is not None else None
    data = {
        "running": info is not None and state is not None,
        "url": info.url if info else None,
        "pid": info.pid if info else None,
        "uptime_s": round(time.time() - info.started_at, 1) if info else None,
        "health": state,
        "data_dir": str(settings.paths.data_dir),
    }
    if json_out:
        print_json(data)
    elif info is None:
        typer.echo("omni is not running")
    elif state is None:
        typer.echo(f"omni (pid {info.pid}) at {info.url} is not answering")
    else:
        typer.echo(f"omni is running at {info.url} (pid {info.pid}, up {data['uptime_s']} s)")
    if not data["running"]:
        raise typer.Exit(3)
