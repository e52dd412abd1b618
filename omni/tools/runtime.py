"""Is a coding tool installed, and does it run? (``installed``, ``runnable``, ``command``,
``commandPath``, ``runtimeMode``, ``reason``: the answer of ``/api/cli-tools/runtime``.)

The executable comes from ``CLI_<TOOL>_BIN`` when set (an absolute path or a name), else
``PATH``, else a few known install folders. "Runnable" means ``<tool> --version`` exits 0
within the tool's time limit; the first line it prints is the version.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUNTIME_MODES = ("auto", "host", "container")


@dataclass(frozen=True, slots=True)
class Tool:
    """A coding tool omni knows: its id, display name and the commands that start it."""

    id: str
    name: str
    commands: tuple[str, ...]
    timeout: float = 8.0  # seconds for '--version' (some tools start slowly when cold)

    @property
    def env_bin(self) -> str:
        return f"CLI_{self.id.upper()}_BIN"


TOOLS: dict[str, Tool] = {
    tool.id: tool
    for tool in (
        Tool("claude", "Claude Code", ("claude",)),
        Tool("codex", "Codex CLI", ("codex",)),
        Tool("opencode", "opencode", ("opencode",), timeout=15.0),
        Tool("gemini", "Gemini CLI", ("gemini",), timeout=15.0),
        Tool("droid", "Factory Droid", ("droid",)),
        Tool("openclaw", "OpenClaw", ("openclaw",), timeout=15.0),
        Tool("cline", "Cline CLI", ("cline",), timeout=12.0),
        Tool("cursor", "Cursor", ("cursor-agent", "agent", "cursor"), timeout=15.0),
    )
}


def _known_dirs(home: Path) -> list[Path]:
    return [
        home / ".local" / "bin",
        home / ".npm-global" / "bin",
        home / ".claude" / "local",
        home / ".bun" / "bin",
        home / ".opencode" / "bin",
        Path("/usr/local/bin"),
        Path("/opt/homebrew/bin"),
    ]


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def locate(tool: Tool, env: dict[str, str] | None = None) -> tuple[str, str | None, str | None]:
    """``(command, path or None, reason or None)`` for ``tool`` on this machine."""
    env = dict(os.environ) if env is None else env
    chosen = env.get(tool.env_bin, "").strip()
    commands = (chosen,) if chosen else tool.commands
    search = env.get("PATH", os.defpath)
    home = Path(env.get("HOME") or Path.home())
    for command in commands:
        if os.sep in command:
            path = Path(command).expanduser()
            if not path.exists():
                return command, None, "not_found"
            return command, str(path), None if _executable(path) else "not_executable"
        found = shutil.which(command, path=search)
        if found:
            return command, found, None
        for folder in _known_dirs(home):
            candidate = folder / command
            if _executable(candidate):
                return command, str(candidate), None
    return commands[0], None, "not_found"


def runtime_mode(env: dict[str, str] | None = None) -> str:
    mode = (dict(os.environ) if env is None else env).get("CLI_MODE", "auto").strip().lower()
    return mode if mode in RUNTIME_MODES else "auto"


def status(tool_id: str, env: dict[str, str] | None = None, check: bool = True) -> dict[str, Any]:
    """Where ``tool_id`` is and whether it runs (``check`` False: only look for it)."""
    tool = TOOLS[tool_id]
    command, path, reason = locate(tool, env)
    answer: dict[str, Any] = {
        "tool": tool.id,
        "name": tool.name,
        "installed": path is not None,
        "runnable": False,
        "command": command,
        "commandPath": path,
        "runtimeMode": runtime_mode(env),
        "reason": reason,
        "version": None,
    }
    if path is None or reason is not None:
        return answer
    if not check:
        answer["runnable"] = None
        return answer
    try:
        done = subprocess.run(
            [path, "--version"],
            capture_output=True,
            text=True,
            timeout=tool.timeout,
            stdin=subprocess.DEVNULL,
            check=False,
            env=env,
        )
    except subprocess.TimeoutExpired:
        answer["reason"] = "timeout"
        return answer
    except OSError:
        answer["reason"] = "not_executable"
        return answer
    if done.returncode != 0:
        answer["reason"] = "healthcheck_failed"
        return answer
    first = (done.stdout or done.stderr).strip().splitlines()
    answer["runnable"] = True
    answer["version"] = first[0].strip()[:120] if first else None
    return answer
