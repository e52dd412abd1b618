"""``omni keys``, ``omni audit`` and ``omni auth``: on the store directly, and through a
real server process whose log must never show a key."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from typer.testing import CliRunner

from omni.cli import app
from tests.conftest import free_port, run_omni, wait_healthy

runner = CliRunner()


def _run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_add_prints_only_the_key_then_list_show_edit_rm(omni_home: Path) -> None:
    code, out, err = _run(
        "keys", "add", "ci", "--models", "openai/*, fast", "--scopes", "chat,admin",
        "--expires", "30d",
    )  # fmt: skip
    assert code == 0, err
    key = out.strip()
    assert out == key + "\n" and key.startswith("sk-"), "stdout is the key alone"
    assert "created key 1 'ci'" in err and "openai/*, fast" in err and key not in err

    code, out, _ = _run("keys", "list", "--json")
    [listed] = json.loads(out)
    assert listed["prefix"] == key[:11] and listed["models"] == ["openai/*", "fast"]
    assert listed["scopes"] == ["chat", "admin"] and listed["status"] == "active"
    assert listed["expires_at"] and key not in out

    code, out, err = _run("keys", "edit", "1", "--disable", "--expires", "never", "--json")
    assert code == 0, err
    edited = json.loads(out)
    assert edited["status"] == "disabled" and edited["expires_at"] is None
    code, out, _ = _run("keys", "show", "1")
    assert "key 1 'ci'" in out and "status disabled" in out

    code, _, err = _run("keys", "rm", "1")
    assert code == 0 and "revoked key 1 'ci'" in err
    code, out, _ = _run("keys", "show", "1", "--json")
    assert json.loads(out)["status"] == "revoked"
    code, _, err = _run("keys", "edit", "1", "--enable")
    assert code == 1 and "revoked and cannot be changed" in err
    code, _, err = _run("keys", "show", "42")
    assert code == 1 and err.startswith("omni: no API key with id 42")

    code, out, _ = _run("audit", "--json")
    assert [(e["actor"], e["action"]) for e in json.loads(out)] == [
        ("cli", "key.revoke"),
        ("cli", "key.edit"),
        ("cli", "key.create"),
    ]
    code, out, _ = _run("audit", "--action", "key.create")
    assert code == 0 and "key.create" in out and "key.revoke" not in out


def test_add_with_json_includes_the_key_and_bad_input_is_one_line(omni_home: Path) -> None:
    code, out, _ = _run("keys", "add", "bot", "--json")
    assert code == 0 and json.loads(out)["key"].startswith("sk-")
    for args, needle in [
        (("--scopes", "root"), "unknown scope 'root'"),
        (("--expires", "soon"), "neither a duration"),
    ]:
        code, out, err = _run("keys", "add", "x", *args)
        assert code == 1 and needle in err and out == ""
        assert "Traceback" not in err


def test_auth_password_and_lockouts(omni_home: Path) -> None:
    code, _, err = _run("auth", "password", stdin="long enough pw\nlong enough pw\n")
    assert code == 0 and "admin password set" in err
    code, _, err = _run("auth", "lockouts")
    assert code == 0 and "no failed logins" in err
    code, _, err = _run("auth", "unlock", "10.0.0.1")
    assert code == 1 and "no failed logins recorded for 10.0.0.1" in err
    code, out, _ = _run("audit", "--json")
    assert [e["action"] for e in json.loads(out)] == ["password.set"]


@pytest.mark.slow
async def test_keys_through_a_real_server_never_reach_its_log(
    upstream: Any, omni_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await run_omni(
        "providers", "add", "fake", "--base-url", f"{upstream.url}/v1", "--no-sync", "--models", "m"
    )
    monkeypatch.setenv("REQUIRE_API_KEY", "true")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "omni", "serve", "--port", str(port), "--log-level", "debug",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await wait_healthy(url, proc)
        _, key, err = await run_omni("keys", "add", "ci")
        key = key.strip()
        assert f"via server {url}" in err
        body = {"model": "fake/m", "messages": [{"role": "user", "content": "hi"}]}
        async with aiohttp.ClientSession() as http:
            chat = f"{url}/v1/chat/completions"
            async with http.post(chat, json=body) as response:
                assert response.status == 401
            async with http.post(chat, json=body, headers={"x-api-key": key}) as response:
                assert response.status == 200
            await run_omni("keys", "rm", "1")
            async with http.post(chat, json=body, headers={"x-api-key": key}) as response:
                assert response.status == 401
        _, out, _ = await run_omni("audit", "--json")
        assert [(e["actor"], e["action"]) for e in json.loads(out)][:2] == [
            ("admin", "key.revoke"),
            ("admin", "key.create"),
        ]
        os.kill(proc.pid, signal.SIGTERM)
        async with asyncio.timeout(30):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert "listening on" in log
    assert key not in log and key[11:] not in log
    leaks = [str(p) for p in omni_home.rglob("*") if p.is_file() and key.encode() in p.read_bytes()]
    assert leaks == []
