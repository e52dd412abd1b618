"""Claude Code `-p` (Anthropic Messages in, streaming) through omni to an OpenAI Chat upstream."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.agents.conftest import Agents, Gateway, Run, run_agent
from tests.fakes.upstream import Reply, ToolCall

pytestmark = pytest.mark.agents

# A model id Claude Code knows. For ids it does not know (such as omni's `provider/model`) it
# turns on the mid-conversation-system beta and sends `role: "system"` messages: see the
# last test.
MODEL = "claude-sonnet-4-5"
SMALL_MODEL = "claude-haiku-4-5"  # Claude Code's side requests go to the `side` fake


async def claude(
    gateway: Gateway,
    agents: Agents,
    tmp_path: Path,
    *args: str,
    env: dict[str, str] | None = None,
    output: tuple[str, ...] = ("--output-format", "json"),
) -> Run:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    variables = {
        "ANTHROPIC_BASE_URL": gateway.url,
        "ANTHROPIC_API_KEY": "k",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": SMALL_MODEL,
        "ANTHROPIC_SMALL_FAST_MODEL": SMALL_MODEL,
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        **(env or {}),
    }
    argv = [agents.path("claude"), *output, *args]
    return await run_agent(argv, gateway=gateway, home=tmp_path / "home", cwd=work, env=variables)


def result(run: Run) -> dict[str, Any]:
    """The JSON result Claude Code prints with `--output-format json`."""
    assert run.returncode == 0, run.describe()
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    assert lines, run.describe()
    data: dict[str, Any] = json.loads(lines[-1])
    assert data.get("is_error") is False, run.describe()
    return data


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content or [] if isinstance(p, dict))


@pytest.fixture
async def chat_upstream(gateway: Gateway) -> Gateway:
    await gateway.add_provider("oai", "openai", MODEL)
    await gateway.add_provider("side", "openai", SMALL_MODEL, upstream=gateway.side)
    return gateway


async def test_plain_answer(chat_upstream: Gateway, agents: Agents, tmp_path: Path) -> None:
    gateway = chat_upstream
    marker = "omni-agents-claude-plain"
    gateway.fake.push(Reply(text="Plain answer from the chat upstream, 7f2c."))

    run = await claude(gateway, agents, tmp_path, "-p", f"Say hello ({marker})", "--model", MODEL)

    assert result(run)["result"] == "Plain answer from the chat upstream, 7f2c.", run.describe()
    [main] = gateway.conversation(marker)
    assert main.path == "/v1/chat/completions", run.describe()
    body = main.json
    assert body["model"] == MODEL
    assert body["stream"] is True
    assert body["messages"][0]["role"] == "system"
    assert marker in text_of(body["messages"][-1]["content"])
    assert body["messages"][-1]["role"] == "user"
    names = {t["function"]["name"] for t in body["tools"]}
    assert {"Bash", "Read", "Edit"} <= names


async def test_bash_tool_round_trip(chat_upstream: Gateway, agents: Agents, tmp_path: Path) -> None:
    gateway = chat_upstream
    marker = "omni-agents-claude-tool"
    call = ToolCall("Bash", json.dumps({"command": "echo omni-tool-ok"}))
    gateway.fake.push(
        Reply(text="", tool_calls=[call], finish="tool_calls"),
        Reply(text="The command printed omni-tool-ok, 3d9e."),
    )

    run = await claude(
        gateway,
        agents,
        tmp_path,
        "-p",
        f"Run `echo omni-tool-ok` with Bash ({marker})",
        "--model",
        MODEL,
        "--allowedTools",
        "Bash",
    )

    data = result(run)
    assert data["result"] == "The command printed omni-tool-ok, 3d9e.", run.describe()
    first, second = gateway.conversation(marker)
    assert first.path == second.path == "/v1/chat/completions"
    bash = next(t["function"] for t in first.json["tools"] if t["function"]["name"] == "Bash")
    assert "command" in bash["parameters"]["properties"]

    # The tool call comes back as the assistant turn, the tool's output as an OpenAI tool message.
    messages = second.json["messages"]
    i = next(i for i, m in enumerate(messages) if m["role"] == "tool")
    assistant, tool = messages[i - 1], messages[i]
    assert assistant["role"] == "assistant", messages[i - 1 :]
    [sent] = assistant["tool_calls"]
    assert sent["id"] == call.id
    assert sent["function"]["name"] == "Bash"
    assert json.loads(sent["function"]["arguments"]) == {"command": "echo omni-tool-ok"}
    assert tool["tool_call_id"] == call.id
    assert text_of(tool["content"]).strip() == "omni-tool-ok"
    assert [m["role"] for m in messages[i + 1 :]] in ([], ["user"])


async def test_model_unknown_to_claude_code(
    gateway: Gateway, agents: Agents, tmp_path: Path
) -> None:
    """With omni's own `provider/model` ids Claude Code 2.1.197 turns on the beta
    `mid-conversation-system-2026-04-07` and puts `{"role": "system", ...}` entries in
    `messages`; omni keeps that text as system text for the upstream."""
    await gateway.add_provider("oai", "openai")
    gateway.fake.push(Reply(text="Answer for a provider/model id, 51ab."))

    run = await claude(gateway, agents, tmp_path, "-p", "Say hello", "--model", "oai/m1")

    assert result(run)["result"] == "Answer for a provider/model id, 51ab.", run.describe()
    sent = gateway.fake.last.json
    assert [m["role"] for m in sent["messages"]].count("system") >= 1
    assert all(m["role"] in ("system", "user", "assistant", "tool") for m in sent["messages"])
