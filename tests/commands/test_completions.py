"""The shell completion scripts in completions/ match what the CLI generates."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_is_current(shell: str) -> None:
    env = {**os.environ, "_OMNI_COMPLETE": f"source_{shell}"}
    generated = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.argv[0] = 'omni'; from omni.cli import main; main()",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert generated.strip(), "the CLI printed no completion script"
    assert (ROOT / "completions" / f"omni.{shell}").read_text("utf-8") == generated


def test_completion_answers_subcommands() -> None:
    env = {
        **os.environ,
        "_OMNI_COMPLETE": "complete_bash",
        "COMP_WORDS": "omni prov",
        "COMP_CWORD": "1",
    }
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.argv[0] = 'omni'; from omni.cli import main; main()",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout
    assert "providers" in out.split()
