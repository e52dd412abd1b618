"""``omni tools setup`` against the real coding agents: with omni requiring API keys,
setup writes each agent's own config (and a fresh key) and the agent, started with no
omni settings of its own, completes a turn through omni; reset leaves the home empty."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import aiohttp
import pytest

from omni.admin.token import read_admin_token
from omni.config import load_settings
from tests.agents.conftest import Agents, Gateway, agent_env, run_agent
from tests.fakes.upstream import Reply

pytestmark = pytest.mark.agents

SETUPS = {
    # tool: (setup arguments, agent argv after the executable, extra environment)
    "claude": (
        ["--model", "up/m1", "--small-model", "side/m1"],
        ["-p", "{prompt}", "--output-format", "text"],
        {"DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"},
    ),
    "codex": (["--model", "up/m1"], ["exec", "--skip-git-repo-check", "{prompt}"], {}),
    "opencode": (
        ["--model", "up/m1", "--small-model", "side/m1"],
        ["run", "{prompt}"],
        {"OPENCODE_DISABLE_AUTOUPDATE": "1", "OPENCODE_DISABLE_MODELS_FETCH": "1"},
    ),
    "gemini": (["--model", "up/m1"], ["-p", "{prompt}"], {"GEMINI_CLI_TRUST_WORKSPACE": "true"}),
}


async def _omni(home: Path, *args: str) -> tuple[int, str, str]:
    env = agent_env(home, {"OMNI_HOME": os.environ["OMNI_HOME"]})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "omni", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.mark.parametrize("tool", sorted(SETUPS))
async def test_setup_then_the_agent_works_through_omni(
    tool: str, gateway: Gateway, agents: Agents, tmp_path: Path
) -> None:
    await gateway.add_provider("up", "openai")
    await gateway.add_provider("side", "openai", upstream=gateway.side)
    token = read_admin_token(load_settings().paths)
    async with aiohttp.ClientSession() as http, http.put(
        f"{gateway.url}/api/settings/require-api-key", json={"requireApiKey": True},
        headers={"Authorization": f"Bearer {token}"},
    ) as response:  # fmt: skip
        assert response.status == 200
    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir()
    setup_args, argv, env = SETUPS[tool]
    code, out, err = await _omni(home, "--url", gateway.url, "tools", "setup", tool, *setup_args,
                                 "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["key"] == "new"

    marker = f"omni-agents-setup-{tool}"
    answer = f"Answer for {tool} through omni, 5e2a."
    gateway.fake.push(Reply(text=answer, chunks=3))
    prompt = [a.replace("{prompt}", f"Say hello ({marker})") for a in argv]
    run = await run_agent(
        [agents.path(tool), *prompt], gateway=gateway, home=home, cwd=work, env=env
    )
    assert run.returncode == 0, run.describe()
    assert answer in run.stdout, run.describe()
    assert gateway.conversation(marker), run.describe()

    code, out, err = await _omni(home, "--url", gateway.url, "tools", "reset", tool, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["mode"] == "restored" and len(result["revoked_keys"]) == 1


@pytest.mark.parametrize("tool", ["claude", "codex"])
async def test_launch_points_the_agent_at_omni_without_files(
    tool: str, gateway: Gateway, agents: Agents, tmp_path: Path
) -> None:
    await gateway.add_provider("up", "openai")
    await gateway.add_provider("side", "openai", upstream=gateway.side)
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    marker = f"omni-agents-launch-{tool}"
    answer = f"Launched {tool} answer, 77c1."
    gateway.fake.push(Reply(text=answer, chunks=2))
    prompt = f"Say hello ({marker})"
    extra = ["-p", prompt] if tool == "claude" else ["exec", "--skip-git-repo-check", prompt]
    env = {
        "OMNI_HOME": os.environ["OMNI_HOME"],
        f"CLI_{tool.upper()}_BIN": agents.path(tool),
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": "side/m1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    argv = [sys.executable, "-m", "omni", "tools", "launch", tool, "--model", "up/m1", "--", *extra]
    run = await run_agent(argv, gateway=gateway, home=home, cwd=work, env=env)
    assert run.returncode == 0, run.describe()
    assert answer in run.stdout, run.describe()
    written = [p for p in home.rglob("*") if p.is_file() and p.suffix in (".toml", ".json")]
    assert not any(p.name in ("settings.json", "config.toml") for p in written)
