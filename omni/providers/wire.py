"""Wire adapters of the subscription providers: what their APIs want beyond the dialect.

A target with ``wire`` set goes through :func:`wire_send` instead of a plain POST:

- ``claude-code`` (Anthropic Messages over the Claude Code OAuth token): ``?beta=true`` on
  the messages URL and the Claude Code identity as the first system block;
- ``codex`` (ChatGPT's Responses backend): always a stream, ``store`` off, no token limit
  or sampling parameters, instructions present, ``input`` a list with no system role; a
  client that did not ask for a stream gets the final response collected from it;
- ``cloudcode`` (Gemini CLI / Code Assist): ``/v1internal:generateContent`` with the
  request in an envelope (``model``, ``project``, ``request``), and every answer (JSON
  or SSE event) taken out of its ``response`` envelope;
- ``copilot`` and ``qwen``: OpenAI Chat as is (their headers come with the target).

A target marked ``needs_login`` fails here at once with a clear message, without a call.
Answers other than 2xx are passed on untouched (their error bodies are the dialect's).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
import orjson
from multidict import CIMultiDictProxy

from omni.errors import UpstreamError
from omni.providers.http import Answer, Upstream

if TYPE_CHECKING:
    from omni.providers.executor import Target

CLAUDE_IDENTITY = "You are Claude Code, Anthropic's official CLI for Claude."
CODEX_INSTRUCTIONS = "You are a helpful coding assistant."
# Parameters the Codex backend rejects.
_CODEX_DROPS = ("max_output_tokens", "max_tokens", "temperature", "top_p", "previous_response_id",
                "stream_options", "metadata", "user", "service_tier", "truncation")  # fmt: skip
_GEMINI_METHOD = re.compile(r"/models/[^/:]+:(generateContent|streamGenerateContent)")

Finish = Callable[[Answer, "Target"], Awaitable[Answer]]


async def wire_send(
    http: Upstream, target: Target, url: str, body: bytes, first_byte_s: float
) -> Answer:
    """Send ``body`` the way the target's subscription API wants it (see the module doc)."""
    from omni.providers.executor import send

    reason = target.wire_data.get("needs_login")
    if reason:
        raise UpstreamError(reason, status=503, code="account_needs_login")
    url, body, finish = shape(target, url, body)
    upstream = await send(http, replace(target, wire=None), url, body, first_byte_s)
    if finish is None or upstream.status >= 400:
        return upstream
    return await finish(upstream, target)


def shape(target: Target, url: str, body: bytes) -> tuple[str, bytes, Finish | None]:
    """The URL and body to send for ``target``, and what to do with its answer."""
    wire = target.wire
    if wire == "claude-code" and urlsplit(url).path.endswith(("/messages", "/count_tokens")):
        obj = _object(body)
        system = obj.get("system")
        blocks: list[Any] = (
            [{"type": "text", "text": system}] if isinstance(system, str) and system
            else list(system) if isinstance(system, list) else []
        )  # fmt: skip
        first = blocks[0].get("text") if blocks and isinstance(blocks[0], dict) else None
        if first != CLAUDE_IDENTITY:
            blocks.insert(0, {"type": "text", "text": CLAUDE_IDENTITY})
        obj["system"] = blocks
        url += ("&" if "?" in url else "?") + "beta=true"
        return url, orjson.dumps(obj), None
    if wire == "codex" and urlsplit(url).path.endswith("/responses"):
        obj = _object(body)
        wanted_stream = obj.get("stream") is True
        for key in _CODEX_DROPS:
            obj.pop(key, None)
        obj["stream"], obj["store"] = True, False
        if not (isinstance(obj.get("instructions"), str) and obj["instructions"].strip()):
            obj["instructions"] = CODEX_INSTRUCTIONS
        given = obj.get("input")
        if isinstance(given, str):  # the backend takes a list of items only
            text = {"type": "input_text", "text": given}
            obj["input"] = [{"type": "message", "role": "user", "content": [text]}]
        elif isinstance(given, list):  # it refuses the system role; developer means the same
            for item in given:
                if isinstance(item, dict) and item.get("role") == "system":
                    item["role"] = "developer"
        return url, orjson.dumps(obj), None if wanted_stream else _collect_codex
    if wire == "cloudcode":
        match = _GEMINI_METHOD.search(urlsplit(url).path)
        if match is None:
            return url, body, None
        method = match.group(1)
        streaming = method == "streamGenerateContent"
        envelope: dict[str, Any] = {"model": target.model}
        if target.wire_data.get("project"):
            envelope["project"] = target.wire_data["project"]
        envelope["user_prompt_id"] = uuid.uuid4().hex
        envelope["request"] = _object(body)
        base = target.base_url.rstrip("/")
        url = f"{base}/v1internal:{method}" + ("?alt=sse" if streaming else "")
        return url, orjson.dumps(envelope), _unwrap_sse if streaming else _unwrap_json
    return url, body, None


def _object(body: bytes) -> dict[str, Any]:
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        obj = None
    if not isinstance(obj, dict):
        raise UpstreamError("the request for a subscription provider is not a JSON object")
    return obj


# -- answers ------------------------------------------------------------------------------


