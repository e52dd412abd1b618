"""The official SDKs as clients of omni, each against upstreams of other dialects.

openai (chat is covered in test_openai_sdk.py; here Responses, embeddings), anthropic
(create, the messages.stream() helper, tool use, thinking, count_tokens, both auth
headers), google-genai (generate, stream, count_tokens, embed; /v1 and /v1beta) and
ollama (chat, streamed and not, tags, embed).
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Callable
from typing import Any

import anthropic
import ollama
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from tests.fakes.upstream import Reply, ToolCall, Usage

WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def _base(client: Any) -> str:
    return str(client.make_url("")).rstrip("/")


# -- openai: Responses and embeddings -----------------------------------------------------


@pytest.mark.parametrize("up", ["anthropic", "openai", "gemini"])
async def test_openai_responses(matrix: Callable[..., Any], upstream: Any, up: str) -> None:
    http = await matrix()
    sdk = openai.AsyncOpenAI(base_url=_base(http) + "/v1", api_key="k", max_retries=0)
    upstream.push(Reply(text="answer one", usage=Usage(input=9, output=2)))
    response = await sdk.responses.create(model=f"up-{up}/m1", input="hello")
    assert response.output_text == "answer one"
    assert response.usage is not None and response.usage.input_tokens == 9

    upstream.push(Reply(text="streamed two", chunks=3))
    async with sdk.responses.stream(model=f"up-{up}/m1", input="hello") as stream:
        deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
        final = await stream.get_final_response()
    assert "".join(deltas) == "streamed two" == final.output_text

    upstream.push(Reply(text="", tool_calls=[ToolCall("exec_command", '{"cmd": "ls"}')],
                        finish="tool_calls"))  # fmt: skip
    tools: Any = [{"type": "function", "name": "exec_command", "parameters": WEATHER}]
    async with sdk.responses.stream(model=f"up-{up}/m1", input="run", tools=tools) as stream:
        final = await stream.get_final_response()
    [call] = [item for item in final.output if item.type == "function_call"]
    assert (call.name, json.loads(call.arguments)) == ("exec_command", {"cmd": "ls"})
    await sdk.close()


@pytest.mark.parametrize("up", ["openai", "gemini", "ollama"])
async def test_openai_embeddings(matrix: Callable[..., Any], upstream: Any, up: str) -> None:
    http = await matrix()
    sdk = openai.AsyncOpenAI(base_url=_base(http) + "/v1", api_key="k", max_retries=0)
    default = await sdk.embeddings.create(model=f"up-{up}/embed-1", input=["a", "bb"])
    floats = await sdk.embeddings.create(
        model=f"up-{up}/embed-1", input="a", encoding_format="float"
    )
    assert len(default.data) == 2
    assert default.data[0].embedding == pytest.approx(floats.data[0].embedding, rel=1e-6)
    raw = await http.post(
        "/v1/embeddings",
        json={"model": f"up-{up}/embed-1", "input": "a", "encoding_format": "base64"},
    )
    encoded = (await raw.json())["data"][0]["embedding"]
    decoded = struct.unpack(f"<{len(base64.b64decode(encoded)) // 4}f", base64.b64decode(encoded))
    assert list(decoded) == pytest.approx(floats.data[0].embedding, rel=1e-6)
    await sdk.close()


# -- anthropic ------------------------------------------------------------------------


@pytest.mark.parametrize("up", ["openai", "gemini", "responses"])
async def test_anthropic_sdk(matrix: Callable[..., Any], upstream: Any, up: str) -> None:
    http = await matrix()
    model = f"up-{up}/m1"
    for headers in ({}, {"x-api-key": "k2"}):
        sdk = anthropic.AsyncAnthropic(
            base_url=_base(http), api_key="k", max_retries=0, default_headers=headers
        )
        upstream.push(Reply(text="hi from claude", usage=Usage(input=12, output=3)))
        message = await sdk.messages.create(
            model=model, max_tokens=100, messages=[{"role": "user", "content": "hi"}]
        )
        assert message.content[0].type == "text"
        assert message.content[0].text == "hi from claude"
        assert message.usage.input_tokens == 12
        await sdk.close()

    sdk = anthropic.AsyncAnthropic(base_url=_base(http), api_key="k", max_retries=0)
    upstream.push(Reply(text="the answer", reasoning="let me think", chunks=3))
    async with sdk.messages.stream(
        model=model, max_tokens=2048, messages=[{"role": "user", "content": "think"}],
        thinking={"type": "enabled", "budget_tokens": 1024},
    ) as stream:  # fmt: skip
        text = "".join([t async for t in stream.text_stream])
        final = await stream.get_final_message()
    assert text == "the answer"
    assert final.content[-1].type == "text"

    upstream.push(Reply(text="", tool_calls=[ToolCall("get_weather", '{"city": "Oslo"}')],
                        finish="tool_calls"))  # fmt: skip
    async with sdk.messages.stream(
        model=model, max_tokens=100, messages=[{"role": "user", "content": "weather"}],
        tools=[{"name": "get_weather", "input_schema": WEATHER}],  # type: ignore[typeddict-item]
    ) as stream:  # fmt: skip
        final = await stream.get_final_message()
    [tool_use] = [b for b in final.content if b.type == "tool_use"]
    assert (tool_use.name, tool_use.input) == ("get_weather", {"city": "Oslo"})
    assert final.stop_reason == "tool_use"

    count = await sdk.messages.count_tokens(
        model=model, messages=[{"role": "user", "content": "count these words please"}]
    )
    assert count.input_tokens >= 1
    await sdk.close()


async def test_anthropic_count_tokens_asks_an_anthropic_upstream(
    matrix: Callable[..., Any], upstream: Any
) -> None:
    http = await matrix()
    response = await http.post(
        "/v1/messages/count_tokens",
        json={"model": "up-anthropic/m1", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.status == 200
    assert response.headers["X-OmniRoute-Token-Count"] == "upstream"
    assert upstream.last.path == "/v1/messages/count_tokens"
    assert upstream.last.json["model"] == "m1"


# -- google-genai ------------------------------------------------------------------------


@pytest.mark.parametrize("api_version", ["v1", "v1beta"])
@pytest.mark.parametrize("up", ["openai", "anthropic"])
async def test_google_genai(
    matrix: Callable[..., Any], upstream: Any, up: str, api_version: str
) -> None:
    http = await matrix()
    client = genai.Client(
        api_key="k",
        http_options=genai_types.HttpOptions(base_url=_base(http), api_version=api_version),
    )
    model = f"up-{up}/m1"
    upstream.push(Reply(text="gemini says hi", usage=Usage(input=5, output=3)))
    answer = await client.aio.models.generate_content(model=model, contents="hello")
    assert answer.text == "gemini says hi"
    assert answer.usage_metadata is not None
    assert answer.usage_metadata.prompt_token_count == 5

    upstream.push(Reply(text="streaming from gemini", chunks=3))
    pieces = [
        chunk.text or ""
        async for chunk in await client.aio.models.generate_content_stream(
            model=model, contents="hello"
        )
    ]
    assert "".join(pieces) == "streaming from gemini"

    upstream.push(Reply(text="", tool_calls=[ToolCall("get_weather", '{"city": "Rome"}')],
                        finish="tool_calls"))  # fmt: skip
    tool = genai_types.Tool(function_declarations=[
        genai_types.FunctionDeclaration(name="get_weather", parameters_json_schema=WEATHER)
    ])  # fmt: skip
    answer = await client.aio.models.generate_content(
        model=model, contents="weather?", config=genai_types.GenerateContentConfig(tools=[tool])
    )
    assert answer.function_calls is not None
    assert answer.function_calls[0].name == "get_weather"
    assert answer.function_calls[0].args == {"city": "Rome"}

    counted = await client.aio.models.count_tokens(model=model, contents="count me")
    assert (counted.total_tokens or 0) >= 1
    await client.aio.aclose()


@pytest.mark.parametrize("up", ["openai", "ollama"])
async def test_google_genai_embeddings(matrix: Callable[..., Any], up: str) -> None:
    http = await matrix()
    client = genai.Client(api_key="k", http_options=genai_types.HttpOptions(base_url=_base(http)))
    result = await client.aio.models.embed_content(
        model=f"up-{up}/embed-1", contents=["one", "two"]
    )
    assert result.embeddings is not None and len(result.embeddings) == 2
    assert result.embeddings[0].values
    await client.aio.aclose()


# -- ollama -------------------------------------------------------------------------


@pytest.mark.parametrize("up", ["openai", "anthropic"])
async def test_ollama_client(matrix: Callable[..., Any], upstream: Any, up: str) -> None:
    http = await matrix()
    client = ollama.AsyncClient(host=_base(http))
    upstream.push(Reply(text="llama says hi"))
    answer = await client.chat(
        model=f"up-{up}/m1", messages=[{"role": "user", "content": "hi"}], stream=False
    )
    assert answer.message.content == "llama says hi"

    upstream.push(Reply(text="streamed llama", chunks=3))
    parts = [
        part.message.content or ""
        async for part in await client.chat(
            model=f"up-{up}/m1", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    ]
    assert "".join(parts) == "streamed llama"

    tags = await client.list()
    assert f"up-{up}/m1" in {m.model for m in tags.models}
    embedded = await client.embed(model="up-openai/embed-1", input=["x"])
    assert len(embedded.embeddings) == 1
    await client.close()
