"""``omni serve`` takes the short way to the server only for lines it reads exactly as the
full CLI reads them; everything else goes to the full CLI, with the same results."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from omni.cli import load_command
from omni.config import load_settings
from omni.entry import serve_options
from omni.process import server_command


def _cli_reading(args: list[str]) -> dict[str, Any]:
    """What the full CLI's ``serve`` receives for ``args``."""
    ctx = load_command("serve").make_context("serve", list(args))
    return {name: ctx.params[name] for name in ("host", "port", "log_level", "workers")}


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--port", "8080"],
        ["--port=8080"],
        ["-p", "8080"],
        ["--host", "0.0.0.0", "--port", "20128", "--log-level", "warning"],
        ["--log-level=debug", "-w", "4"],
        ["--workers", "64", "--host=::1"],
        ["--port", "0080"],
        ["--host", ""],
    ],
)
def test_the_short_way_reads_options_as_the_cli_does(args: list[str]) -> None:
    assert serve_options(args) == _cli_reading(args)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-h"],
        ["--detach"],
        ["-d", "--port", "8080"],
        ["--port"],
        ["--port", "eighty"],
        ["--port", "-1"],
        ["--port", "70000"],
        ["--workers", "0"],
        ["--workers", "65"],
        ["--port", "1", "--port", "2"],
        ["-p8080"],
        ["-p=8080"],
        ["--url", "http://x"],
        ["--", "--port", "1"],
        ["extra"],
        ["--port", "٣"],
    ],
)
def test_anything_else_goes_to_the_full_cli(args: list[str]) -> None:
    assert serve_options(args) is None


def _omni(*args: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys\n"
        "from omni.entry import main\n"
        f"sys.argv = ['omni', *{list(args)!r}]\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    print('LOADED=' + ','.join(m for m in ('typer', 'rich') if m in sys.modules))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=dict(os.environ),
    )


def test_both_ways_refuse_a_second_server_alike(omni_home: Path) -> None:
    settings = load_settings()
    settings.paths.server_file.parent.mkdir(parents=True, exist_ok=True)
    settings.paths.server_file.write_bytes(
        orjson.dumps(
            {"pid": os.getpid(), "host": "127.0.0.1", "port": 9, "url": "http://127.0.0.1:9"}
        )
    )
    short = _omni("serve", "--port", "20555")
    full = _omni("serve", "--port", "20555", "--port", "20555")  # repeated: the full CLI
    assert short.returncode == full.returncode == 1
    assert short.stderr == full.stderr
    assert short.stderr == (
        f"omni: a server is already running at http://127.0.0.1:9 (pid {os.getpid()})\n"
        "      'omni stop' first\n"
    )
    assert short.stdout.strip() == "LOADED="  # the short way loads neither typer nor rich
    assert full.stdout.strip().startswith("LOADED=typer")  # (it went the full way)


def test_a_bad_setting_is_reported_alike(omni_home: Path) -> None:
    short = _omni("serve", "--log-level", "loud")
    full = _omni("serve", "--log-level", "loud", "--log-level", "loud")
    assert short.returncode == full.returncode == 1
    assert short.stderr == full.stderr
    assert short.stderr.startswith("omni: ")


def test_the_server_runs_the_installed_omni_not_a_folder_here(tmp_path: Path) -> None:
    decoy = tmp_path / "omni" / "serve"
    decoy.mkdir(parents=True)
    (tmp_path / "omni" / "__init__.py").write_text("")
    (decoy / "__init__.py").write_text("")
    (decoy / "__main__.py").write_text("print('a stray omni folder')\n")
    command = server_command(load_settings())
    result = subprocess.run(
        [*command[: command.index("omni.serve") + 1], "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "stray" not in result.stdout
    assert result.stdout.startswith("usage: python -m omni.serve")
