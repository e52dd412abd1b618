"""Bad input gets a clear OpenAI-shaped error with the right status, never a 500."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"", 400, "empty"),
        (b"[1, 2]", 400, "JSON object"),
        (b'{"messages": []}', 400, "'model' must be a string"),
        (b'{"model": 5, "messages": []}', 400, "'model' must be a string"),
        (b'{"model": "nobody/x", "messages": []}', 404, "unknown model 'nobody/x'"),
        (b'{"model": "no-such-model", "messages": []}', 404, "unknown model"),
    ],
)
async def test_bad_chat_requests(
    gateway: Callable[..., Any], upstream: Any, body: bytes, status: int, needle: str
) -> None:
    client = await gateway()
    response = await client.post(
        "/v1/chat/completions", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == status
    error = (await response.json())["error"]
    assert needle in error["message"]
    assert set(error) == {"message", "type", "param", "code"}
    assert upstream.requests == [], "nothing reaches the upstream"


async def test_unknown_model_code(gateway: Callable[..., Any]) -> None:
    client = await gateway()
    response = await client.post("/v1/chat/completions", json={"model": "nobody/x", "messages": []})
    assert (await response.json())["error"]["code"] == "model_not_found"


async def test_body_too_large_is_413(gateway: Callable[..., Any], upstream: Any) -> None:
    client = await gateway(max_body_mb=1)
    big = b'{"model": "fake/gpt-4o-mini", "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = await client.post("/v1/chat/completions", data=io.BytesIO(big))
    assert response.status == 413
    assert "1 MiB" in (await response.json())["error"]["message"]
    assert upstream.requests == []


async def test_unknown_path_and_wrong_method(gateway: Callable[..., Any]) -> None:
    client = await gateway()
    response = await client.get("/v1/nothing-here")
    assert response.status == 404
    assert "no such endpoint" in (await response.json())["error"]["message"]
    response = await client.get("/v1/chat/completions")
    assert response.status == 405
    assert (await response.json())["error"]["type"] == "invalid_request_error"


DIALECT_PATHS = {
    "openai": "/v1/chat/completions",
    "anthropic": "/v1/messages",
    "responses": "/v1/responses",
    "gemini": "/v1beta/models/fake/gpt-4o-mini:generateContent",
    "ollama": "/api/chat",
}


def _assert_dialect_error(dialect: str, data: Any, status: int) -> None:
    if dialect == "anthropic":
        assert data["type"] == "error" and data["error"]["type"] == "invalid_request_error"
    elif dialect == "gemini":
        assert data["error"]["code"] == status and data["error"]["status"] == "INVALID_ARGUMENT"
    elif dialect == "ollama":
        assert isinstance(data["error"], str)
    else:
        assert data["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("dialect", list(DIALECT_PATHS))
@pytest.mark.parametrize(
    "body",
    [b"{oops", b"[]", b'{"model": "fake/gpt-4o-mini", "messages": 5, "contents": 5, "input": 5}'],
    ids=["not-json", "not-object", "wrong-types"],
)
async def test_malformed_body_gets_the_dialects_400(
    gateway: Callable[..., Any], upstream: Any, dialect: str, body: bytes
) -> None:
    client = await gateway()
    response = await client.post(DIALECT_PATHS[dialect], data=body)
    assert response.status == 400
    _assert_dialect_error(dialect, await response.json(), 400)
    assert upstream.requests == []
