"""An isolated home folder for coding-tool tests: HOME points into the test's tmp dir and
no tool-specific location variable leaks in from outside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_TOOL_VARIABLES = (
    "CLAUDE_CONFIG_DIR", "CODEX_HOME", "XDG_CONFIG_HOME", "GEMINI_CLI_HOME", "CLI_CONFIG_HOME",
    "CLI_MODE", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "VISUAL", "EDITOR",
)  # fmt: skip


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    for name in list(os.environ):
        if name in _TOOL_VARIABLES or (name.startswith("CLI_") and name.endswith("_BIN")):
            monkeypatch.delenv(name, raising=False)
    return folder


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder first on PATH (and nothing else but the system folders) for fake tools."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")
    return folder


def fake_tool(folder: Path, name: str, script: str) -> Path:
    """An executable shell script named ``name`` in ``folder``."""
    path = folder / name
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)
    return path
