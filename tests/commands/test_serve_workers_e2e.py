"""``--workers`` reaches the server process, and the new verbs against a detached server:
``omni start`` -> doctor, accounts, usage, models test, tools setup -> ``omni stop``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from omni.cli import app
from omni.config import load_settings
from omni.process import server_command
from tests.conftest import free_port, run_omni


def test_workers_flag_and_setting_reach_the_server_command(omni_home: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--workers", "0"])
    assert result.exit_code == 2 and "--workers" in result.stderr
    command = server_command(load_settings({"workers": 3}))
    assert command[command.index("--workers") + 1] == "3"
    omni_home.mkdir()
    (omni_home / "config.toml").write_text("[server]\nworkers = 4\n")
    command = server_command(load_settings())
    assert command[command.index("--workers") + 1] == "4"


async def test_new_verbs_against_a_detached_server(
    upstream: Any, omni_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    _, _, err = await run_omni("start", "--port", str(port), "--workers", "2")
    assert f"started in the background at {url}" in err
    try:
        pid = json.loads((await run_omni("status", "--json"))[1])["pid"]
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert argv[argv.index(b"--workers") + 1] == b"2"

        await run_omni("providers", "add", "fake", "--base-url", f"{upstream.url}/v1",
                       "--api-key", "sk-up")  # fmt: skip
        _, _, err = await run_omni("accounts", "add", "fake", "spare", "--api-key", "sk-2")
        assert f"via server {url}" in err
        _, out, _ = await run_omni("models", "test", "fake/gpt-4o-mini", "--json")
        assert json.loads(out)["ok"] is True
        _, out, _ = await run_omni("usage", "--by", "provider", "--json")
        assert json.loads(out)["total"]["requests"] == 0, "tests go around the gateway"

        _, out, _ = await run_omni("doctor", "--json", check=False)
        checks = {c["name"]: c for c in json.loads(out)["checks"]}
        assert checks["server"]["status"] == "ok" and url in checks["server"]["message"]
        assert checks["provider fake"]["status"] == "ok"

        _, out, _ = await run_omni("tools", "setup", "claude", "--json")
        assert json.loads(out)["url"] == url, "tools are pointed at the running server"
        settings = json.loads((tmp_path / "home" / ".claude" / "settings.json").read_text())
        assert settings["env"]["ANTHROPIC_BASE_URL"] == url
        _, out, _ = await run_omni("tools", "reset", "claude", "--json")
        assert json.loads(out)["mode"] == "restored"
    finally:
        await run_omni("stop")
