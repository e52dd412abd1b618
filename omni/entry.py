"""The ``omni`` console script (and ``python -m omni``): hands the command line to the CLI.

``omni serve`` with its options in plain forms (``--port 8080``, ``--port=8080``,
``-p 8080``, at most once each) takes a short way: no Typer, no Rich, straight to the
server process, so the server starts answering sooner. Anything else, including a serve
line this module does not recognise (``--help``, ``--detach``, a bad value), goes to
:mod:`omni.cli`, which parses it fully and says what is wrong.
"""

from __future__ import annotations

import sys
from typing import Any

# ``omni serve`` options: flag → settings override name (see omni.commands.server.serve).
_SERVE_OPTIONS = {
    "--host": "host",
    "--port": "port",
    "-p": "port",
    "--log-level": "log_level",
    "--workers": "workers",
    "-w": "workers",
}
_NUMBERS = {"port": (0, 65535), "workers": (1, 64)}  # outside: the CLI says why


def serve_options(args: list[str]) -> dict[str, Any] | None:
    """The settings overrides of ``omni serve ARGS`` when every option is in a plain form
    with a plain value; None when the full CLI should parse them."""
    found: dict[str, Any] = {}
    rest = list(args)
    while rest:
        flag, equals, value = rest.pop(0).partition("=")
        name = _SERVE_OPTIONS.get(flag)
        if name is None or name in found or (equals and not flag.startswith("--")):
            return None
        if not equals:
            if not rest or rest[0].startswith("-"):
                return None
            value = rest.pop(0)
        if name in _NUMBERS:
            low, high = _NUMBERS[name]
            if not (value.isascii() and value.isdigit() and low <= int(value) <= high):
                return None
            found[name] = int(value)
        else:
            found[name] = value
    return {name: found.get(name) for name in ("host", "port", "log_level", "workers")}


def report(message: str, hint: str | None) -> None:
    """An error for people, as the CLI prints it (stderr)."""
    print(f"omni: {message}", file=sys.stderr)  # noqa: T201
    if hint:
        print(f"      {hint}", file=sys.stderr)  # noqa: T201


def _serve(overrides: dict[str, Any]) -> None:
    from omni.config import load_settings
    from omni.errors import OmniError
    from omni.process import serve_foreground

    try:
        serve_foreground(load_settings(overrides))
    except OmniError as exc:
        report(exc.message, exc.hint)
        sys.exit(1)


def main() -> None:
    """Console-script entry point."""
    args = sys.argv[1:]
    if args[:1] == ["serve"]:
        overrides = serve_options(args[1:])
        if overrides is not None:
            try:
                _serve(overrides)
            except KeyboardInterrupt:
                sys.exit(130)
            return
    from omni.cli import main as cli_main

    cli_main()
