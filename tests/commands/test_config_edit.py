"""``omni config edit``: the file opens in $EDITOR and is saved only when it is valid."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omni.cli import app

runner = CliRunner()

EDITOR = """
import os, sys
path = sys.argv[1]
with open(os.environ["EDIT_LOG"], "a") as log:
    log.write(open(path).read() + "\\n===\\n")
if "EDIT_EXIT" in os.environ:
    sys.exit(int(os.environ["EDIT_EXIT"]))
if "EDIT_WRITE" in os.environ:
    open(path, "w").write(os.environ["EDIT_WRITE"])
"""


@pytest.fixture
def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)
    log = tmp_path / "edit.log"
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDIT_LOG", str(log))
    return log


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stderr


def test_a_valid_edit_is_saved(
    omni_home: Path, editor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDIT_WRITE", "[server]\nport = 24000  # mine\n")
    code, err = _run("config", "edit")
    assert code == 0 and f"saved {omni_home / 'config.toml'}" in err
    assert (omni_home / "config.toml").read_text() == "[server]\nport = 24000  # mine\n"
    assert "# [server]\n# host = " in editor.read_text(), "a new file starts as a template"
    result = runner.invoke(app, ["config", "get", "server.port"])
    assert result.stdout.strip() == "24000"
    assert not list(omni_home.glob("config-edit-*")), "no draft left behind"


def test_an_invalid_edit_leaves_the_file_alone(
    omni_home: Path, editor: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    omni_home.mkdir()
    config = omni_home / "config.toml"
    config.write_text("[server]\nport = 21000\n")
    monkeypatch.setenv("EDIT_WRITE", "[server]\nport = 'lots'\n")
    code, err = _run("config", "edit")
    assert code == 1
    assert f"omni: {config}: [server] port: expected an integer" in err
    assert "is unchanged (the edit was not valid)" in err
    assert config.read_text() == "[server]\nport = 21000\n"
    assert editor.read_text().startswith("[server]\nport = 21000\n"), "it edited the real text"

    monkeypatch.setenv("EDIT_EXIT", "3")
    code, err = _run("config", "edit")
    assert code == 1 and "the editor exited with code 3" in err
    monkeypatch.delenv("EDIT_EXIT")
    monkeypatch.delenv("EDIT_WRITE")
    code, err = _run("config", "edit")
    assert code == 0 and "no changes" in err
    assert config.read_text() == "[server]\nport = 21000\n"
    assert not list(omni_home.glob("config-edit-*"))
