"""gemini-cli `-m <model> -p` (Gemini streamGenerateContent in) through omni to Anthropic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.agents.conftest import Agents, Gateway, Run, run_agent
from tests.fakes.upstream import Reply, ToolCall

pytestmark = pytest.mark.agents


async def gemini(gateway: Gateway, agents: Agents, tmp_path: Path, prompt: str) -> Run:
    home = tmp_path / "home"
    (home / ".gemini").mkdir(parents=True, exist_ok=True)
    settings = {"security": {"auth": {"selectedType": "gemini-api-key"}}}
    (home / ".gemini" / "settings.json").write_text(json.dumps(settings))
    env = {
        "GEMINI_API_KEY": "k",
        "GOOGLE_GEMINI_BASE_URL": gateway.url,
        "GEMINI_CLI_TRUST_WORKSPACE": "true",
    }
    # `-m` skips the model-router call (clients.md §3).
    argv = [agents.path("gemini"), "-m", "ant/m1", "-p", prompt]
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return await run_agent(argv, gateway=gateway, home=home, cwd=work, env=env)


async def test_plain_answer(gateway: Gateway, agents: Agents, tmp_path: Path) -> None:
    await gateway.add_provider("ant", "anthropic")
    marker = "omni-agents-gemini-plain"
    gateway.fake.push(Reply(text="Plain answer from the Anthropic upstream, 44d1.", chunks=4))

    run = await gemini(gateway, agents, tmp_path, f"Say hello ({marker})")

    assert run.returncode == 0, run.describe()
    assert run.stdout.strip() == "Plain answer from the Anthropic upstream, 44d1.", run.describe()
    [main] = gateway.conversation(marker)
    assert main.path == "/v1/messages", run.describe()
    body = main.json
    assert body["model"] == "m1"
    assert body["stream"] is True
    assert body["messages"][-1]["role"] == "user"
    assert marker in json.dumps(body["messages"][-1]["content"])
    # gemini-cli declares its tools with `parametersJsonSchema`; they arrive as input_schema.
    tools = {t["name"]: t for t in body["tools"]}
    assert "read_file" in tools, sorted(tools)
    schema = tools["read_file"]["input_schema"]
    assert schema.get("type") == "object" and schema.get("properties"), schema


async def test_read_file_round_trip(gateway: Gateway, agents: Agents, tmp_path: Path) -> None:
    """gemini-cli answers a functionCall by name; the upstream's tool_use id must survive."""
    await gateway.add_provider("ant", "anthropic")
    marker = "omni-agents-gemini-tool"
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "note.txt").write_text("omni-tool-ok\n")
    call = ToolCall("read_file", json.dumps({"file_path": "note.txt"}))
    gateway.fake.push(
        Reply(text="", tool_calls=[call], finish="tool_calls"),
        Reply(text="The note says omni-tool-ok, 2f8a."),
    )

    run = await gemini(gateway, agents, tmp_path, f"Read note.txt ({marker})")

    assert run.returncode == 0, run.describe()
    assert run.stdout.strip() == "The note says omni-tool-ok, 2f8a.", run.describe()
    first, second = gateway.conversation(marker)
    assert first.path == second.path == "/v1/messages"
    assistant, user = second.json["messages"][-2:]
    assert assistant["role"] == "assistant" and user["role"] == "user", run.describe()
    [tool_use] = [b for b in assistant["content"] if b["type"] == "tool_use"]
    assert (tool_use["id"], tool_use["name"]) == (call.id, "read_file")
    assert tool_use["input"] == {"file_path": "note.txt"}
    [tool_result] = [b for b in user["content"] if b["type"] == "tool_result"]
    assert tool_result["tool_use_id"] == call.id
    assert "omni-tool-ok" in json.dumps(tool_result["content"])
