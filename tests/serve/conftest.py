"""Fixtures for server tests: a gateway wired to the fake upstream, and usage rows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from omni.config import Settings
from omni.serve import keys
from omni.store import usage as usage_repo
from omni.store.db import Database


@pytest.fixture
def gateway(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any]
) -> Callable[..., Any]:
    """Add provider 'fake' (OpenAI format) at the fake upstream and start omni."""

    async def start(**overrides: Any) -> Any:
        # In a thread: adding syncs the model list from the fake, which runs on this loop.
        await asyncio.to_thread(
            add_provider, "fake", base_url=f"{upstream.url}/v1", api_key="sk-upstream-SECRET-42"
        )
        upstream.requests.clear()
        return await make_client(**overrides)

    return start


UPSTREAM_FORMATS = ("openai", "anthropic", "responses", "gemini", "ollama")


@pytest.fixture
def matrix(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any]
) -> Callable[..., Any]:
    """Start omni with one provider per upstream format at the fake: ``up-<format>/m1``
    (and the embedding model ``up-<format>/embed-1``)."""

    async def start() -> Any:
        for fmt in UPSTREAM_FORMATS:
            base = {"gemini": "/v1beta", "ollama": ""}.get(fmt, "/v1")
            await asyncio.to_thread(
                add_provider, f"up-{fmt}", base_url=upstream.url + base, format=fmt,
                api_key=f"key-{fmt}", models=["m1", "embed-1"], sync_models=False,
            )  # fmt: skip
        return await make_client()

    return start


async def usage_rows(client: Any, settings: Settings) -> list[dict[str, Any]]:
    """Every usage row, oldest first, after flushing the batched writer."""
    await client.app[keys.GATEWAY].usage.flush()
    with Database(settings.paths.database).session() as conn:
        return list(reversed(usage_repo.recent(conn, 10_000)))
