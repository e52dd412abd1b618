"""Fixtures and client-side helpers for the fake upstream's own tests.

`fake` is a started `FakeUpstream` with its default models and `http` a plain aiohttp session;
`call` posts a JSON body to the fake and returns status, headers and raw bytes, and
`sse_blocks`, `sse_json` and `ndjson` take a stream's raw bytes apart (SSE with LF or CRLF
framing, Ollama's NDJSON). The path constants and `ARGS` (tool-call arguments worth cutting)
are shared by `test_dialects_openai.py`, `test_dialects_others.py` and `test_upstream.py`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from tests.fakes.upstream import FakeUpstream

CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
MESSAGES = "/v1/messages"
GEMINI = "/v1beta/models/gemini-2.5-flash:generateContent"
GEMINI_STREAM = "/v1/models/gemini-2.5-flash:streamGenerateContent"
OLLAMA = "/api/chat"
ARGS = '{"cmd": "echo hi", "cwd": "/tmp"}'


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession, fake: FakeUpstream, path: str, body: Any = None, **kw: Any
) -> tuple[int, CIMultiDictProxy[str], bytes]:
    async with http.post(fake.url + path, json=body or {"model": "m"}, **kw) as resp:
        return resp.status, resp.headers, await resp.read()


def sse_blocks(raw: bytes) -> list[tuple[str | None, str]]:
    """(event name, data) per SSE event; CRLF and LF framing both accepted."""
    out = []
    for block in raw.decode().replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        event, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data.append(line.removeprefix("data: "))
        out.append((event, "\n".join(data)))
    return out


def sse_json(raw: bytes) -> list[Any]:
    return [json.loads(data) for _, data in sse_blocks(raw) if data != "[DONE]"]


def ndjson(raw: bytes) -> list[Any]:
    return [json.loads(line) for line in raw.splitlines() if line]
