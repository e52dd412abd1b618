"""The shell completion scripts in completions/ match what the CLI generates."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_MAIN = "import sys; sys.argv[0] = 'omni'; from omni.cli import main; main()"


def _omni(env: dict[str, str]) -> str:
    return subprocess.run(
        [sys.executable, "-c", _MAIN],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_is_current(shell: str) -> None:
    generated = _omni({"_OMNI_COMPLETE": f"source_{shell}"})
    assert generated.strip(), "the CLI printed no completion script"
    assert (ROOT / "completions" / f"omni.{shell}").read_text("utf-8") == generated


def test_completion_answers_subcommands() -> None:
    out = _omni({"_OMNI_COMPLETE": "complete_bash", "COMP_WORDS": "omni prov", "COMP_CWORD": "1"})
    assert "providers" in out.split()
