"""opencode `run` through omni with each of its wire formats, to upstreams of other dialects.

Its openai-compatible provider (OpenAI Chat in) goes to Gemini; its built-in `openai`
(Responses in), `anthropic` (Messages in) and `google` (Gemini in) providers, each pointed at
omni with `baseURL`, go to Anthropic, OpenAI Responses and OpenAI Chat upstreams. The AI-SDK
provider packages are bundled in the opencode binary: nothing is fetched for them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.agents.conftest import Agents, Gateway, Recorded, Run, run_agent
from tests.conftest import free_port
from tests.fakes.upstream import Reply, ToolCall

pytestmark = pytest.mark.agents

TOOLS = {"bash", "glob", "grep", "read"}  # among the ten or so opencode declares


async def opencode(
    gateway: Gateway,
    agents: Agents,
    tmp_path: Path,
    prompt: str,
    model: str = "omni/gem/m1",
    providers: dict[str, Any] | None = None,
) -> Run:
    """Run `opencode run PROMPT --model MODEL`; `providers` adds to the `omni` one."""
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
            },
            **(providers or {}),
        },
        "model": model,
        "small_model": "omni/side/m1",
        "autoupdate": False,
        "share": "disabled",
    }
    (work / "opencode.json").write_text(json.dumps(config))
    env = {
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
        "OPENCODE_DISABLE_MODELS_FETCH": "1",
        # On every start opencode installs its plugin SDK into its config dir in the
        # background (best effort: a warning when that fails). A closed local port as the
        # npm registry keeps the run on this machine, and seconds faster.
        "npm_config_registry": f"http://127.0.0.1:{free_port()}/",
    }
    argv = [agents.path("opencode"), "run", prompt, "--model", model]
    return await run_agent(argv, gateway=gateway, home=tmp_path / "home", cwd=work, env=env)


def pointed_at_omni(gateway: Gateway, name: str, path: str = "/v1") -> dict[str, Any]:
    """A built-in opencode provider with its base URL on omni."""
    return {name: {"options": {"baseURL": f"{gateway.url}{path}", "apiKey": "k"}}}


async def test_plain_answer(gateway: Gateway, agents: Agents, tmp_path: Path) -> None:
    await gateway.add_provider("gem", "gemini")
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
    await gateway.add_provider("gem", "gemini")
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


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content or [] if isinstance(b, dict))


def assert_anthropic_upstream(run: Run, sent: Recorded) -> None:
    assert sent.path == "/v1/messages", run.describe()
    assert (sent.headers.get("x-api-key"), sent.headers.get("anthropic-version")) == (
        "k",
        "2023-06-01",
    )
    assert "authorization" not in sent.headers
    assert sent.json["model"] == "gpt-5" and sent.json["stream"] is True
    assert {t["name"] for t in sent.json["tools"]} >= TOOLS


async def test_openai_responses_provider_to_an_anthropic_upstream(
    gateway: Gateway, agents: Agents, tmp_path: Path
) -> None:
    """opencode's `openai` provider speaks the Responses API (`/v1/responses`, streamed)."""
    await gateway.add_provider("ant", "anthropic", "gpt-5")
    marker = "omni-agents-opencode-responses-plain"
    gateway.fake.push(Reply(text="Plain answer from the Anthropic upstream, d40e.", chunks=4))

    run = await opencode(
        gateway, agents, tmp_path, f"Say hello ({marker})", "openai/gpt-5",
        pointed_at_omni(gateway, "openai"),
    )  # fmt: skip

    assert run.returncode == 0, run.describe()
    assert run.stdout.strip() == "Plain answer from the Anthropic upstream, d40e.", run.describe()
    [main] = gateway.conversation(marker)
    assert_anthropic_upstream(run, main)
    assert main.json["system"], "the Responses instructions become the system prompt"
    assert main.json["messages"][-1]["role"] == "user"
    assert marker in text_of(main.json["messages"][-1]["content"])


