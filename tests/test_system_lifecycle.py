"""A real ``omni serve`` process: backups through it with the CLI, restart and shutdown
through the API.

The server runs as a subprocess against the fake upstream on this test's loop, so every
subprocess call is awaited.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from omni.admin.token import read_admin_token
from omni.config import load_settings
from omni.store import audit
from omni.store.db import Database
from tests.conftest import free_port, wait_healthy
from tests.conftest import run_omni as omni
from tests.fakes.upstream import Reply, Usage

pytestmark = pytest.mark.slow


async def _chat(http: aiohttp.ClientSession, url: str, model: str) -> int:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    async with http.post(f"{url}/v1/chat/completions", json=body) as response:
        await response.read()
        return response.status


async def _init(http: aiohttp.ClientSession, url: str, auth: dict[str, str]) -> Any:
    async with http.get(f"{url}/api/init", headers=auth) as response:
        assert response.status == 200
        return await response.json()


async def _wait_restarted(
    http: aiohttp.ClientSession, url: str, auth: dict[str, str], before: float, proc: Any
) -> Any:
    """Poll /api/init until a server started after ``before`` answers on the same URL."""
    async with asyncio.timeout(30):
        while proc.returncode is None:
            try:
                state = await _init(http, url, auth)
                if state["started_at"] > before:
                    return state
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"the server exited with {proc.returncode} instead of restarting")


async def test_backups_restart_and_shutdown_on_a_real_server(
    upstream: Any, omni_home: Path, tmp_path: Path
) -> None:
    await omni(
        "providers", "add", "alpha", "--base-url", f"{upstream.url}/v1", "--no-sync",
        "--models", "m1",
    )  # fmt: skip
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "omni", "serve", "--port", str(port),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await wait_healthy(url, proc)
        auth = {"Authorization": f"Bearer {read_admin_token(load_settings().paths)}"}
        async with aiohttp.ClientSession() as http:
            # Backups through the running server, applied without a restart.
            _, out, _ = await omni("backup", "create", "--json")
            name = json.loads(out)["name"]
            await omni("providers", "rm", "alpha")
            assert await _chat(http, url, "alpha/m1") == 404
            _, _, err = await omni("backup", "restore", name)
            assert f"restored {name} via server {url}" in err
            assert await _chat(http, url, "alpha/m1") == 200
            _, out, _ = await omni("backup", "list", "--json")
            assert {b["reason"] for b in json.loads(out)} == {"manual", "pre-restore"}

            exported = tmp_path / "live.sqlite"
            await omni("backup", "export", str(exported))
            await omni("providers", "rm", "alpha")
            _, _, err = await omni("backup", "import", str(exported))
            assert f"via server {url}" in err
            assert await _chat(http, url, "alpha/m1") == 200
            foreign = tmp_path / "foreign.sqlite"
            foreign.write_bytes(b"SQLite format 3\x00" + b"\x00" * 84)
            code, _, err = await omni("backup", "import", str(foreign), check=False)
            assert code == 1 and err.startswith("omni: import refused:")
            assert await _chat(http, url, "alpha/m1") == 200

            # Restart: the same process comes back on the same port with the same data.
            first = await _init(http, url, auth)
            async with http.post(f"{url}/api/restart", headers=auth) as response:
                assert response.status == 202
            second = await _wait_restarted(http, url, auth, first["started_at"], proc)
            assert second["providers"] == 1
            async with http.get(f"{url}/api/monitoring/health") as response:
                assert (await response.json())["pid"] == proc.pid
            assert await _chat(http, url, "alpha/m1") == 200

            # Shutdown: a stream in flight still completes, then the process exits cleanly.
            upstream.push(Reply(text="a b c d e", chunks=5, chunk_delay=0.1, usage=Usage(9, 5)))
            body = {"model": "alpha/m1", "stream": True, "messages": []}
            async with http.post(f"{url}/v1/chat/completions", json=body) as stream:
                first_bytes = await stream.content.readany()
                assert first_bytes.startswith(b"data: ")
                async with (
                    aiohttp.ClientSession() as other,
                    other.post(f"{url}/api/shutdown", headers=auth) as response,
                ):
                    assert response.status == 202
                    assert await response.json() == {"status": "stopping"}
                rest = await stream.read()
            assert (first_bytes + rest).rstrip().endswith(b"data: [DONE]")
        async with asyncio.timeout(30):
            code = await proc.wait()
        assert code == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert "Traceback" not in stderr
    assert "stopped; restarting" in stderr and stderr.rstrip().endswith("stopped")
    assert not load_settings().paths.server_file.exists()
    with Database(load_settings().paths.database).session() as conn:
        actions = [e.action for e in audit.entries(conn)]
        streamed = conn.execute("SELECT output_tokens FROM usage_log WHERE stream = 1").fetchall()
    assert actions[:2] == ["server.shutdown", "server.restart"]
    assert {"backup.create", "backup.restore", "backup.import", "backup.export"} <= set(actions)
    assert [r[0] for r in streamed] == [5]  # the in-flight stream was recorded
