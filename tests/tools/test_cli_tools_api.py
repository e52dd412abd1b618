"""``/api/cli-tools/*``: the coding tools on the server's machine, read-only, with the
fields the original answers with and no secret in the answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from omni.admin.token import read_admin_token
from omni.cli import app
from omni.config import Settings
from tests.tools.conftest import fake_tool

RUNTIME_FIELDS = {"installed", "runnable", "command", "commandPath", "runtimeMode", "reason"}


async def test_runtime_and_settings_answers(
    home: Path, bin_dir: Path, make_client: Callable[..., Any], settings: Settings
) -> None:
    fake_tool(bin_dir, "claude", 'echo "2.1.197 (Claude Code)"')
    client = await make_client()
    token = read_admin_token(settings.paths)
    client.session.headers["Authorization"] = f"Bearer {token}"

    response = await client.get("/api/cli-tools/runtime/claude")
    assert response.status == 200
    answer = await response.json()
    assert set(answer) >= RUNTIME_FIELDS
    assert (answer["installed"], answer["runnable"], answer["reason"]) == (True, True, None)
    assert answer["commandPath"] == str(bin_dir / "claude")

    response = await client.get("/api/cli-tools/runtime/codex")
    answer = await response.json()
    assert (answer["installed"], answer["runnable"], answer["reason"]) == (
        False, False, "not_found",
    )  # fmt: skip

    response = await client.get("/api/cli-tools/claude-settings")
    answer = await response.json()
    assert set(answer) >= RUNTIME_FIELDS
    assert answer["hasOmni"] is False and answer["settings"] is None
    assert answer["settingsPath"] == str(home / ".claude" / "settings.json")

    port = client.server.port
    here = f"http://127.0.0.1:{port}"
    argv = ["--url", here, "tools", "setup", "claude", "--key", "sk-K-9", "--model", "fake/m1",
            "--base-url", here]  # fmt: skip
    result = await asyncio.to_thread(CliRunner().invoke, app, argv)
    assert result.exit_code == 0, result.stderr
    response = await client.get("/api/cli-tools/claude-settings")
    answer = await response.json()
    assert answer["hasOmni"] is True and answer["model"] == "fake/m1"
    assert answer["omniUrl"] == f"http://127.0.0.1:{port}"
    assert answer["settings"]["env"]["ANTHROPIC_AUTH_TOKEN"] == "***"
    assert "sk-K-9" not in json.dumps(answer)

    for tool in ("codex", "droid", "openclaw"):
        response = await client.get(f"/api/cli-tools/{tool}-settings")
        assert response.status == 200 and set(await response.json()) >= RUNTIME_FIELDS

    response = await client.get("/api/cli-tools")
    tools = {t["tool"]: t for t in (await response.json())["tools"]}
    assert tools["claude"]["hasOmni"] is True and tools["cursor"]["settings"] is None

    response = await client.get("/api/cli-tools/runtime/notepad")
    assert response.status == 404
    assert "unknown coding tool 'notepad'" in (await response.json())["error"]["message"]
