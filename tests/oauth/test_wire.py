"""Each subscription provider's request reaches its (fake) API in the shape that API wants:
headers, path and envelope, with the token from the sign-in; answers come back unwrapped."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from tests.fakes.oauth import FakeSubscriptions
from tests.fakes.upstream import Reply
from tests.oauth.conftest import api_login, chat


def _jwt(claims: dict[str, Any]) -> str:
    part = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJub25lIn0.{part}.sig"


async def test_claude_code_headers_path_and_identity(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, admin = await app()
    signed = await api_login(http, admin, "claude")
    assert signed["provider"] == "claude" and signed["refreshable"] is True
    subs.push(Reply(text="hello from claude"))
    response = await http.post("/v1/chat/completions", json=chat("cc/claude-sonnet-4-5"))
    assert response.status == 200, await response.text()
    assert (await response.json())["choices"][0]["message"]["content"] == "hello from claude"
    seen = subs.last
    assert (seen.path, seen.query) == ("/v1/messages", {"beta": "true"})
    assert seen.headers["Authorization"] == "Bearer at-2"
    assert "oauth-2025-04-20" in seen.headers["anthropic-beta"]
    assert seen.headers["anthropic-version"] == "2023-06-01"
    assert seen.headers["x-app"] == "cli" and seen.headers["User-Agent"].startswith("claude-cli/")
    assert "x-api-key" not in seen.headers
    system = seen.json["system"]
    assert system[0]["text"].startswith("You are Claude Code")


async def test_claude_keeps_a_clients_own_system_prompt_after_the_identity(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, admin = await app()
    await api_login(http, admin, "claude")
    body = {"model": "cc/claude-haiku-4-5", "max_tokens": 50, "system": "Be brief.",
            "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
    response = await http.post("/v1/messages", json=body)
    assert response.status == 200, await response.text()
    texts = [block["text"] for block in subs.last.json["system"]]
    assert texts[0].startswith("You are Claude Code") and texts[1] == "Be brief."


async def test_codex_streams_upstream_and_sends_the_account_id(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    claims = {"email": "dev@example.com",
              "https://api.openai.com/auth": {"chatgpt_account_id": "acct-42"}}  # fmt: skip
    subs.extra = {"id_token": _jwt(claims)}
    http, admin = await app()
    signed = await api_login(http, admin, "codex")
    assert signed["email"] == "dev@example.com"
    subs.push(Reply(text="codex says hi"))
    response = await http.post(
        "/v1/chat/completions", json=chat("cx/gpt-5-codex", max_tokens=99, temperature=0.2)
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["choices"][0]["message"]["content"] == "codex says hi"
    seen = subs.last
    assert seen.path == "/v1/responses"
    assert seen.headers["chatgpt-account-id"] == "acct-42"
    assert seen.headers["originator"] == "codex_cli_rs"
    assert seen.headers["Authorization"].startswith("Bearer at-")
    sent = seen.json
    assert (sent["stream"], sent["store"]) == (True, False)
    assert sent["instructions"]
    assert "max_output_tokens" not in sent and "temperature" not in sent


async def test_codex_stream_to_a_streaming_client(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, admin = await app()
    await api_login(http, admin, "codex")
    subs.push(Reply(text="streamed codex"))
    body = {"model": "cx/gpt-5", "input": "hi", "stream": True}
    response = await http.post("/v1/responses", json=body)
    assert response.status == 200
    raw = await response.read()
    assert b"response.completed" in raw and b"streamed" in raw


async def test_copilot_token_exchange_and_editor_headers(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, admin = await app()
    await api_login(http, admin, "github")
    assert subs.grants == ["device_code", "copilot"]
    subs.push(Reply(text="copilot here"))
    response = await http.post("/v1/chat/completions", json=chat("gh/gpt-4.1"))
    assert response.status == 200, await response.text()
    seen = subs.last
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["Authorization"].startswith("Bearer cop-"), (
        "the Copilot token, not GitHub's"
    )
    assert seen.headers["copilot-integration-id"] == "vscode-chat"
    assert seen.headers["editor-version"].startswith("vscode/")
    assert seen.json["model"] == "gpt-4.1"


async def test_copilot_uses_the_api_root_its_token_names(
    subs: FakeSubscriptions, app: Callable[..., Any], monkeypatch: Any
) -> None:
    monkeypatch.delenv("OMNI_PROVIDER_GITHUB_BASE_URL")
    subs.copilot_api = f"{subs.url}/v1"
    http, admin = await app()
    await api_login(http, admin, "github")
    response = await http.post("/v1/chat/completions", json=chat("gh/gpt-4o"))
    assert response.status == 200, await response.text()
    assert subs.last.path == "/v1/chat/completions"


async def test_gemini_cli_code_assist_envelope_both_ways(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, admin = await app()
    await api_login(http, admin, "gemini-cli")
    subs.push(Reply(text="gemini via code assist"))
    response = await http.post("/v1/chat/completions", json=chat("gemini-cli/gemini-2.5-pro"))
    assert response.status == 200, await response.text()
    assert (await response.json())["choices"][0]["message"]["content"] == "gemini via code assist"
    seen = subs.last
    assert seen.path == "/v1internal:generateContent"
    assert seen.json["model"] == "gemini-2.5-pro" and seen.json["project"] == "fake-project"
    assert seen.json["request"]["contents"][0]["parts"][0]["text"] == "hi"
    assert seen.headers["Authorization"].startswith("Bearer at-")


async def test_gemini_cli_streams_and_gemini_clients_get_plain_gemini(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, admin = await app()
    await api_login(http, admin, "gemini-cli")
    subs.push(Reply(text="one two three"))
    response = await http.post(
        "/v1/chat/completions", json=chat("gemini-cli/gemini-2.5-flash", stream=True)
    )
    assert response.status == 200
    raw = (await response.read()).decode()
    assert subs.last.path == "/v1internal:streamGenerateContent"
    assert subs.last.query == {"alt": "sse"}
    pieces = [json.loads(line[6:]) for line in raw.splitlines() if line.startswith("data: {")]
    text = "".join(p["choices"][0]["delta"].get("content") or "" for p in pieces if p["choices"])
    assert text == "one two three"
    subs.push(Reply(text="native"))
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    native = await http.post(
        "/v1beta/models/gemini-cli/gemini-2.5-flash:generateContent", json=body
    )
    assert native.status == 200, await native.text()
    data = await native.json()
    assert "response" not in data, "the Code Assist envelope is removed"
    assert data["candidates"][0]["content"]["parts"][0]["text"] == "native"


async def test_qwen_headers_and_its_resource_url(
    subs: FakeSubscriptions, app: Callable[..., Any], monkeypatch: Any
) -> None:
    monkeypatch.delenv("OMNI_PROVIDER_QWEN_BASE_URL")
    subs.extra = {"resource_url": subs.url}  # the API host the token endpoint names
    http, admin = await app()
    await api_login(http, admin, "qwen")
    response = await http.post("/v1/chat/completions", json=chat("qw/qwen3-coder-plus"))
    assert response.status == 200, await response.text()
    seen = subs.last
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["X-Dashscope-AuthType"] == "qwen-oauth"
    assert seen.headers["User-Agent"].startswith("QwenCode/")
    assert subs.grants == ["device_code"]


async def test_codex_takes_plain_text_input_and_reports_a_failed_response(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, admin = await app()
    await api_login(http, admin, "codex")
    body = {"model": "cx/gpt-5", "input": "hi", "instructions": "Be terse.",
            "max_output_tokens": 10}  # fmt: skip
    response = await http.post("/v1/responses", json=body)
    assert response.status == 200, await response.text()
    sent = subs.last.json
    assert sent["input"] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
    ]
    assert sent["instructions"] == "Be terse." and "max_output_tokens" not in sent
    assert (await response.json())["output"][0]["content"][0]["text"]
    subs.push(Reply(error_after=2, error_message="the model fell over"))
    failed = await http.post("/v1/responses", json=body)
    assert failed.status == 502
    assert "the model fell over" in (await failed.json())["error"]["message"]
