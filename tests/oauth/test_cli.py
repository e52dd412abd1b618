"""``omni providers login`` (pasted code, callback listener, device code) and ``omni
providers import`` (the vendor CLIs' own files), each ending in an account that serves."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from omni.serve import keys
from tests.conftest import run_omni
from tests.fakes.oauth import FakeSubscriptions
from tests.fakes.upstream import Reply
from tests.oauth.conftest import browser, chat


async def _spawn(*args: str) -> Any:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "omni", *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _url_from(proc: Any) -> str:
    """The sign-in URL the command prints (it goes to stderr, for people)."""
    async with asyncio.timeout(30):
        while True:
            line = (await proc.stderr.readline()).decode()
            assert line, "the command ended before printing a URL"
            if line.startswith("http"):
                return line.strip()


async def _finish(proc: Any, stdin: bytes | None = None) -> tuple[int, str, str]:
    async with asyncio.timeout(30):
        out, err = await proc.communicate(stdin)
    return proc.returncode, out.decode(), err.decode()


async def _served(app: Callable[..., Any], subs: FakeSubscriptions, model: str) -> Any:
    http, _ = await app()
    subs.push(Reply(text="served"))
    response = await http.post("/v1/chat/completions", json=chat(model))
    assert response.status == 200, await response.text()
    return http


async def test_login_claude_with_a_pasted_code(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    proc = await _spawn("providers", "login", "claude", "--paste")
    url = await _url_from(proc)
    back = await browser(url)  # the vendor's page shows code#state to copy
    assert back.startswith("https://platform.claude.com/oauth/code/callback?")
    code = back.split("code=")[1].split("&")[0]
    state = back.split("state=")[1]
    status, _, err = await _finish(proc, f"{code}#{state}\n".encode())
    assert status == 0, err
    assert "signed in: account 'default' of provider 'claude'" in err
    await _served(app, subs, "cc/claude-opus-4-5")
    assert subs.last.headers["Authorization"] == f"Bearer {subs.issued[-1][0]}"


async def test_login_codex_with_the_callback_listener(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    proc = await _spawn("providers", "login", "codex", "--port", "0", "--no-browser", "--json")
    url = await _url_from(proc)
    back = await browser(url)
    assert back.startswith("http://localhost:") and "/auth/callback?code=" in back
    await asyncio.to_thread(httpx.get, back.replace("localhost", "127.0.0.1"), timeout=10)
    status, out, err = await _finish(proc)
    assert status == 0, err
    assert json.loads(out)["provider"] == "codex"
    await _served(app, subs, "cx/gpt-5")


async def test_login_github_with_a_device_code(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    subs.device_script = ["pending", "pending", "ok"]
    status, _, err = await run_omni("providers", "login", "gh", "--no-browser", "--account", "me")
    assert status == 0
    assert "enter the code: USER-1" in err and f"{subs.url}/activate" in err
    assert subs.grants == ["device_code"] * 3 + ["copilot"]
    await _served(app, subs, "gh/gpt-4.1")


async def test_login_through_a_running_server(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, _ = await app()
    url = str(http.server.make_url("")).rstrip("/")
    status, _, err = await run_omni("--url", url, "providers", "login", "qwen", "--no-browser")
    assert "via server" in err and status == 0
    response = await http.post("/v1/chat/completions", json=chat("qw/qwen3-coder-flash"))
    assert response.status == 200, "the server took the account at once"


async def test_login_names_the_subscriptions(subs: FakeSubscriptions) -> None:
    status, _, err = await run_omni("providers", "login", "openai", check=False)
    assert status == 1 and "subscription providers are: claude, codex" in err
    status, _, err = await run_omni("providers", "add", "claude", "--api-key", "x", check=False)
    assert status == 1 and "omni providers login claude" in err


# -- imports ----------------------------------------------------------------------------------


def _jwt(claims: dict[str, Any]) -> str:
    part = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJub25lIn0.{part}.sig"


async def test_import_codex_serves_and_writes_refreshes_back(
    subs: FakeSubscriptions, app: Callable[..., Any], tmp_path: Path
) -> None:
    access, refresh = subs.issue()
    id_token = _jwt({"email": "me@example.com",
                     "https://api.openai.com/auth": {"chatgpt_account_id": "acct-7"}})  # fmt: skip
    auth = tmp_path / "auth.json"
    auth.write_text(json.dumps({
        "OPENAI_API_KEY": None,
        "tokens": {"id_token": id_token, "access_token": access, "refresh_token": refresh,
                   "account_id": "acct-7"},
        "last_refresh": "2025-01-01T00:00:00Z",
    }))  # fmt: skip
    status, _, err = await run_omni(
        "providers", "import", "codex", "--file", str(auth), "--write-back"
    )
    assert status == 0 and "imported" in err
    http = await _served(app, subs, "cx/gpt-5")
    assert subs.last.headers["chatgpt-account-id"] == "acct-7"
    subs.expire(access)  # the next call needs a refresh, which goes back into the file
    assert (await http.post("/v1/chat/completions", json=chat("cx/gpt-5"))).status == 200
    written = json.loads(auth.read_text())
    new_access, new_refresh = subs.issued[-1]
    assert written["tokens"]["access_token"] == new_access
    assert written["tokens"]["refresh_token"] == new_refresh
    assert written["tokens"]["id_token"] == id_token and written["OPENAI_API_KEY"] is None
    assert auth.stat().st_mode & 0o777 == 0o600


async def test_import_claude_from_its_default_place(
    subs: FakeSubscriptions, app: Callable[..., Any], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    access, refresh = subs.issue()
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    creds = tmp_path / ".claude" / ".credentials.json"
    creds.parent.mkdir()
    expires_ms = int((time.time() + 3600) * 1000)
    creds.write_text(json.dumps({"claudeAiOauth": {
        "accessToken": access, "refreshToken": refresh, "expiresAt": expires_ms,
        "scopes": ["user:inference"], "subscriptionType": "max",
    }}))  # fmt: skip
    status, out, _ = await run_omni("providers", "import", "claude", "--json")
    result = json.loads(out)
    assert (status, result["provider"], result["source"]) == (0, "claude", "import:claude")
    assert result["expires_at"] and access not in out and refresh not in out
    http = await _served(app, subs, "cc/claude-sonnet-4-5")
    keeper = http.app[keys.OAUTH]
    keeper.clock = lambda: expires_ms / 1000 - 60
    assert await keeper.sweep() == 1, "an imported sign-in is refreshed like any other"
    assert json.loads(creds.read_text())["claudeAiOauth"]["accessToken"] == access, (
        "no write-back unless asked"
    )


async def test_import_gemini_finds_its_code_assist_project(
    subs: FakeSubscriptions, app: Callable[..., Any], tmp_path: Path
) -> None:
    access, refresh = subs.issue()
    creds = tmp_path / "oauth_creds.json"
    creds.write_text(json.dumps({
        "access_token": access, "refresh_token": refresh, "token_type": "Bearer",
        "expiry_date": int((time.time() + 3600) * 1000), "scope": "cloud-platform",
    }))  # fmt: skip
    status, _, err = await run_omni("providers", "import", "gemini", "--file", str(creds))
    assert status == 0, err
    await _served(app, subs, "gemini-cli/gemini-2.5-pro")
    assert subs.last.json["project"] == "fake-project"


@pytest.mark.parametrize(
    ("tool", "document", "message"),
    [
        ("codex", {"OPENAI_API_KEY": "sk-x"}, "holds an API key"),
        ("claude", {"other": 1}, "no 'claudeAiOauth' sign-in"),
        ("gemini", {"refresh_token": "x"}, "no access token"),
    ],
)
async def test_import_says_what_is_wrong(
    tmp_path: Path, tool: str, document: dict[str, Any], message: str
) -> None:
    path = tmp_path / "creds.json"
    path.write_text(json.dumps(document))
    status, _, err = await run_omni("providers", "import", tool, "--file", str(path), check=False)
    assert status == 1 and message in err
    missing = await run_omni(
        "providers", "import", tool, "--file", str(tmp_path / "x"), check=False
    )
    assert missing[0] == 1 and "no " + tool + " sign-in at" in missing[2]
