"""schemathesis against the management API, from the served /api/openapi.json.

omni runs in-process on 127.0.0.1 with the fake upstream behind provider ``fake``; the
schemathesis CLI (a subprocess, so this loop keeps serving) calls every management
operation with generated valid and invalid input, logged in with the local admin token.
It must see no 5xx and no answer that breaks the document. Bounded for CI: a few examples
per operation (FUZZ_EXAMPLES, default 8) and a fixed seed (FUZZ_SEED; raise
both, and FUZZ_WORKERS, for a longer hunt). Shutdown and restart are
left out (they stop the server); everything else, restores and imports included, runs in
this test's throwaway home. Nothing leaves the machine: connections and name lookups of
anything but loopback are refused in this process.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

import pytest

from omni.admin.token import read_admin_token
from omni.config import Settings

pytest.importorskip("schemathesis")

EXCLUDED = ("/api/shutdown", "/api/restart", "/api/events")  # the last never ends
CLIENT_API_UNDER_API = r"^/api/(chat|tags|show|embed)$"  # Ollama's, through the gateway


def _loopback(host: object) -> bool:
    if host in ("localhost", "localhost.", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every connection and name lookup that is not loopback (URLs the fuzzer
    makes up end here instead of on the network)."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _loopback(host.decode() if isinstance(host, bytes) else host):
            raise socket.gaierror(socket.EAI_NONAME, "lookups are off in this test")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and not _loopback(address[0]):
            raise ConnectionRefusedError("connections beyond loopback are off in this test")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


async def test_management_api_has_no_server_errors_and_keeps_its_schema(
    gateway: Callable[..., Any], settings: Settings, offline: None, tmp_path: Any
) -> None:
    client = await gateway()
    base = str(client.make_url("")).rstrip("/")
    token = read_admin_token(settings.paths)
    examples = os.environ.get("FUZZ_EXAMPLES", "8")
    args = [
        "run", f"{base}/api/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
        "--include-path-regex", r"^/(api/|metrics$)",
        "--exclude-path-regex", CLIENT_API_UNDER_API,
        *(a for path in EXCLUDED for a in ("--exclude-path", path)),
        "--max-examples", examples, "--seed", os.environ.get("FUZZ_SEED", "20240601"),
        "--workers", os.environ.get("FUZZ_WORKERS", "1"),
        "--request-timeout", "30", "--no-color", "--report-dir", str(tmp_path / "report"),
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "schemathesis.cli", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL, cwd=tmp_path,
        env={**os.environ},
    )  # fmt: skip
    async with asyncio.timeout(900):
        out, _ = await proc.communicate()
    text = out.decode(errors="replace").replace(token, "<admin token>")
    start = text.find("FAILURES")
    assert proc.returncode == 0, text[start if start >= 0 else 0 :][-20000:]
    assert "Tested:" in text
