"""The official openai SDK as a client of omni (JSON, streams, the stream helper, models),
against an OpenAI-compatible upstream and against upstreams of other dialects."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from openai import AsyncOpenAI, RateLimitError

from tests.fakes.upstream import Reply, ToolCall, Usage


async def _sdk(client: Any) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=str(client.make_url("/v1")), api_key="unused", max_retries=0)


UPSTREAMS = ["openai", "anthropic", "gemini", "ollama"]


@pytest.mark.parametrize("up", UPSTREAMS)
async def test_sdk_create_and_stream(matrix: Callable[..., Any], upstream: Any, up: str) -> None:
    client = await matrix()
    sdk = await _sdk(client)
    upstream.push(Reply(text="plain answer", usage=Usage(input=5, output=2)))
    completion = await sdk.chat.completions.create(
        model=f"up-{up}/m1", messages=[{"role": "user", "content": "hi"}]
    )
    assert completion.choices[0].message.content == "plain answer"
    assert completion.usage is not None and completion.usage.prompt_tokens == 5

    upstream.push(Reply(text="streamed answer here", chunks=3, usage=Usage(input=6, output=3)))
    stream = await sdk.chat.completions.create(
        model=f"up-{up}/m1",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    parts, usage = [], None
    async for chunk in stream:
        if chunk.choices:
            parts.append(chunk.choices[0].delta.content or "")
        if chunk.usage:
            usage = chunk.usage
    assert "".join(parts) == "streamed answer here"
    assert usage is not None and usage.completion_tokens == 3
    await sdk.close()


@pytest.mark.parametrize("up", UPSTREAMS)
async def test_sdk_stream_helper_with_tool_calls(
    matrix: Callable[..., Any], upstream: Any, up: str
) -> None:
    client = await matrix()
    sdk = await _sdk(client)
    upstream.push(
        Reply(
            text="", tool_calls=[ToolCall("get_weather", '{"city": "Lisbon"}')], finish="tool_calls"
        )
    )
    async with sdk.chat.completions.stream(
        model=f"up-{up}/m1",
        messages=[{"role": "user", "content": "weather?"}],
        tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
    ) as stream:
        final = await stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Lisbon"}
    await sdk.close()


async def test_sdk_models_and_errors(gateway: Callable[..., Any], upstream: Any) -> None:
    client = await gateway()
    sdk = await _sdk(client)
    ids = [m.id async for m in sdk.models.list()]
    assert "fake/gpt-4o-mini" in ids
    upstream.push(Reply(status=429, headers={"Retry-After": "1"}, error_message="too many"))
    with pytest.raises(RateLimitError, match="too many"):
        await sdk.chat.completions.create(model="fake/gpt-4o-mini", messages=[])
    await sdk.close()
