"""opencode `run` with its openai-compatible provider (OpenAI Chat in) through omni to Gemini."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.agents.conftest import Agents, Gateway, Run, run_agent
from tests.fakes.upstream import Reply, ToolCall

pytestmark = pytest.mark.agents


async def opencode(gateway: Gateway, agents: Agents, tmp_path: Path, prompt: str) -> Run:
    await gateway.add_provider("gem", "gemini")
    # opencode also asks its small model for a title, concurrently: that goes to `side`.
    await gateway.add_provider("side", "openai", upstream=gateway.side)
    work = tmp_path / "work"
    work.mkdir()
    config = {
        "provider": {
            "omni": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "omni",
                "options": {"baseURL": f"{gateway.url}/v1", "apiKey": "k"},
                "models": {"gem/m1": {"name": "gem m1"}, "side/m1": {"name": "side m1"}},
            }
        },
        "model": "omni/gem/m1",
        "small_model": "omni/side/m1",
        "autoupdate": False,
        "share": "disabled",
    }
    (work / "opencode.json").write_text(json.dumps(config))
    env = {"OPENCODE_DISABLE_AUTOUPDATE": "1", "OPENCODE_DISABLE_MODELS_FETCH": "1"}
    argv = [agents.path("opencode"), "run", prompt, "--model", "omni/gem/m1"]
    return await run_agent(argv, gateway=gateway, home=tmp_path / "home", cwd=work, env=env)


async def test_plain_answer(gateway: Gateway, agents: Agents, tmp_path: Path) -> None:
    marker = "omni-agents-opencode-plain"
    gateway.fake.push(Reply(text="Plain answer from the Gemini upstream, 8b3f.", chunks=4))

    run = await opencode(gateway, agents, tmp_path, f"Say hello ({marker})")

    assert run.returncode == 0, run.describe()
    assert run.stdout.strip() == "Plain answer from the Gemini upstream, 8b3f.", run.describe()
    [main] = gateway.conversation(marker)  # the title request went to `side`
    assert main.path == "/v1beta/models/m1:streamGenerateContent", run.describe()
    body = main.json
    assert body["contents"][-1]["role"] == "user"
    assert marker in json.dumps(body["contents"][-1]["parts"])
    declared = [f["name"] for t in body["tools"] for f in t.get("functionDeclarations", [])]
    assert {"bash", "read", "edit"} <= set(declared), declared


async def test_bash_round_trip(gateway: Gateway, agents: Agents, tmp_path: Path) -> None:
    """OpenAI tool_call ids in, id-less Gemini functionCall / functionResponse out."""
    marker = "omni-agents-opencode-tool"
    args = {"command": "echo omni-tool-ok", "description": "Print a marker"}
    gateway.fake.push(
        Reply(text="", tool_calls=[ToolCall("bash", json.dumps(args))], finish="tool_calls"),
        Reply(text="The command printed omni-tool-ok, 5c2e."),
    )

    run = await opencode(gateway, agents, tmp_path, f"Run echo omni-tool-ok ({marker})")

    assert run.returncode == 0, run.describe()
    assert run.stdout.strip() == "The command printed omni-tool-ok, 5c2e.", run.describe()
    first, second = gateway.conversation(marker)
    assert first.path == second.path == "/v1beta/models/m1:streamGenerateContent"
    model, user = second.json["contents"][-2:]
    assert model["role"] == "model" and user["role"] == "user", run.describe()
    [call] = [p["functionCall"] for p in model["parts"] if "functionCall" in p]
    assert (call["name"], call["args"]) == ("bash", args)
    [response] = [p["functionResponse"] for p in user["parts"] if "functionResponse" in p]
    assert response["name"] == "bash"
    assert "omni-tool-ok" in json.dumps(response["response"])
