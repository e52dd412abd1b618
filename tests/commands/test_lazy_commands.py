"""The root command loads a command's module only when that command runs.

``omni --help`` lists every command from the table in :mod:`omni.cli` without importing
any command module (nor aiohttp, httpx or the admin client); each listed line is the
command's own help, and ``omni <group> --help`` still shows every command of the group,
including those other modules add to it.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from omni.cli import COMMANDS, app, load_command

# Nothing a listing needs; every command module counts too (checked by prefix below).
_NOT_FOR_HELP = ("aiohttp", "httpx", "omni.client", "omni.admin", "omni.store", "textual")


def _loaded_after(argv: list[str]) -> list[str]:
    """The modules a fresh ``omni ARGV`` process has imported by the time it exits."""
    code = (
        "import sys\n"
        "from omni.cli import main\n"
        f"sys.argv = ['omni', *{argv!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "120"},
    )
    assert "Usage" in result.stdout or "omni " in result.stdout, result.stdout + result.stderr
    return result.stderr.splitlines()


@pytest.mark.parametrize("argv", [["--help"], ["--version"], []])
def test_help_and_version_import_no_command_module(argv: list[str]) -> None:
    loaded = _loaded_after(argv)
    commands = [m for m in loaded if m.startswith("omni.commands.")]
    assert commands == []
    assert [m for m in loaded if m.split(".")[0] in _NOT_FOR_HELP or m in _NOT_FOR_HELP] == []


def test_version_renders_no_rich_help() -> None:
    loaded = _loaded_after(["--version"])
    assert [m for m in loaded if m == "rich" or m.startswith(("rich.", "typer.rich_utils"))] == []


def test_a_command_loads_only_its_own_module() -> None:
    loaded = _loaded_after(["serve", "--help"])
    commands = {m for m in loaded if m.startswith("omni.commands.")}
    assert commands == {"omni.commands.server", "omni.commands._output"}
    assert "aiohttp" not in loaded


def test_help_lists_every_command_with_its_own_line() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name, entry in COMMANDS.items():
        command = load_command(name)
        own = inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]
        assert entry.help == own.replace("\n", " "), name
        assert entry.panel == getattr(command, "rich_help_panel", None), name
        assert f" {name} " in result.output and entry.help in result.output, name


def test_the_table_names_every_root_command_once() -> None:
    group = typer.main.get_command(app)
    ctx = group.make_context("omni", [], resilient_parsing=True)
    assert group.list_commands(ctx) == list(COMMANDS)


@pytest.mark.parametrize(
    ("group", "commands"),
    [
        ("providers", ["add", "list", "show", "rm", "catalog", "test", "edit", "login", "import"]),
        ("combos", ["create", "list", "show", "edit", "rm", "test"]),
        ("models", ["list", "show", "available", "test", "sync"]),
        ("auth", ["password", "lockouts", "unlock"]),
        ("limits", ["show", "set", "rm"]),
    ],
)
def test_group_help_shows_the_group_commands(group: str, commands: list[str]) -> None:
    result = CliRunner().invoke(app, [group, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for command in commands:
        assert f" {command} " in result.output, (group, command)


def test_an_unknown_command_is_still_refused() -> None:
    result = CliRunner().invoke(app, ["nosuch"])
    assert result.exit_code == 2
    assert "nosuch" in result.output
