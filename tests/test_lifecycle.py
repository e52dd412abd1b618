"""The real server process: start, status, manage through it, graceful stop, no secret leaks.

These run ``python -m omni`` in subprocesses against the fake upstream on this test's loop,
so every subprocess call is awaited (never blocking the loop the fake runs on).
"""

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

from omni.config import load_settings
from omni.store import usage as usage_repo
from omni.store.db import Database
from tests.conftest import free_port, wait_healthy
from tests.conftest import run_omni as omni
from tests.fakes.upstream import Reply, Usage

pytestmark = pytest.mark.slow
SECRET = "sk-upstream-LIFECYCLE-7f3a9c"


def _rows() -> list[dict[str, Any]]:
    with Database(load_settings().paths.database).session() as conn:
        return list(reversed(usage_repo.recent(conn, 1000)))


async def _curl(url: str, body: dict[str, Any]) -> str:
    proc = await asyncio.create_subprocess_exec(
        "curl",
        "-sS",
        "--fail-with-body",
        "-N",
        url,
        "-H",
        "Content-Type: application/json",
        "-d",
        json.dumps(body),
        stdout=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        out, _ = await proc.communicate()
    assert proc.returncode == 0, out
    return out.decode()


def _openai_sdk(url: str) -> tuple[str, str, list[str]]:
    from openai import OpenAI

    sdk = OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    messages: Any = [{"role": "user", "content": "hi"}]
    answer = sdk.chat.completions.create(model="fake/gpt-4o-mini", messages=messages)
    streamed = "".join(
        chunk.choices[0].delta.content or ""
        for chunk in sdk.chat.completions.create(
            model="fake/gpt-4o-mini", messages=messages, stream=True
        )
        if chunk.choices
    )
    models = [m.id for m in sdk.models.list()]
    sdk.close()
    return answer.choices[0].message.content or "", streamed, models


async def test_detached_server_lifecycle(upstream: Any, omni_home: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    _, _, err = await omni("serve", "--detach", "--port", str(port))
    assert f"started in the background at {url}" in err

    code, out, _ = await omni("status", "--json")
    status = json.loads(out)
    assert status["running"] and status["url"] == url

    # With a server running, management goes through it and applies at once.
    _, _, err = await omni(
        "providers", "add", "fake", "--base-url", f"{upstream.url}/v1", "--api-key", SECRET
    )
    assert f"via server {url}" in err

    upstream.push(Reply(text="through the real server", usage=Usage(input=13, output=4)))
    async with aiohttp.ClientSession() as http:
        body = {"model": "fake/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
        async with http.post(f"{url}/v1/chat/completions", json=body) as response:
            assert response.status == 200
            data = await response.json()
        assert data["choices"][0]["message"]["content"] == "through the real server"
        async with http.get(f"{url}/v1/models") as response:
            ids = {m["id"] for m in (await response.json())["data"]}
        assert "fake/gpt-4o-mini" in ids

    # curl and the official openai SDK, non-streamed and streamed, against the real process.
    upstream.push(Reply(text="curl json", usage=Usage(input=2, output=2)))
    upstream.push(Reply(text="curl stream", chunks=2, usage=Usage(input=2, output=2)))
    curl_json = await _curl(f"{url}/v1/chat/completions", body)
    assert json.loads(curl_json)["choices"][0]["message"]["content"] == "curl json"
    curl_sse = await _curl(f"{url}/v1/chat/completions", {**body, "stream": True})
    assert curl_sse.rstrip().endswith("data: [DONE]")
    upstream.push(Reply(text="sdk json"), Reply(text="sdk stream", chunks=2))
    sdk_json, sdk_stream, sdk_models = await asyncio.to_thread(_openai_sdk, url)
    assert (sdk_json, sdk_stream) == ("sdk json", "sdk stream")
    assert "fake/gpt-4o-mini" in sdk_models

    code, _, err = await omni("start", "--port", str(port), check=False)
    assert code == 1 and "already running" in err

    _, _, err = await omni("stop")
    assert "stopped the server" in err
    code, _, _ = await omni("status", check=False)
    assert code == 3
    assert not load_settings().paths.server_file.exists()

    rows = _rows()
    assert len(rows) == 5
    assert all(r["status"] == 200 for r in rows)
    assert (rows[0]["input_tokens"], rows[0]["output_tokens"]) == (13, 4)

    # The upstream key is nowhere in plain text: database, WAL, logs, key files.
    leaks = [
        str(p) for p in omni_home.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()
    ]
    assert leaks == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_foreground_serve_stops_gracefully(
    upstream: Any, omni_home: Path, sig: signal.Signals
) -> None:
    await omni(
        "providers", "add", "fake", "--base-url", f"{upstream.url}/v1", "--no-sync", "--models", "m"
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "omni",
        "serve",
        "--port",
        str(port),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_healthy(url, proc)
        # A stream in flight when the signal arrives still completes, and is recorded.
        upstream.push(Reply(text="a b c d e", chunks=5, chunk_delay=0.1, usage=Usage(9, 5)))
        async with aiohttp.ClientSession() as http:
            body = {"model": "fake/m", "stream": True, "messages": []}
            async with http.post(f"{url}/v1/chat/completions", json=body) as response:
                first = await response.content.readany()
                assert first.startswith(b"data: ")
                os.kill(proc.pid, sig)
                rest = await response.read()
        assert (first + rest).rstrip().endswith(b"data: [DONE]")
        async with asyncio.timeout(30):
            code = await proc.wait()
        assert code == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert "Traceback" not in stderr
    assert "stopped" in stderr
    assert [r["status"] for r in _rows()] == [200]
    assert _rows()[0]["output_tokens"] == 5


async def _start_server() -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "omni", "serve", "--port", str(port),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await wait_healthy(url, proc)
    return proc, url


async def test_every_answered_request_has_its_row_even_through_a_sigterm(
    upstream: Any, omni_home: Path
) -> None:
    await omni(
        "providers", "add", "fake", "--base-url", f"{upstream.url}/v1", "--no-sync", "--models", "m"
    )
    upstream.default = Reply(text="ok", usage=Usage(13, 4))
    body = {"model": "fake/m", "messages": [{"role": "user", "content": "hi"}]}
    proc, url = await _start_server()
    try:
        async with aiohttp.ClientSession() as http:
            gate = asyncio.Semaphore(20)

            async def one() -> int:
                async with gate, http.post(f"{url}/v1/chat/completions", json=body) as response:
                    await response.read()
                    return response.status

            statuses = await asyncio.gather(*(one() for _ in range(200)))
        assert statuses == [200] * 200

        # A burst, and SIGTERM once some of it has been answered.
        upstream.default = Reply(text="ok", usage=Usage(13, 4), first_byte_delay=0.05)
        answered = 0
        some_answered = asyncio.Event()
        async with aiohttp.ClientSession() as http:

            async def burst() -> None:
                nonlocal answered
                try:
                    async with http.post(f"{url}/v1/chat/completions", json=body) as response:
                        await response.read()
                        if response.status == 200:
                            answered += 1
                            if answered >= 10:
                                some_answered.set()
                except aiohttp.ClientError:
                    pass  # refused once the server stopped accepting

            tasks = [asyncio.ensure_future(burst()) for _ in range(100)]
            await some_answered.wait()
            os.kill(proc.pid, signal.SIGTERM)
            await asyncio.gather(*tasks)
        async with asyncio.timeout(30):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    rows = _rows()
    ok = [r for r in rows if r["status"] == 200]
    assert len(ok) == 200 + answered
    assert {(r["input_tokens"], r["output_tokens"]) for r in ok} == {(13, 4)}
