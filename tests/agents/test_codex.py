"""Codex `exec` (Responses in, streaming, stateless) through omni to Anthropic, Chat, Gemini."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.agents.conftest import Agents, Gateway, Run, omni, run_agent
from tests.fakes.dialects_common import signature
from tests.fakes.upstream import Reply, ToolCall

pytestmark = pytest.mark.agents


async def codex(gateway: Gateway, agents: Agents, tmp_path: Path, model: str, prompt: str) -> Run:
    home = tmp_path / "home"
    (home / ".codex").mkdir(parents=True, exist_ok=True)
    # No retries on Codex's side: a failure omni let through would end the run.
    (home / ".codex" / "config.toml").write_text(
        f'model = "{model}"\n'
        'model_provider = "omni"\n'
        "[model_providers.omni]\n"
        'name = "omni"\n'
        f'base_url = "{gateway.url}/v1"\n'
        'env_key = "OMNI_TEST_KEY"\n'
        'wire_api = "responses"\n'
        "request_max_retries = 0\n"
        "stream_max_retries = 0\n"
    )
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    argv = [agents.path("codex"), "exec", "--skip-git-repo-check", prompt]
    return await run_agent(argv, gateway=gateway, home=home, cwd=work, env={"OMNI_TEST_KEY": "k"})


def last_user_text(body: dict[str, Any]) -> str:
    content = body["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content)


async def test_plain_answer(gateway: Gateway, agents: Agents, tmp_path: Path) -> None:
    await gateway.add_provider("ant", "anthropic")
    marker = "omni-agents-codex-plain"
    gateway.fake.push(Reply(text="Plain answer from the Anthropic upstream, 0c41.", chunks=4))

    run = await codex(gateway, agents, tmp_path, "ant/m1", f"Say hello ({marker})")

    assert run.returncode == 0, run.describe()
    assert run.stdout.strip() == "Plain answer from the Anthropic upstream, 0c41.", run.describe()
    [main] = gateway.conversation(marker)
    assert main.path == "/v1/messages", run.describe()
    assert main.json["model"] == "m1"
    assert main.json["stream"] is True
    assert main.json["messages"][-1]["role"] == "user"
    assert marker in last_user_text(main.json)
    assert "exec_command" in {t["name"] for t in main.json["tools"]}


async def test_exec_command_round_trip(gateway: Gateway, agents: Agents, tmp_path: Path) -> None:
    await gateway.add_provider("ant", "anthropic")
    marker = "omni-agents-codex-tool"
    call = ToolCall("exec_command", json.dumps({"cmd": "echo omni-tool-ok"}))
    gateway.fake.push(
        Reply(text="", tool_calls=[call], finish="tool_calls"),
        Reply(text="The command printed omni-tool-ok, a6b0."),
    )

    run = await codex(gateway, agents, tmp_path, "ant/m1", f"Run echo omni-tool-ok ({marker})")

    assert run.returncode == 0, run.describe()
    assert run.stdout.strip() == "The command printed omni-tool-ok, a6b0.", run.describe()
    first, second = gateway.conversation(marker)
    assert first.path == second.path == "/v1/messages"
    exec_command = next(t for t in first.json["tools"] if t["name"] == "exec_command")
    assert "cmd" in exec_command["input_schema"]["properties"]

    # Codex replays the whole history: the tool_use turn, then the output as a tool_result.
    messages = second.json["messages"]
    assistant, user = messages[-2], messages[-1]
    assert assistant["role"] == "assistant", messages[-2:]
    [tool_use] = [b for b in assistant["content"] if b["type"] == "tool_use"]
    assert tool_use["id"] == call.id
    assert tool_use["name"] == "exec_command"
    assert tool_use["input"] == {"cmd": "echo omni-tool-ok"}
    assert user["role"] == "user"
    [tool_result] = [b for b in user["content"] if b["type"] == "tool_result"]
    assert tool_result["tool_use_id"] == call.id
    output = tool_result["content"]
    if not isinstance(output, str):
        output = "".join(b.get("text", "") for b in output)
    assert "Process exited with code 0" in output
    assert "omni-tool-ok" in output.split("Output:", 1)[-1]


async def test_combo_hides_a_rate_limited_target(
    gateway: Gateway, agents: Agents, tmp_path: Path
) -> None:
    """The first combo target answers 429; omni moves on and Codex never sees the failure."""
    await gateway.add_provider("up-a", "openai")
    await gateway.add_provider("up-b", "gemini")
    await omni("combos", "create", "chain", "up-a/m1", "up-b/m1")
    marker = "omni-agents-codex-combo"
    gateway.fake.push(
        Reply(status=429, headers={"Retry-After": "60"}, error_message="slow down"),
        Reply(text="Answer from the second target, 9e7d."),
    )

    run = await codex(gateway, agents, tmp_path, "chain", f"Say hello ({marker})")

    assert run.returncode == 0, run.describe()
    assert run.stdout.strip() == "Answer from the second target, 9e7d.", run.describe()
    assert "429" not in run.stderr and "slow down" not in run.stderr, run.describe()
    paths = [r.path for r in gateway.conversation(marker)]
    assert paths == ["/v1/chat/completions", "/v1beta/models/m1:streamGenerateContent"]
    assert gateway.fake.pending == 0


def chat_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content or [] if isinstance(p, dict))


async def test_plain_answer_from_a_chat_upstream(
    gateway: Gateway, agents: Agents, tmp_path: Path
) -> None:
    await gateway.add_provider("oai", "openai")
    marker = "omni-agents-codex-chat-plain"
    gateway.fake.push(Reply(text="Plain answer from the chat upstream, 27c9.", chunks=4))

    run = await codex(gateway, agents, tmp_path, "oai/m1", f"Say hello ({marker})")

    assert run.returncode == 0, run.describe()
    assert run.stdout.strip() == "Plain answer from the chat upstream, 27c9.", run.describe()
    [main] = gateway.conversation(marker)
    assert main.path == "/v1/chat/completions", run.describe()
    assert main.headers.get("authorization") == "Bearer k"
    body = main.json
    assert body["model"] == "m1"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    roles = [m["role"] for m in body["messages"]]
    # Instructions and developer messages are system messages, ahead of the user's.
    assert roles == sorted(roles, key=lambda r: r != "system") and set(roles) == {"system", "user"}
    assert roles[-1] == "user" and marker in chat_text(body["messages"][-1]["content"])
    tools = {t["function"]["name"]: t for t in body["tools"] if t["type"] == "function"}
    assert "cmd" in tools["exec_command"]["function"]["parameters"]["properties"]


async def test_exec_command_round_trip_through_a_chat_upstream(
    gateway: Gateway, agents: Agents, tmp_path: Path
) -> None:
    await gateway.add_provider("oai", "openai")
    marker = "omni-agents-codex-chat-tool"
    call = ToolCall("exec_command", json.dumps({"cmd": "echo omni-tool-ok"}))
    gateway.fake.push(
        Reply(text="", tool_calls=[call], finish="tool_calls"),
        Reply(text="The command printed omni-tool-ok, 4b1f."),
    )

    run = await codex(gateway, agents, tmp_path, "oai/m1", f"Run echo omni-tool-ok ({marker})")

    assert run.returncode == 0, run.describe()
    assert run.stdout.strip() == "The command printed omni-tool-ok, 4b1f.", run.describe()
    first, second = gateway.conversation(marker)
    assert first.path == second.path == "/v1/chat/completions"
    assert first.json["messages"] == second.json["messages"][: len(first.json["messages"])]

    # Stateless Codex replays the history: the call as an assistant tool_calls turn (same
    # id), the output as the tool message answering it, and nothing after.
    assistant, tool = second.json["messages"][-2:]
    assert assistant["role"] == "assistant", second.json["messages"][-2:]
    [sent] = assistant["tool_calls"]
    assert (sent["id"], sent["type"]) == (call.id, "function")
    assert sent["function"]["name"] == "exec_command"
    assert json.loads(sent["function"]["arguments"]) == {"cmd": "echo omni-tool-ok"}
    assert tool["role"] == "tool" and tool["tool_call_id"] == call.id
    output = chat_text(tool["content"])
    assert "Process exited with code 0" in output
    assert "omni-tool-ok" in output.split("Output:", 1)[-1]


async def test_exec_command_round_trip_keeps_geminis_thought_signature(
    gateway: Gateway, agents: Agents, tmp_path: Path
) -> None:
    """A thinking Gemini signs its functionCall and wants the signature back on it. Codex
    keeps it on the reasoning item omni hands it (`encrypted_content`) and replays it."""
    await gateway.add_provider("gem", "gemini")
    marker = "omni-agents-codex-gemini-tool"
    thought = "I should run the command."
    call = ToolCall("exec_command", json.dumps({"cmd": "echo omni-tool-ok"}))
    gateway.fake.push(
        Reply(text="", tool_calls=[call], finish="tool_calls", reasoning=thought),
        Reply(text="The command printed omni-tool-ok, 90d2.", reasoning="It printed it."),
    )

    run = await codex(gateway, agents, tmp_path, "gem/m1", f"Run echo omni-tool-ok ({marker})")

    assert run.returncode == 0, run.describe()
    assert run.stdout.strip() == "The command printed omni-tool-ok, 90d2.", run.describe()
    first, second = gateway.conversation(marker)
    assert first.path == second.path == "/v1beta/models/m1:streamGenerateContent"
    assert first.json["generationConfig"]["thinkingConfig"]["includeThoughts"] is True
    model, user = second.json["contents"][-2:]
    assert (model["role"], user["role"]) == ("model", "user")
    assert model["parts"] == [
        {
            "functionCall": {"name": "exec_command", "args": {"cmd": "echo omni-tool-ok"}},
            "thoughtSignature": signature(thought),
        }
    ]
    [response] = [p["functionResponse"] for p in user["parts"]]
    assert response["name"] == "exec_command"
    assert "omni-tool-ok" in json.dumps(response["response"])
