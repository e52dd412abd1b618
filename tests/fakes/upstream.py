"""A scriptable fake LLM provider for testing the omni gateway without the network.

`FakeUpstream` is a real aiohttp server on 127.0.0.1 (a free port) that answers like OpenAI
(Chat Completions and Responses), Anthropic Messages, Gemini and Ollama, as JSON or as a stream,
and records every request it receives. Tests script it by queueing `Reply` objects: each
inference request, whatever its dialect, takes the next one (FIFO; `fake.default` when the queue
is empty) and renders it in the shape of the path it came in on. A reply can also fail
(status + headers, error bodies in the dialect's shape), be slow (`first_byte_delay`,
`chunk_delay`), hang (`stall_after`), break (`cut_after`, `malformed`, `error_after`), or be a
raw body, so retry, fallback, timeout and translation code can be tested against the real wire.

    async with FakeUpstream(models=["gpt-4o-mini"]) as fake:
        fake.push(Reply(text="hi"), Reply(status=429, headers={"Retry-After": "30"}))
        ...  # point the gateway at fake.url and send requests
        assert fake.last.json["model"] == "gpt-4o-mini"

The wire shapes live in `tests/fakes/dialects_openai.py` (OpenAI Chat, Responses, embeddings)
and `tests/fakes/dialects_others.py` (Anthropic, Gemini, Ollama).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from multidict import CIMultiDict

from tests.fakes.dialects_common import Ctx, Dialect, dumps
from tests.fakes.dialects_openai import OPENAI_CHAT, OPENAI_EMBEDDINGS, OPENAI_RESPONSES
from tests.fakes.dialects_others import (
    ANTHROPIC,
    GEMINI,
    GEMINI_EMBEDDINGS,
    OLLAMA,
    OLLAMA_EMBEDDINGS,
)

__all__ = ["FakeUpstream", "Recorded", "Reply", "ToolCall", "Usage"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Usage:
    """Token counts. `input` includes cached tokens, `output` includes reasoning tokens."""

    input: int = 11
    output: int = 7
    cache_read: int = 0
    cache_write: int = 0
    reasoning: int = 0


@dataclass
class ToolCall:
    """A function call the model makes. `arguments` is JSON text, sent as-is.

    An empty `id` is filled in by the fake when the reply is pushed ("call_1", "call_2", ...
    per fake), so tests can read it back from the object they pushed.
    """

    name: str
    arguments: str = "{}"
    id: str = ""


@dataclass
class Reply:
    """One scripted answer; every field has a harmless default.

    Streams are lists of events (SSE events, or NDJSON lines for Ollama); `stall_after`,
    `cut_after` and `error_after` count those. A JSON body counts as two events, its halves,
    so `cut_after=1` sends half a body and `stall_after=0` sends only the headers.
    """

    text: str = "Hello from the fake upstream."
    chunks: int = 3  # text and reasoning are streamed in this many pieces
    tool_calls: list[ToolCall] = field(default_factory=list)
    reasoning: str | None = None
    usage: Usage = field(default_factory=Usage)
    finish: str = "stop"  # "stop" | "length" | "tool_calls"; other values pass through
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error_message: str = "fake upstream error"
    error_type: str | None = None  # overrides the dialect's error type / Gemini status
    body: bytes | None = None  # raw body, sent as-is with `content_type`
    content_type: str | None = None  # overrides the Content-Type of any response
    malformed: bool = False  # JSON cut short; a stream gets a non-JSON event mid-way
    first_byte_delay: float = 0.0  # seconds before status and headers
    chunk_delay: float = 0.0  # seconds between stream events
    stall_after: int | None = None  # after N events go silent for `stall_seconds`
    stall_seconds: float = 30.0
    cut_after: int | None = None  # after N events abort the connection
    error_after: int | None = None  # after N stream events send the dialect's in-stream error
    stream: bool | None = None  # None: follow the request
    model: str | None = None  # None: echo the requested model


@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDict[str]  # case-insensitive: headers["authorization"]
    body: bytes
    json: Any  # parsed body, None when empty or not JSON

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class FakeUpstream:
    """The fake provider server. See the module docstring."""

    def __init__(
        self, models: Sequence[str] = ("gpt-4o-mini", "gpt-4o"), *, default: Reply | None = None
    ) -> None:
        self.models = list(models)
        self.default = default if default is not None else Reply()
        self.requests: list[Recorded] = []
        self._queue: deque[Reply] = deque()
        self._seq = itertools.count(1)
        self._call_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ------------------------------------------------------------------------- test-facing API

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeUpstream is not started; await fake.start() first")
        return f"http://127.0.0.1:{self._port}"

    @property
    def last(self) -> Recorded:
        if not self.requests:
            raise LookupError("FakeUpstream has not received any request yet")
        return self.requests[-1]

    @property
    def paths(self) -> list[str]:
        """Paths of all recorded requests, in arrival order."""
        return [r.path for r in self.requests]

    @property
    def pending(self) -> int:
        """Replies pushed but not consumed yet."""
        return len(self._queue)

    def push(self, *replies: Reply) -> None:
        """Queue replies for the next inference requests, first in first out."""
        for reply in replies:
            self._assign_ids(reply)
            self._queue.append(reply)

    def reset(self) -> None:
        """Forget queued replies and recorded requests."""
        self._queue.clear()
        self.requests.clear()

    async def start(self) -> Self:
        if self._runner is not None:
            raise RuntimeError("FakeUpstream is already started")
        runner = web.AppRunner(
            self._app(), handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = runner.addresses[0][1]
        return self

    async def close(self) -> None:
        """Stop the server; in-flight handlers (stalls, delays) are cancelled, not awaited."""
        runner, self._runner, self._port = self._runner, None, None
        if runner is None:
            return
        for task in list(self._tasks):
            task.cancel()
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------------- plumbing

    def _assign_ids(self, reply: Reply) -> None:
        for call in reply.tool_calls:
            if not call.id:
                call.id = f"call_{next(self._call_ids)}"

    def _next_reply(self) -> Reply:
        reply = self._queue.popleft() if self._queue else self.default
        self._assign_ids(reply)
        return reply

    def _app(self) -> web.Application:
        @web.middleware
        async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
            body = await request.read()
            headers = CIMultiDict(request.headers)
            query = dict(request.query)
            rec = Recorded(request.method, request.path, query, headers, body, _parse(body))
            self.requests.append(rec)
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            try:
                return await handler(request)
            finally:
                self._tasks.discard(task)

        app = web.Application(middlewares=[record])
        add = app.router.add_route
        add("POST", "/v1/chat/completions", self.chat_completions)
        add("POST", "/v1/responses", self.responses)
        add("POST", "/v1/messages", self.messages)
        add("POST", "/v1/messages/count_tokens", self.count_tokens)
        add("POST", "/v1/embeddings", self.embeddings)
        add("GET", "/v1/models", self.list_models)
        add("GET", "/v1beta/models", self.gemini_models)
        add("POST", "/v1beta/models/{tail:.+}", self.gemini)
        add("POST", "/v1/models/{tail:.+}", self.gemini)
        add("POST", "/api/chat", self.ollama_chat)
        add("POST", "/api/embed", self.ollama_embed)
        add("GET", "/api/tags", self.ollama_tags)
        add("*", "/{tail:.*}", self.not_found)
        return app

    # ------------------------------------------------------------------------- inference routes

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        return await self._infer(request, OPENAI_CHAT, body.get("stream") is True)

    async def responses(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        return await self._infer(request, OPENAI_RESPONSES, body.get("stream") is True)

    async def messages(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        return await self._infer(request, ANTHROPIC, body.get("stream") is True)

    async def ollama_chat(self, request: web.Request) -> web.StreamResponse:
        body = await _body(request)
        return await self._infer(request, OLLAMA, body.get("stream") is not False)

    async def embeddings(self, request: web.Request) -> web.StreamResponse:
        return await self._infer(request, OPENAI_EMBEDDINGS, False)

    async def ollama_embed(self, request: web.Request) -> web.StreamResponse:
        return await self._infer(request, OLLAMA_EMBEDDINGS, False)

    async def gemini(self, request: web.Request) -> web.StreamResponse:
        """/v1beta/models/{model}:{method} (and /v1/...); streams are SSE whatever `alt` says."""
        model, _, method = request.match_info["tail"].rpartition(":")
        model = model.removeprefix("models/")
        if method in ("generateContent", "streamGenerateContent"):
            stream = method == "streamGenerateContent"
            return await self._infer(request, GEMINI, stream, model)
        if method in ("embedContent", "batchEmbedContents"):
            return await self._infer(request, GEMINI_EMBEDDINGS, False, model)
        if method == "countTokens":
            return _json({"totalTokens": await _rough_tokens(request)})
        return await self.not_found(request)

    async def _infer(
        self, request: web.Request, dialect: Dialect, stream: bool, model: str | None = None
    ) -> web.StreamResponse:
        body = await _body(request)
        reply = self._next_reply()
        requested = body.get("model") if isinstance(body.get("model"), str) else None
        name = reply.model or model or requested or "fake-model"
        ctx = Ctx(model=name, request=body, seq=next(self._seq), created=int(time.time()))
        if reply.first_byte_delay > 0:
            await asyncio.sleep(reply.first_byte_delay)
        if reply.body is not None:
            return await self._send(request, reply, "application/json", _halves(reply.body))
        if reply.status >= 400:
            error = dumps(dialect.error(reply))
            return await self._send(request, reply, "application/json", _halves(error))
        if (stream if reply.stream is None else reply.stream) and dialect.events is not None:
            return await self._send_stream(request, reply, dialect, ctx)
        data = dumps(dialect.json(reply, ctx))
        if reply.malformed:
            data = data[: len(data) // 2]
        return await self._send(request, reply, "application/json", _halves(data))

    async def _send_stream(
        self, request: web.Request, reply: Reply, dialect: Dialect, ctx: Ctx
    ) -> web.StreamResponse:
        assert dialect.events is not None
        events = dialect.events(reply, ctx)
        if reply.error_after is not None and dialect.stream_error is not None:
            n = min(reply.error_after, len(events))
            events = [*events[:n], dialect.stream_error(reply, ctx, n)]
        if reply.malformed:
            events.insert(len(events) // 2, dialect.garbage)
        return await self._send(request, reply, dialect.stream_type, events, stream=True)

    async def _send(
        self,
        request: web.Request,
        reply: Reply,
        content_type: str,
        parts: list[bytes],
        *,
        stream: bool = False,
    ) -> web.StreamResponse:
        """Write `parts` one by one, honouring the reply's pacing, stall and cut settings."""
        headers = {"Content-Type": reply.content_type or content_type}
        headers["x-request-id"] = f"req_fake{len(self.requests)}"
        resp = web.StreamResponse(status=reply.status, headers={**headers, **reply.headers})
        if stream:
            resp.headers.setdefault("Cache-Control", "no-cache")
        else:
            resp.content_length = sum(len(p) for p in parts)
        await resp.prepare(request)
        for i in range(len(parts) + 1):
            if i == reply.cut_after:
                if request.transport is not None:
                    request.transport.abort()
                return resp
            if i == reply.stall_after:
                await asyncio.sleep(reply.stall_seconds)
            elif stream and 0 < i < len(parts) and reply.chunk_delay > 0:
                await asyncio.sleep(reply.chunk_delay)
            if i < len(parts):
                await resp.write(parts[i])
        await resp.write_eof()
        return resp

    # ------------------------------------------------------------------------- other routes

    async def count_tokens(self, request: web.Request) -> web.StreamResponse:
        return _json({"input_tokens": await _rough_tokens(request)})

    async def list_models(self, request: web.Request) -> web.StreamResponse:
        """GET /v1/models is shared: answer in the shape the caller's headers ask for."""
        if "anthropic-version" in request.headers:
            models = [
                {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
                for m in self.models
            ]
            first, last = (self.models[0], self.models[-1]) if self.models else (None, None)
            page = {"has_more": False, "first_id": first, "last_id": last}
            return _json({"data": models, **page})
        if "x-goog-api-key" in request.headers:
            return await self.gemini_models(request)
        data = [
            {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "fake-upstream"}
            for m in self.models
        ]
        return _json({"object": "list", "data": data})

    async def gemini_models(self, request: web.Request) -> web.StreamResponse:
        methods = ["generateContent", "streamGenerateContent", "countTokens", "embedContent"]
        models = [
            {
                "name": f"models/{m}",
                "baseModelId": m,
                "version": "001",
                "displayName": m,
                "description": "A model served by the fake upstream.",
                "inputTokenLimit": 1_048_576,
                "outputTokenLimit": 65_536,
                "supportedGenerationMethods": methods,
            }
            for m in self.models
        ]
        return _json({"models": models})

    async def ollama_tags(self, request: web.Request) -> web.StreamResponse:
        details = {
            "parent_model": "",
            "format": "gguf",
            "family": "llama",
            "families": ["llama"],
            "parameter_size": "8B",
            "quantization_level": "Q4_K_M",
        }
        models = [
            {
                "name": m,
                "model": m,
                "modified_at": "2025-01-01T00:00:00Z",
                "size": 4_920_753_328,
                "digest": hashlib.sha256(m.encode()).hexdigest(),
                "details": details,
            }
            for m in self.models
        ]
        return _json({"models": models})

    async def not_found(self, request: web.Request) -> web.StreamResponse:
        message = f"fake upstream: no route for {request.method} {request.path}"
        if request.path.startswith("/api/"):
            return _json({"error": message}, status=404)
        error = {"message": message, "type": "invalid_request_error", "code": "not_found"}
        return _json({"error": error}, status=404)


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


async def _body(request: web.Request) -> dict[str, Any]:
    parsed = _parse(await request.read())  # read() is cached, this does not hit the socket
    return parsed if isinstance(parsed, dict) else {}


async def _rough_tokens(request: web.Request) -> int:
    return max(1, len(await request.read()) // 4)


def _halves(data: bytes) -> list[bytes]:
    return [data[: len(data) // 2], data[len(data) // 2 :]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=dumps(data), status=status, content_type="application/json")
