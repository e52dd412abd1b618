"""Regression guard for the request path that does not depend on wall-clock speed.

Counts Python function calls made inside omni's own modules per request (a profiler hook,
deterministic for the same code path), for the pass-through and the translated paths.
A change that adds per-request work (re-parsing, disk I/O, needless copies) shows up as a
higher count long before it shows up in a benchmark. Raise a limit only with a reason.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

import omni
from tests.fakes.upstream import Reply

OMNI_DIR = os.path.dirname(omni.__file__) + os.sep  # the package itself, nothing else
REQUESTS = 20


class CallCounter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_filename.startswith(OMNI_DIR):
            self.calls += 1


async def _measure(http: Any, path: str, body: dict[str, Any], upstream: Any) -> float:
    upstream.default = Reply(text="hello")
    for _ in range(3):  # warm caches (routes, plans, codecs)
        assert (await http.post(path, json=body)).status == 200
    counter = CallCounter()
    sys.setprofile(counter)
    try:
        for _ in range(REQUESTS):
            response = await http.post(path, json=body)
            await response.read()
    finally:
        sys.setprofile(None)
    assert response.status == 200
    return counter.calls / REQUESTS


# The limits include omni's own upstream client (omni.providers.h1: ~25 calls per request,
# one per upstream response header among them) and its own server lane (omni.serve.front:
# ~15 calls); aiohttp's client and server before them were not counted.
@pytest.mark.parametrize(
    ("path", "body", "limit"),
    [
        ("/v1/chat/completions",
         {"model": "up-openai/m1", "messages": [{"role": "user", "content": "hi"}]}, 75),
        ("/v1/messages",
         {"model": "up-openai/m1", "max_tokens": 64,
          "messages": [{"role": "user", "content": "hi"}]}, 150),
    ],
    ids=["passthrough", "anthropic-to-openai"],
)  # fmt: skip
async def test_calls_per_request_stay_bounded(
    matrix: Callable[..., Any], upstream: Any, path: str, body: dict[str, Any], limit: int
) -> None:
    http = await matrix()
    per_request = await _measure(http, path, body, upstream)
    print(f"{path}: {per_request:.1f} omni calls per request")
    assert per_request <= limit