async def test_openai_responses_provider_bash_round_trip(
    gateway: Gateway, agents: Agents, tmp_path: Path
) -> None:
    """Responses function_call / function_call_output items in, tool_use / tool_result out,
    the upstream's call id kept through opencode's history."""
    await gateway.add_provider("ant", "anthropic", "gpt-5")
    marker = "omni-agents-opencode-responses-tool"
    args = {"command": "echo omni-tool-ok", "description": "Print a marker"}
    call = ToolCall("bash", json.dumps(args))
    gateway.fake.push(
        Reply(text="", tool_calls=[call], finish="tool_calls"),
        Reply(text="The command printed omni-tool-ok, 0f6b."),
    )

    run = await opencode(
        gateway, agents, tmp_path, f"Run echo omni-tool-ok ({marker})", "openai/gpt-5",
        pointed_at_omni(gateway, "openai"),
    )  # fmt: skip

    assert run.returncode == 0, run.describe()
    assert run.stdout.strip() == "The command printed omni-tool-ok, 0f6b.", run.describe()
    first, second = gateway.conversation(marker)
    assert_anthropic_upstream(run, first)
    assert_anthropic_upstream(run, second)
    assistant, user = second.json["messages"][-2:]
    assert (assistant["role"], user["role"]) == ("assistant", "user"), run.describe()
    [tool_use] = [b for b in assistant["content"] if b["type"] == "tool_use"]
    assert (tool_use["id"], tool_use["name"], tool_use["input"]) == (call.id, "bash", args)
    [tool_result] = [b for b in user["content"] if b["type"] == "tool_result"]
    assert tool_result["tool_use_id"] == call.id
    assert "omni-tool-ok" in text_of(tool_result["content"])


async def test_anthropic_provider_to_a_responses_upstream(
    gateway: Gateway, agents: Agents, tmp_path: Path
) -> None:
    """opencode's `anthropic` provider (`/v1/messages`, x-api-key) to an OpenAI Responses
    upstream."""
    await gateway.add_provider("resp", "responses", "claude-sonnet-4-5")
    marker = "omni-agents-opencode-anthropic-plain"
    gateway.fake.push(Reply(text="Plain answer from the Responses upstream, 7a21.", chunks=4))

    run = await opencode(
        gateway, agents, tmp_path, f"Say hello ({marker})", "anthropic/claude-sonnet-4-5",
        pointed_at_omni(gateway, "anthropic"),
    )  # fmt: skip

    assert run.returncode == 0, run.describe()
    assert run.stdout.strip() == "Plain answer from the Responses upstream, 7a21.", run.describe()
    [main] = gateway.conversation(marker)
    assert main.path == "/v1/responses", run.describe()
    assert main.headers.get("authorization") == "Bearer k"
    body = main.json
    assert (body["model"], body["stream"]) == ("claude-sonnet-4-5", True)
    assert body["instructions"], "the Anthropic system prompt becomes the instructions"
    [item] = body["input"]
    assert (item["type"], item["role"]) == ("message", "user")
    assert marker in json.dumps(item["content"])
    assert {t["name"] for t in body["tools"] if t["type"] == "function"} >= TOOLS


async def test_google_provider_to_a_chat_upstream(
    gateway: Gateway, agents: Agents, tmp_path: Path
) -> None:
    """opencode's `google` provider (`/v1beta/models/{m}:streamGenerateContent?alt=sse`,
    x-goog-api-key) to an OpenAI Chat upstream."""
    await gateway.add_provider("oai", "openai", "gemini-2.5-flash")
    marker = "omni-agents-opencode-google-plain"
    gateway.fake.push(Reply(text="Plain answer from the chat upstream, 3e88.", chunks=4))

    run = await opencode(
        gateway, agents, tmp_path, f"Say hello ({marker})", "google/gemini-2.5-flash",
        pointed_at_omni(gateway, "google", "/v1beta"),
    )  # fmt: skip

    assert run.returncode == 0, run.describe()
    assert run.stdout.strip() == "Plain answer from the chat upstream, 3e88.", run.describe()
    [main] = gateway.conversation(marker)
    assert main.path == "/v1/chat/completions", run.describe()
    assert main.headers.get("authorization") == "Bearer k"
    body = main.json
    assert (body["model"], body["stream"]) == ("gemini-2.5-flash", True)
    assert body["stream_options"] == {"include_usage": True}
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user"], "systemInstruction first, then the prompt"
    assert marker in text_of(body["messages"][-1]["content"])
    assert {t["function"]["name"] for t in body["tools"]} >= TOOLS
