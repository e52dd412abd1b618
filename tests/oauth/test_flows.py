"""Sign-in flows against the fake server: PKCE with the callback listener and with a pasted
code, device code with its pending / slow_down / expired / denied answers, and the same
through ``/api/oauth/{provider}/{action}``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from omni.config import Settings
from omni.errors import InvalidInputError
from omni.oauth import flows
from omni.oauth.specs import SPECS, endpoints
from tests.fakes.oauth import FakeSubscriptions
from tests.oauth.conftest import browser


def _ends(name: str, settings: Settings) -> Any:
    return endpoints(SPECS[name], settings)


async def test_pkce_with_the_callback_listener(subs: FakeSubscriptions, settings: Settings) -> None:
    spec, ends = SPECS["codex"], _ends("codex", settings)
    with flows.CallbackListener(0, spec.loopback_path) as listener:
        start = flows.pkce_start(spec, ends, listener.redirect_uri)
        assert "code_challenge_method=S256" in start.url and "originator=codex_cli_rs" in start.url
        back = await browser(start.url)
        assert back.startswith(listener.redirect_uri)
        await asyncio.to_thread(_visit, back)  # the browser follows the redirect
        code, state = listener.wait(5)
    assert state == start.state
    tokens = await asyncio.to_thread(flows.pkce_exchange, spec, ends, start, code, state)
    assert tokens["access_token"].startswith("at-")
    assert subs.grants == ["authorization_code"]


def _visit(url: str) -> None:
    import httpx

    assert httpx.get(url.replace("localhost", "127.0.0.1"), timeout=5).status_code == 200


@pytest.mark.parametrize("form", ["url", "code#state", "bare"])
async def test_pkce_with_a_pasted_code(
    subs: FakeSubscriptions, settings: Settings, form: str
) -> None:
    spec, ends = SPECS["claude"], _ends("claude", settings)
    start = flows.pkce_start(spec, ends, spec.paste_redirect or "")
    back = await browser(start.url)
    code = back.split("code=")[1].split("&")[0]
    pasted = {"url": back, "code#state": f"{code}#{start.state}", "bare": code}[form]
    got_code, state = flows.parse_pasted(pasted)
    tokens = await asyncio.to_thread(flows.pkce_exchange, spec, ends, start, got_code, state)
    assert tokens["refresh_token"].startswith("rt-")


async def test_a_code_from_another_sign_in_is_refused(
    subs: FakeSubscriptions, settings: Settings
) -> None:
    spec, ends = SPECS["claude"], _ends("claude", settings)
    start = flows.pkce_start(spec, ends, spec.paste_redirect or "")
    with pytest.raises(InvalidInputError, match="state does not match"):
        flows.pkce_exchange(spec, ends, start, "code-x", "someone-elses-state")
    assert subs.grants == []


async def test_a_wrong_verifier_is_refused_by_the_server(
    subs: FakeSubscriptions, settings: Settings
) -> None:
    spec, ends = SPECS["claude"], _ends("claude", settings)
    start = flows.pkce_start(spec, ends, spec.paste_redirect or "")
    back = await browser(start.url)
    code, state = flows.parse_pasted(back)
    forged = flows.PkceStart(start.url, start.state, "not-the-verifier", start.redirect_uri)
    with pytest.raises(InvalidInputError, match="did not accept the code"):
        await asyncio.to_thread(flows.pkce_exchange, spec, ends, forged, code, state)


async def test_device_flow_waits_through_pending_and_slow_down(
    subs: FakeSubscriptions, settings: Settings
) -> None:
    subs.device_script = ["pending", "slow_down", "pending", "ok"]
    subs.device_interval = 2
    spec, ends = SPECS["qwen"], _ends("qwen", settings)
    start = await asyncio.to_thread(flows.device_start, spec, ends)
    assert start.user_code.startswith("USER-") and start.verifier is not None
    slept: list[float] = []
    tokens = await asyncio.to_thread(flows.device_wait, spec, ends, start, slept.append)
    assert tokens["access_token"].startswith("at-")
    assert slept == [2, 2, 7, 7], "the server's interval, 5 s longer from the slow_down on"
    assert subs.grants == ["device_code"] * 4


@pytest.mark.parametrize(
    ("outcome", "message"),
    [("expired", "expired before it was approved"), ("denied", "was denied")],
)
async def test_device_flow_ends_clearly(
    subs: FakeSubscriptions, settings: Settings, outcome: str, message: str
) -> None:
    subs.device_script = ["pending", outcome]
    subs.device_errors_with_200 = True  # as GitHub answers
    spec, ends = SPECS["github"], _ends("github", settings)
    start = await asyncio.to_thread(flows.device_start, spec, ends)
    with pytest.raises(InvalidInputError, match=message) as caught:
        await asyncio.to_thread(flows.device_wait, spec, ends, start, lambda _s: None)
    assert "omni providers login github" in (caught.value.hint or "")


# -- the same through the management API -----------------------------------------------------


async def test_api_device_code_and_poll(subs: FakeSubscriptions, app: Callable[..., Any]) -> None:
    subs.device_script = ["pending", "slow_down", "ok"]
    subs.device_interval = 3
    http, admin = await app()
    started = await http.post("/api/oauth/gh/device-code", json={"account": "work"}, headers=admin)
    assert started.status == 200
    flow = await started.json()
    assert (flow["user_code"], flow["interval"]) == ("USER-1", 3)
    assert flow["verification_uri"].endswith("/activate")
    seen = []
    for _ in range(3):
        answer = await http.post("/api/oauth/gh/poll", json={"flow_id": flow["flow_id"]},
                                 headers=admin)  # fmt: skip
        seen.append(await answer.json())
    assert [(s["status"], s.get("interval")) for s in seen] == [
        ("pending", 3), ("slow_down", 8), ("complete", None),
    ]  # fmt: skip
    assert seen[2]["account"]["account"] == "work" and seen[2]["account"]["provider"] == "github"
    providers = await (await http.get("/api/providers/github", headers=admin)).json()
    assert [a["name"] for a in providers["accounts"]] == ["work"]
    assert providers["accounts"][0]["auth"] == "oauth"
    again = await http.post("/api/oauth/gh/poll", json={"flow_id": flow["flow_id"]}, headers=admin)
    assert again.status == 404, "a finished flow cannot be polled again"


@pytest.mark.parametrize(("outcome", "message"), [("expired", "expired"), ("denied", "denied")])
async def test_api_device_errors_are_clear(
    subs: FakeSubscriptions, app: Callable[..., Any], outcome: str, message: str
) -> None:
    subs.device_script = [outcome]
    http, admin = await app()
    flow = await (await http.post("/api/oauth/qwen/device-code", headers=admin)).json()
    answer = await http.post("/api/oauth/qwen/poll", json={"flow_id": flow["flow_id"]},
                             headers=admin)  # fmt: skip
    assert answer.status == 400
    assert message in (await answer.json())["error"]["message"]


async def test_api_authorize_and_exchange_with_a_pasted_url(
    subs: FakeSubscriptions, app: Callable[..., Any]
) -> None:
    http, admin = await app()
    started = await (await http.post("/api/oauth/cc/authorize", headers=admin)).json()
    assert started["paste"] is True and started["provider"] == "claude"
    assert started["redirect_uri"] == SPECS["claude"].paste_redirect
    back = await browser(started["url"])
    done = await http.post("/api/oauth/cc/exchange", headers=admin,
                           json={"flow_id": started["flow_id"], "code": back})  # fmt: skip
    assert done.status == 200
    account = await done.json()
    assert account["provider"] == "claude" and "access_token" not in str(account)
    assert "at-" not in str(account), "no token in the answer"
    reused = await http.post("/api/oauth/cc/exchange", headers=admin,
                             json={"flow_id": started["flow_id"], "code": back})  # fmt: skip
    assert reused.status == 404


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/api/oauth/openai/authorize", {}, 400, "does not sign in with OAuth"),
        ("/api/oauth/github/authorize", {}, 400, "device code"),
        ("/api/oauth/claude/device-code", {}, 400, "browser"),
        ("/api/oauth/claude/authorize", {"redirect_uri": "https://evil.example/cb"}, 400,
         "redirect_uri"),
        ("/api/oauth/claude/exchange", {"code": "x"}, 400, "flow_id"),
        ("/api/oauth/claude/exchange", {"flow_id": "nope", "code": "x"}, 404, "no claude"),
        ("/api/oauth/claude/dance", {}, 404, "unknown OAuth action"),
        ("/api/oauth/claude/authorize", {"account": "Bad Name"}, 400, "invalid account"),
    ],
)  # fmt: skip
async def test_api_mistakes(
    subs: FakeSubscriptions, app: Callable[..., Any], path: str, body: dict[str, Any],
    status: int, message: str,
) -> None:  # fmt: skip
    http, admin = await app()
    answer = await http.post(path, json=body, headers=admin)
    assert answer.status == status
    assert message in (await answer.json())["error"]["message"]


async def test_api_needs_the_admin_token(subs: FakeSubscriptions, app: Callable[..., Any]) -> None:
    http, _ = await app()
    assert (await http.post("/api/oauth/claude/authorize")).status == 401


async def test_api_import_writes_back_only_to_the_tools_own_file(
    subs: FakeSubscriptions, app: Callable[..., Any], tmp_path: Any
) -> None:
    http, admin = await app()
    document = {"access_token": "at-x", "refresh_token": "rt-x"}
    elsewhere = tmp_path / "notes.txt"
    elsewhere.write_text("keep me")
    for path in (str(elsewhere), "relative/oauth_creds.json", str(tmp_path / "oauth_creds.json")):
        answer = await http.post(
            "/api/oauth/gemini/import", headers=admin,
            json={"credentials": document, "write_back": path, "project": "p"},
        )  # fmt: skip
        assert answer.status == 400
        assert "write_back must be" in (await answer.json())["error"]["message"]
    assert elsewhere.read_text() == "keep me"
