"""The coding tools on the server's machine, for ``/api/cli-tools/*``: whether each is
installed and runs (``installed, runnable, command, commandPath, runtimeMode, reason``),
where its config lives, what it holds (secrets masked) and whether it points at omni.

Read-only: setting a tool up writes files in a user's home, which ``omni tools setup``
does on the user's own machine (see :mod:`omni.tools.setup`).
"""

from __future__ import annotations

import re
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from omni.admin import AdminContext
from omni.errors import NotFoundError
from omni.tools import runtime
from omni.tools.setup import inspect, local_url
from omni.tools.writers import WRITERS, Places

_SECRET_NAME = re.compile(r"key|token|secret|password|auth", re.IGNORECASE)


def masked(value: Any, name: str = "") -> Any:
    """A parsed config with every value under a secret-looking name shown as ``***``."""
    if isinstance(value, dict):
        return {k: masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, name) for v in value]
    if isinstance(value, str) and value and _SECRET_NAME.search(name):
        return "***"
    return value


def _parse(path: Path) -> Any:
    import json

    from omni.tools.formats import _strip_jsonc

    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    try:
        if path.suffix == ".toml":
            return tomllib.loads(text)
        if path.suffix in (".json", ".jsonc"):
            return json.loads(_strip_jsonc(text))
    except ValueError:
        return None
    return None


class CliToolService:
    """Runtime status and settings of the coding tools omni knows."""

    def __init__(self, ctx: AdminContext, places: Places | None = None) -> None:
        self.ctx = ctx
        self.places = places or Places.current()

    def _tool(self, tool_id: str) -> runtime.Tool:
        tool = runtime.TOOLS.get(tool_id)
        if tool is None:
            raise NotFoundError(
                f"unknown coding tool '{tool_id}'", hint=f"known: {', '.join(runtime.TOOLS)}"
            )
        return tool

    def runtime(self, tool_id: str) -> dict[str, Any]:
        return runtime.status(self._tool(tool_id).id, dict(self.places.env) or None)

    def settings(self, tool_id: str) -> dict[str, Any]:
        """Runtime status plus the tool's config (masked) and whether it points here."""
        answer = self.runtime(tool_id)
        here = local_url(self.ctx.settings.host, self.ctx.settings.port)
        if tool_id not in WRITERS:
            return {**answer, "settings": None, "settingsPath": None, "hasOmni": False}
        found = inspect(tool_id, self.places)
        main = next(iter(found["files"].values()))
        configured = found["configured"]
        return {
            **answer,
            "settingsPath": main,
            "files": found["files"],
            "settings": masked(_parse(Path(main))),
            "hasOmni": configured is not None,
            "pointsHere": bool(configured) and configured.get("url") == here,
            "omniUrl": configured.get("url") if configured else None,
            "model": configured.get("model") if configured else None,
            "error": found["error"],
        }

    def all_tools(self) -> list[dict[str, Any]]:
        with ThreadPoolExecutor(max_workers=len(runtime.TOOLS)) as pool:
            return list(pool.map(self.settings, runtime.TOOLS))
