"""``python -m omni.serve``: the server process that ``omni serve --detach`` starts."""

from __future__ import annotations

import argparse
import sys

from omni.config import Settings, load_settings
from omni.errors import OmniError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omni.serve")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--log-level")
    parser.add_argument("--workers", type=int)
    args = parser.parse_args(argv)
    try:
        settings = load_settings(
            {
                "host": args.host,
                "port": args.port,
                "log_level": args.log_level,
                "workers": args.workers,
            }
        )
        from omni.serve.runner import run

        if run(settings):
            _restart(settings)
    except OmniError as exc:
        print(f"omni: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


def _restart(settings: Settings) -> None:
    """Become a fresh server process (same pid) on the same address."""
    import os

    from omni.process import server_command

    sys.stderr.flush()
    command = server_command(settings)
    os.execv(command[0], command)  # noqa: S606 - a fixed argument list, no shell


if __name__ == "__main__":
    sys.exit(main())
