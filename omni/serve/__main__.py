"""``python -m omni.serve``: the server process that ``omni serve --detach`` starts."""

from __future__ import annotations

import argparse
import sys

from omni.config import load_settings
from omni.errors import OmniError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m omni.serve")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--log-level")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(
            {"host": args.host, "port": args.port, "log_level": args.log_level}
        )
        from omni.serve.runner import run

        run(settings)
    except OmniError as exc:
        print(f"omni: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