class _Content:
    """The part of aiohttp's ``StreamReader`` the gateway reads: ``iter_any`` and ``read``."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks
        self._left = b""

    async def iter_any(self) -> AsyncIterator[bytes]:
        if self._left:
            left, self._left = self._left, b""
            yield left
        async for chunk in self._chunks:
            yield chunk

    async def read(self, n: int = -1) -> bytes:
        data = self._left
        self._left = b""
        async for chunk in self._chunks:
            data += chunk
            if 0 <= n <= len(data):
                break
        if n >= 0:
            data, self._left = data[:n], data[n:]
        return data


class Rewritten:
    """An upstream answer with a rewritten body (an :class:`~omni.providers.http.Answer`)."""

    def __init__(
        self,
        raw: Answer,
        chunks: AsyncIterator[bytes],
        content_type: str,
        status: int | None = None,
    ) -> None:
        self._raw = raw
        self.status = raw.status if status is None else status
        self.headers: CIMultiDictProxy[str] = raw.headers
        self.content_type = content_type
        self.content = _Content(chunks)

    async def read(self) -> bytes:
        return await self.content.read()

    def release(self) -> None:
        self._raw.release()

    def close(self) -> None:
        self._raw.close()


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _read_all(upstream: Answer, target: Target) -> bytes:
    try:
        return await upstream.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise _cut(target, exc) from None
    finally:
        upstream.release()


def _cut(target: Target, exc: BaseException) -> UpstreamError:
    timed_out = isinstance(exc, TimeoutError)
    return UpstreamError(
        f"provider '{target.provider_id}' "
        + ("stopped sending its answer" if timed_out else "broke the connection"),
        status=504 if timed_out else 502,
        code="upstream_timeout" if timed_out else "upstream_cut",
    )


async def _events(upstream: Answer, target: Target) -> AsyncIterator[bytes]:
    """The SSE events of an answer, one at a time, LF-framed (CRLF normalized)."""
    buffer = b""
    try:
        async for chunk in upstream.content.iter_any():
            buffer += chunk.replace(b"\r\n", b"\n")
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                if event.strip():
                    yield event
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise _cut(target, exc) from None
    if buffer.strip():
        yield buffer


def _data_of(event: bytes) -> Any:
    lines = [line[5:].strip() for line in event.split(b"\n") if line.startswith(b"data:")]
    if not lines:
        return None
    try:
        return orjson.loads(b"\n".join(lines))
    except orjson.JSONDecodeError:
        return None


async def _unwrap_json(upstream: Answer, target: Target) -> Answer:
    raw = await _read_all(upstream, target)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("response"), dict):
        raw = orjson.dumps(data["response"])
    return Rewritten(upstream, _once(raw), "application/json")


async def _unwrap_sse(upstream: Answer, target: Target) -> Answer:
    async def unwrapped() -> AsyncIterator[bytes]:
        async for event in _events(upstream, target):
            data = _data_of(event)
            if isinstance(data, dict) and isinstance(data.get("response"), dict):
                yield b"data: " + orjson.dumps(data["response"]) + b"\n\n"
            else:
                yield event + b"\n\n"

    return Rewritten(upstream, unwrapped(), upstream.content_type)


_CODEX_FINAL = ("response.completed", "response.incomplete", "response.failed", "response.done")


async def _collect_codex(upstream: Answer, target: Target) -> Answer:
    """The final response object of a Codex stream, for a client that wanted JSON."""
    items: list[Any] = []
    final: dict[str, Any] | None = None
    try:
        async for event in _events(upstream, target):
            data = _data_of(event)
            if not isinstance(data, dict):
                continue
            kind = data.get("type")
            if kind == "response.output_item.done" and isinstance(data.get("item"), dict):
                items.append(data["item"])
            elif kind == "error":
                final = {"error": data.get("error") or data}
            elif kind in _CODEX_FINAL and isinstance(data.get("response"), dict):
                final = data["response"]
    finally:
        upstream.release()
    if final is None:
        raise UpstreamError(
            f"provider '{target.provider_id}' ended its stream without a final response",
            code="upstream_cut",
        )
    error = final.get("error")
    if final.get("status") == "failed" or ("status" not in final and error):
        message = error.get("message") if isinstance(error, dict) else str(error)
        body = orjson.dumps({"error": {"message": message or "the response failed"}})
        return Rewritten(upstream, _once(body), "application/json", status=502)
    if not final.get("output") and items:
        final["output"] = items
    return Rewritten(upstream, _once(orjson.dumps(final)), "application/json")


def settle(target: Target, raw: bytes) -> bytes:
    """A whole answer read at once (the management side's one-off test call) as the
    dialect's plain JSON: Code Assist's envelope removed, a Codex stream collected."""
    if target.wire == "cloudcode":
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw
        inner = data.get("response") if isinstance(data, dict) else None
        return orjson.dumps(inner) if isinstance(inner, dict) else raw
    if target.wire == "codex":
        final: Any = None
        for event in raw.replace(b"\r\n", b"\n").split(b"\n\n"):
            data = _data_of(event)
            if isinstance(data, dict) and data.get("type") in _CODEX_FINAL:
                final = data.get("response")
        return orjson.dumps(final) if isinstance(final, dict) else raw
    return raw
