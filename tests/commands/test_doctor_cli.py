"""``omni doctor`` against a healthy home and broken ones: loose permissions (and
``--fix``), a wrong or missing encryption key, unreachable and refusing providers, a bad
config file, a taken port, a damaged database."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from typer.testing import CliRunner

from omni.cli import app
from tests.conftest import free_port

runner = CliRunner()


def _doctor(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["doctor", "--json", "--timeout", "2", *args])
    return result.exit_code, json.loads(result.stdout)


def _by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in report["checks"]}


@pytest.fixture(autouse=True)
def _free_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNI_PORT", str(free_port()))


async def test_healthy_home(
    upstream: Any, add_provider: Callable[..., Any], omni_home: Path
) -> None:
    await asyncio.to_thread(add_provider, "fake", base_url=f"{upstream.url}/v1", api_key="sk-1")
    code, report = await asyncio.to_thread(_doctor)
    assert code == 0, report
    checks = _by_name(report)
    assert report["ok"] is True and report["summary"]["fail"] == 0
    for name in ("config", "permissions", "store", "encryption key", "server", "provider fake"):
        assert checks[name]["status"] == "ok", checks[name]
    assert "opens all 1 stored secrets" in checks["encryption key"]["message"]
    assert checks["provider fake"]["message"].startswith("reachable (")
    assert upstream.last.path == "/v1/models"

    result = await asyncio.to_thread(runner.invoke, app, ["doctor"])
    assert result.exit_code == 0
    assert "  ok  provider fake" in result.stdout and "0 failed" in result.stdout


def test_loose_permissions_fail_and_fix_repairs_them(
    add_provider: Callable[..., Any], omni_home: Path
) -> None:
    add_provider("box", base_url="http://127.0.0.1:9/v1", api_key="sk-1", sync_models=False)
    data = omni_home / "data"
    data.chmod(0o755)
    (data / "secret.key").chmod(0o644)
    code, report = _doctor()
    check = _by_name(report)["permissions"]
    assert code == 1 and check["status"] == "fail"
    assert str(data / "secret.key") in check["detail"]["loose"]
    assert "omni doctor --fix" in check["fix"] and f"chmod 700 {data}" in check["fix"]

    code, report = _doctor("--fix")
    assert _by_name(report)["permissions"]["status"] == "ok"
    assert data.stat().st_mode & 0o777 == 0o700
    assert (data / "secret.key").stat().st_mode & 0o777 == 0o600


def test_wrong_and_missing_key(add_provider: Callable[..., Any], omni_home: Path) -> None:
    add_provider("box", base_url="http://127.0.0.1:9/v1", api_key="sk-1", sync_models=False)
    key_file = omni_home / "data" / "secret.key"
    original = key_file.read_bytes()
    key_file.write_bytes(base64.b64encode(os.urandom(32)) + b"\n")
    code, report = _doctor()
    check = _by_name(report)["encryption key"]
    assert code == 1 and check["status"] == "fail"
    assert "does not match the one the database was encrypted with" in check["message"]
    assert check["fix"] == "restore the original key file or OMNI_SECRET_KEY"
    assert "provider box" not in _by_name(report), "providers are not reached without the key"

    key_file.unlink()
    code, report = _doctor()
    assert (
        "is missing but the database holds encrypted secrets"
        in (_by_name(report)["encryption key"]["message"])
    )
    assert not key_file.exists(), "doctor never makes a new key"
    key_file.write_bytes(original)
    assert _by_name(_doctor()[1])["encryption key"]["status"] == "ok"


async def test_unreachable_and_refusing_providers(
    add_provider: Callable[..., Any], aiohttp_server: Any, omni_home: Path
) -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"error": {"message": "invalid api key"}}, status=401)

    bad = web.Application()
    bad.router.add_route("*", "/{tail:.*}", refuse)
    server = await aiohttp_server(bad)
    closed = free_port()
    await asyncio.to_thread(
        add_provider, "gone", base_url=f"http://127.0.0.1:{closed}/v1", api_key="k",
        sync_models=False,
    )  # fmt: skip
    await asyncio.to_thread(
        add_provider, "strict", base_url=str(server.make_url("/v1")), api_key="sk-WRONG-1",
        sync_models=False,
    )  # fmt: skip
    code, report = await asyncio.to_thread(_doctor)
    checks = _by_name(report)
    assert code == 1
    assert checks["provider gone"]["status"] == "fail"
    assert "could not connect" in checks["provider gone"]["message"]
    assert "omni providers show gone" in checks["provider gone"]["fix"]
    assert checks["provider strict"]["status"] == "fail"
    assert "refuses account 'default'" in checks["provider strict"]["message"]
    assert "invalid api key" in checks["provider strict"]["message"]
    assert "sk-WRONG-1" not in json.dumps(report)


def test_bad_config_taken_port_and_damaged_store(
    omni_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    omni_home.mkdir()
    (omni_home / "config.toml").write_text("[server]\nport = 'many'\n")
    code, report = _doctor()
    check = _by_name(report)["config"]
    assert code == 1 and check["status"] == "fail"
    assert "[server] port: expected an integer" in check["message"]
    assert "omni config edit" in check["fix"]
    assert {"permissions", "store", "server"} <= set(_by_name(report)), "the rest still ran"
    (omni_home / "config.toml").unlink()

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("OMNI_PORT", str(taken.getsockname()[1]))
        code, report = _doctor()
    check = _by_name(report)["server"]
    assert (
        code == 1 and check["status"] == "fail" and "taken by another program" in check["message"]
    )

    data = omni_home / "data"
    data.mkdir(mode=0o700)
    (data / "omni.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x07" * 4096)
    (data / "omni.sqlite").chmod(0o600)
    monkeypatch.setenv("OMNI_PORT", str(free_port()))
    code, report = _doctor()
    check = _by_name(report)["store"]
    assert code == 1 and check["status"] == "fail"
    assert "omni backup restore" in check["fix"]
