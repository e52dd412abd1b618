"""The operator's global system prompt and thinking budget, applied to every request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from omni.admin.token import read_admin_token
from omni.config import Settings

CHAT = {"model": "oai/m", "messages": [
    {"role": "system", "content": "Client rules."}, {"role": "user", "content": "hi"}]}  # fmt: skip
THINK = {
    "model": "ant/m",
    "max_tokens": 20000,
    "thinking": {"type": "enabled", "budget_tokens": 5000},
    "messages": [{"role": "user", "content": "think"}],
}


@pytest.fixture
def start(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any],
    settings: Settings,
) -> Callable[..., Any]:  # fmt: skip
    async def go(
        system: dict[str, Any] | None = None, thinking: dict[str, Any] | None = None
    ) -> Any:
        for name, fmt in (("oai", "openai"), ("ant", "anthropic")):
            await asyncio.to_thread(
                add_provider, name, base_url=f"{upstream.url}/v1", api_key="k", format=fmt,
                models=["m"], sync_models=False,
            )  # fmt: skip
        http = await make_client()
        admin = {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}
        for path, body in (("system-prompt", system), ("thinking-budget", thinking)):
            if body is not None:
                response = await http.put(f"/api/settings/{path}", json=body, headers=admin)
                assert response.status == 200, await response.text()
        upstream.requests.clear()
        return http

    return go


async def test_the_global_prompt_goes_before_the_clients_own(start: Any, upstream: Any) -> None:
    http = await start(system={"enabled": True, "prompt": "Answer in French."})
    assert (await http.post("/v1/chat/completions", json=CHAT)).status == 200
    messages = upstream.requests[-1].json["messages"]
    assert messages[0]["role"] == "system"
    system_text = " ".join(
        m["content"] if isinstance(m["content"], str) else m["content"][0]["text"]
        for m in messages
        if m["role"] == "system"
    )
    assert system_text.index("Answer in French.") < system_text.index("Client rules.")
    assert messages[-1] == {"role": "user", "content": "hi"}


async def test_a_suffix_prompt_reaches_an_anthropic_upstream_after_the_clients(
    start: Any, upstream: Any
) -> None:
    http = await start(system={"enabled": True, "prompt": "Sign as omni.", "position": "suffix"})
    assert (await http.post("/v1/chat/completions", json={**CHAT, "model": "ant/m"})).status == 200
    system = upstream.requests[-1].json["system"]
    text = system if isinstance(system, str) else " ".join(b["text"] for b in system)
    assert text.index("Client rules.") < text.index("Sign as omni.")


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ({"mode": "custom", "budget": 2048}, {"type": "enabled", "budget_tokens": 2048}),
        ({"mode": "passthrough"}, {"type": "enabled", "budget_tokens": 5000}),
        ({"mode": "adaptive"}, {"type": "adaptive"}),
    ],
)
async def test_the_thinking_budget_mode_rewrites_requests_that_think(
    start: Any, upstream: Any, mode: dict[str, Any], expected: dict[str, Any]
) -> None:
    http = await start(thinking=mode)
    assert (await http.post("/v1/messages", json=THINK)).status == 200
    assert upstream.requests[-1].json["thinking"] == expected


async def test_auto_budget_follows_the_output_limit_when_the_client_named_none(
    start: Any, upstream: Any
) -> None:
    http = await start(thinking={"mode": "auto"})
    gemini = {
        "contents": [{"role": "user", "parts": [{"text": "think"}]}],
        "generationConfig": {"maxOutputTokens": 8000, "thinkingConfig": {"includeThoughts": True}},
    }
    response = await http.post("/v1beta/models/ant/m:generateContent", json=gemini)
    assert response.status == 200, await response.text()
    assert upstream.requests[-1].json["thinking"] == {"type": "enabled", "budget_tokens": 4000}
    assert (await http.post("/v1/messages", json=THINK)).status == 200
    assert upstream.requests[-1].json["thinking"]["budget_tokens"] == 5000  # named: kept


async def test_nothing_changes_when_nothing_is_set(start: Any, upstream: Any) -> None:
    http = await start()
    assert (await http.post("/v1/chat/completions", json=CHAT)).status == 200
    assert upstream.requests[-1].json["messages"] == CHAT["messages"]
