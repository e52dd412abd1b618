"""``omni serve --workers 2``: two processes on one port, one set of caps, one lifecycle.

A real supervisor with its workers runs as a subprocess against the fake upstream; the
caps set through the API hold for both workers together, a worker that dies is replaced,
a restart through the API comes back on the same port and a shutdown stops everything.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from omni.admin.token import read_admin_token
from omni.config import load_settings
from tests.conftest import free_port, wait_healthy
from tests.conftest import run_omni as omni

pytestmark = pytest.mark.slow

BODY = {"model": "alpha/m1", "messages": [{"role": "user", "content": "hi"}]}


def _workers_of(pid: int) -> set[int]:
    return {
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    }


async def _fresh(method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    """One request on a new connection (so the kernel picks a worker each time)."""
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http,
        http.request(method, url, **kwargs) as response,
    ):
        body = await response.json(content_type=None)
        return response.status, body


async def _pids_answering(url: str, want: int) -> set[int]:
    seen: set[int] = set()
    for _ in range(200):
        _, health = await _fresh("GET", f"{url}/api/monitoring/health")
        seen.add(health["pid"])
        if len(seen) >= want:
            break
    return seen


async def _until_both_see_a_version_after(url: str, before: int) -> None:
    """Wait until both workers have reloaded a configuration newer than ``before``."""
    versions: dict[int, int] = {}
    async with asyncio.timeout(10):
        while len(versions) < 2 or min(versions.values()) <= before:
            _, health = await _fresh("GET", f"{url}/api/monitoring/health")
            versions[health["pid"]] = health["config_version"]


async def test_two_workers_share_caps_and_one_lifecycle(upstream: Any, omni_home: Path) -> None:
    await omni(
        "providers", "add", "alpha", "--base-url", f"{upstream.url}/v1", "--no-sync",
        "--models", "m1",
    )  # fmt: skip
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "omni", "serve", "--port", str(port), "--workers", "2",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await wait_healthy(url, proc)
        workers = _workers_of(proc.pid)
        assert len(workers) == 2
        assert await _pids_answering(url, 2) == workers  # both serve the one port
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "omni.serve", "--port", str(port), "--workers", "2",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            async with asyncio.timeout(30):
                _, err = await second.communicate()
        finally:
            if second.returncode is None:
                second.kill()
        assert second.returncode == 1
        assert f"port {port} on 127.0.0.1 is already in use" in err.decode()
        admin = {"Authorization": f"Bearer {read_admin_token(load_settings().paths)}"}
        before = (await _fresh("GET", f"{url}/api/monitoring/health"))[1]["config_version"]
        caps = {"providers": {"alpha": {"rpm": 3}}, "queue": {"wait_s": 0}}
        status, _ = await _fresh("PUT", f"{url}/api/rate-limit", json=caps, headers=admin)
        assert status == 200
        await _until_both_see_a_version_after(url, before)
        answers = [(await _fresh("POST", f"{url}/v1/chat/completions", json=BODY))[0]
                   for _ in range(12)]  # fmt: skip
        assert answers.count(200) == 3 and len(upstream.requests) == 3
        _, state = await _fresh("GET", f"{url}/api/rate-limits", headers=admin)
        (cap,) = state["caps"]
        assert cap["requests_last_minute"] == 3

        # A worker that dies is replaced; the server goes on answering.
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        async with asyncio.timeout(10):
            while len(_workers_of(proc.pid) - {victim}) < 2:
                await asyncio.sleep(0.05)
        workers = _workers_of(proc.pid)
        assert (await _fresh("GET", f"{url}/api/monitoring/health"))[0] == 200

        # Restart through the API: the supervisor stays, fresh workers answer.
        status, _ = await _fresh("POST", f"{url}/api/restart", headers=admin)
        assert status == 202
        async with asyncio.timeout(30):
            while True:
                try:
                    fresh = await _pids_answering(url, 1)
                    if not fresh & workers and fresh <= _workers_of(proc.pid):
                        break
                except (aiohttp.ClientError, FileNotFoundError):
                    pass
                await asyncio.sleep(0.05)

        # Shutdown through the API stops every worker and the supervisor.
        status, _ = await _fresh("POST", f"{url}/api/shutdown", headers=admin)
        assert status == 202
        async with asyncio.timeout(30):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert "Traceback" not in stderr
    assert "starting it again" in stderr
    assert not load_settings().paths.server_file.exists()
