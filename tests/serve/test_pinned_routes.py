"""/v1/providers/{provider}/…: the provider is forced, a bare model gets its prefix."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


async def _two_providers(
    gateway: Callable[..., Any], add_provider: Callable[..., Any], upstream: Any
) -> Any:
    await asyncio.to_thread(
        add_provider, "other", base_url=f"{upstream.url}/v1", api_key="sk-other",
        models=["gpt-4o-mini", "vendor/model-x"], sync_models=False,
    )  # fmt: skip
    return await gateway()


async def test_chat_is_pinned_to_the_provider(
    gateway: Callable[..., Any], add_provider: Callable[..., Any], upstream: Any
) -> None:
    client = await _two_providers(gateway, add_provider, upstream)
    ask = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    plain = await client.post("/v1/chat/completions", json=ask)
    assert plain.status == 400, "served by two providers: ambiguous without a prefix"

    for provider in ("other", "fake"):
        response = await client.post(f"/v1/providers/{provider}/chat/completions", json=ask)
        assert response.status == 200
        assert response.headers["X-OmniRoute-Provider"] == provider
        assert upstream.last.json["model"] == "gpt-4o-mini"

    prefixed = {**ask, "model": "other/gpt-4o-mini"}
    response = await client.post("/v1/providers/other/chat/completions", json=prefixed)
    assert response.headers["X-OmniRoute-Model"] == "other/gpt-4o-mini"

    nested = {**ask, "model": "vendor/model-x"}
    response = await client.post("/v1/providers/other/chat/completions", json=nested)
    assert response.status == 200, "a slash in the provider's own model id"
    assert upstream.last.json["model"] == "vendor/model-x"

    stream = await client.post("/v1/providers/other/chat/completions", json={**ask, "stream": True})
    assert stream.status == 200 and b"data: [DONE]" in await stream.read()


async def test_model_of_another_provider_and_unknown_provider(
    gateway: Callable[..., Any], add_provider: Callable[..., Any], upstream: Any
) -> None:
    client = await _two_providers(gateway, add_provider, upstream)
    ask = {"model": "fake/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    response = await client.post("/v1/providers/other/chat/completions", json=ask)
    assert response.status == 400
    assert "belongs to provider 'fake'" in (await response.json())["error"]["message"]
    response = await client.post("/v1/providers/nope/chat/completions", json=ask)
    assert response.status == 404
    response = await client.post("/v1/providers/fake/chat/completions", json={"messages": []})
    assert response.status == 400


async def test_embeddings_and_images_are_pinned(
    gateway: Callable[..., Any], add_provider: Callable[..., Any], upstream: Any
) -> None:
    client = await _two_providers(gateway, add_provider, upstream)
    response = await client.post(
        "/v1/providers/other/embeddings", json={"model": "text-embedding-3-small", "input": "x"}
    )
    assert response.status == 200
    assert response.headers["X-OmniRoute-Provider"] == "other"
    assert upstream.last.path == "/v1/embeddings"
    assert upstream.last.json["model"] == "text-embedding-3-small"

    await client.post(
        "/v1/providers/other/images/generations", json={"model": "dall-e-3", "prompt": "a cat"}
    )
    assert upstream.last.path == "/v1/images/generations"
    assert upstream.last.json["model"] == "dall-e-3"
    assert upstream.last.headers["Authorization"] == "Bearer sk-other"
