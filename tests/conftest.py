"""Shared fixtures: an isolated OMNI_HOME per test, the fake upstream, a gateway client."""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from omni.config import Settings, load_settings

_ENV_PREFIXES = ("OMNI_",)
_ENV_NAMES = ("PORT", "DATA_DIR", "REQUIRE_API_KEY", "INITIAL_PASSWORD", "XDG_RUNTIME_DIR")


@pytest.fixture(autouse=True)
def omni_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own OMNI_HOME and no omni settings from the outer environment."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name in _ENV_NAMES:
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "omni-home"
    monkeypatch.setenv("OMNI_HOME", str(home))
    yield home


@pytest.fixture
def settings(omni_home: Path) -> Settings:
    return load_settings()


async def run_omni(*args: str, check: bool = True) -> tuple[int, str, str]:
    """Run ``python -m omni ARGS`` without blocking the loop; (exit code, stdout, stderr)."""
    import asyncio
    import sys

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "omni", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    code = proc.returncode if proc.returncode is not None else -1
    if check and code != 0:
        raise AssertionError(f"omni {' '.join(args)} -> {code}\n{out.decode()}\n{err.decode()}")
    return code, out.decode(), err.decode()


async def wait_healthy(url: str, proc: Any) -> None:
    """Wait until the omni server at ``url`` answers its health check; fail if ``proc``
    (its asyncio subprocess) exits first."""
    import asyncio

    import aiohttp

    async with aiohttp.ClientSession() as http, asyncio.timeout(30):
        while proc.returncode is None:
            try:
                async with http.get(f"{url}/api/monitoring/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"omni serve exited with {proc.returncode} before it was healthy")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def upstream() -> AsyncIterator[Any]:
    from tests.fakes.upstream import FakeUpstream

    fake = FakeUpstream(models=["gpt-4o-mini", "gpt-4o"])
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
def add_provider(settings: Settings) -> Callable[..., dict[str, Any]]:
    """Add a provider straight on the store (as the CLI does when no server runs)."""
    from omni.client import LocalAdminClient

    def add(name: str, **fields: Any) -> dict[str, Any]:
        client = LocalAdminClient(settings)
        return client.add_provider(name, **fields)

    return add


@pytest.fixture
def make_client(aiohttp_client: Any) -> Callable[..., Any]:
    """Start an omni app (optionally with setting overrides) and return a test client; it
    is served as ``omni serve`` serves it: the fast lane in front of aiohttp."""
    from aiohttp.test_utils import TestServer

    from omni.serve.app import create_app
    from omni.serve.front import FrontRunner

    class FrontTestServer(TestServer):
        async def _make_runner(self, **kwargs: Any) -> web.AppRunner:
            return FrontRunner(self.app, **kwargs)  # handler_cancellation, as RUNNER_OPTIONS

    async def make(**overrides: Any) -> Any:
        return await aiohttp_client(FrontTestServer(create_app(load_settings(overrides))))

    return make
