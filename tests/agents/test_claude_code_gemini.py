"""Claude Code `-p` (Anthropic Messages in, thinking on) through omni to a Gemini upstream.

Claude Code turns extended thinking on with `MAX_THINKING_TOKENS`; omni must ask Gemini for
thoughts (`thinkingConfig`), hand them to Claude Code as thinking blocks, and on the next turn
give Gemini back its `functionCall` with the `thoughtSignature` it was issued (Gemini refuses a
function call without it when thinking is on), followed by the `functionResponse`.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from tests.agents.conftest import Agents, Gateway, Run
from tests.agents.test_claude_code import MODEL, SMALL_MODEL, claude, result
from tests.fakes.dialects_common import signature
from tests.fakes.upstream import Reply, ToolCall

pytestmark = pytest.mark.agents

THINKING = {"MAX_THINKING_TOKENS": "4000"}
STREAM_JSON = ("--output-format", "stream-json", "--verbose")
GEMINI_PATH = f"/v1beta/models/{MODEL}:streamGenerateContent"


@pytest.fixture
async def gemini_upstream(gateway: Gateway) -> Gateway:
    await gateway.add_provider("gem", "gemini", MODEL)
    await gateway.add_provider("side", "openai", SMALL_MODEL, upstream=gateway.side)
    return gateway


def blocks(run: Run) -> list[dict[str, Any]]:
    """The content blocks of Claude Code's turns, in the order it printed them."""
    out: list[dict[str, Any]] = []
    for line in run.stdout.splitlines():
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        if event.get("type") in ("assistant", "user"):
            content = event["message"]["content"]
            out += [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
    return out


def assert_gemini_request(run: Run, sent: Any) -> None:
    """What omni sends Gemini for a Claude Code turn with thinking on."""
    assert sent.path == GEMINI_PATH, run.describe()
    assert sent.query.get("alt") == "sse"
    assert sent.headers.get("x-goog-api-key") == "k"
    assert "authorization" not in sent.headers and "x-api-key" not in sent.headers
    config = sent.json["generationConfig"]
    assert config["thinkingConfig"] == {"thinkingBudget": 4000, "includeThoughts": True}
    assert "temperature" not in config
    roles = [c["role"] for c in sent.json["contents"]]
    assert roles[0] == "user" and all(a != b for a, b in itertools.pairwise(roles))
    assert all(c["parts"] for c in sent.json["contents"])
    declared = {f["name"] for t in sent.json["tools"] for f in t.get("functionDeclarations", [])}
    assert {"Bash", "Read", "Edit"} <= declared


async def test_plain_answer_with_thinking(
    gemini_upstream: Gateway, agents: Agents, tmp_path: Path
) -> None:
    gateway = gemini_upstream
    marker = "omni-agents-claude-gemini-plain"
    thought = "The user wants a greeting; answer briefly."
    gateway.fake.push(Reply(text="Plain answer from the Gemini upstream, 1c7a.", reasoning=thought))

    run = await claude(
        gateway, agents, tmp_path, "-p", f"Say hello ({marker})", "--model", MODEL,
        env=THINKING, output=STREAM_JSON,
    )  # fmt: skip

    assert result(run)["result"] == "Plain answer from the Gemini upstream, 1c7a.", run.describe()
    [main] = gateway.conversation(marker)
    assert_gemini_request(run, main)
    assert main.json["contents"][-1]["role"] == "user"
    assert marker in json.dumps(main.json["contents"][-1]["parts"])
    # The thoughts reach Claude Code as a thinking block ahead of the answer.
    kinds = [(b["type"], b.get("thinking") or b.get("text")) for b in blocks(run)]
    assert kinds == [
        ("thinking", thought),
        ("text", "Plain answer from the Gemini upstream, 1c7a."),
    ], run.describe()


async def test_bash_round_trip_keeps_the_thought_signature(
    gemini_upstream: Gateway, agents: Agents, tmp_path: Path
) -> None:
    gateway = gemini_upstream
    marker = "omni-agents-claude-gemini-tool"
    thought = "I should run the command with Bash."
    call = ToolCall("Bash", json.dumps({"command": "echo omni-tool-ok"}))
    gateway.fake.push(
        # The fake signs the first functionCall, as Gemini does with thinking on.
        Reply(text="", tool_calls=[call], finish="tool_calls", reasoning=thought),
        Reply(text="The command printed omni-tool-ok, 6e1d.", reasoning="It printed the marker."),
    )

    run = await claude(
        gateway, agents, tmp_path, "-p", f"Run `echo omni-tool-ok` with Bash ({marker})",
        "--model", MODEL, "--allowedTools", "Bash", env=THINKING, output=STREAM_JSON,
    )  # fmt: skip

    assert result(run)["result"] == "The command printed omni-tool-ok, 6e1d.", run.describe()
    first, second = gateway.conversation(marker)
    assert_gemini_request(run, first)
    assert_gemini_request(run, second)

    # Claude Code saw: thinking, the Bash call, ran it, then thinking and the answer.
    seen = blocks(run)
    assert [b["type"] for b in seen] == [
        "thinking", "tool_use", "tool_result", "thinking", "text",
    ], run.describe()  # fmt: skip
    assert seen[0]["thinking"] == thought
    assert (seen[1]["name"], seen[1]["input"]) == ("Bash", {"command": "echo omni-tool-ok"})
    assert seen[2]["tool_use_id"] == seen[1]["id"]
    assert seen[2]["content"].strip() == "omni-tool-ok"

    # The second request replays the turn the Gemini way: the model's functionCall, signed
    # with the very signature Gemini gave it, then the user's functionResponse.
    contents = second.json["contents"]
    model, user = contents[-2:]
    assert (model["role"], user["role"]) == ("model", "user"), contents[-2:]
    [call_part] = [p for p in model["parts"] if "functionCall" in p]
    assert call_part["functionCall"] == {"name": "Bash", "args": {"command": "echo omni-tool-ok"}}
    assert call_part["thoughtSignature"] == signature(thought)
    assert model["parts"] == [call_part]  # an unsigned thought summary is not sent back
    [response] = [p["functionResponse"] for p in user["parts"]]
    assert response["name"] == "Bash"
    assert "omni-tool-ok" in json.dumps(response["response"])
    assert contents[:-2] == first.json["contents"]
    assert gateway.fake.pending == 0
