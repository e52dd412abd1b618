"""What the fake upstream's wire encoders share: `Ctx`, `Dialect`, framing helpers and errors.

The encoders themselves live in `dialects_openai.py` (Chat Completions, Responses, embeddings)
and `dialects_others.py` (Anthropic, Gemini, Ollama), apart from the HTTP server in
`upstream.py`, so that each dialect's shapes can be read (and checked against the reference) in
one place. Every encoder is a pure function of the reply and a `Ctx` describing the request;
streams are returned as a list of already-framed events, so the server can pace, stall, cut or
corrupt them without knowing the dialect. Token accounting follows each provider: `Usage.input`
counts the whole prompt including cached tokens (OpenAI, Gemini, Ollama report it that way;
Anthropic's `input_tokens` excludes cache reads and writes), and `Usage.output` includes
reasoning tokens (Gemini's `candidatesTokenCount` excludes them).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.upstream import Reply

Obj = dict[str, Any]


@dataclass(frozen=True)
class Ctx:
    """What an encoder knows about the request it answers."""

    model: str
    request: Obj
    seq: int  # per-fake counter, makes ids like "chatcmpl-fake3"
    created: int

    @property
    def include_usage(self) -> bool:
        options = self.request.get("stream_options")
        return isinstance(options, dict) and bool(options.get("include_usage"))


@dataclass(frozen=True)
class Dialect:
    """How one provider renders replies, errors and (optionally) streams."""

    name: str
    json: Callable[[Reply, Ctx], Obj]
    error: Callable[[Reply], Obj]
    events: Callable[[Reply, Ctx], list[bytes]] | None = None
    stream_error: Callable[[Reply, Ctx, int], bytes] | None = None
    garbage: bytes = b"data: {this is not json\n\n"  # what `malformed` slips into a stream
    stream_type: str = "text/event-stream"


# ----------------------------------------------------------------------------- helpers


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def sse(data: Any, event: str | None = None, eol: str = "\n") -> bytes:
    head = f"event: {event}{eol}" if event else ""
    return f"{head}data: ".encode() + dumps(data) + (eol + eol).encode()


def split_text(text: str, pieces: int) -> list[str]:
    """`text` in `pieces` uneven parts (fewer if the text is shorter); [] for ""."""
    n = max(1, min(pieces, len(text)))
    bounds = [len(text) * i // n for i in range(n + 1)]
    return [text[a:b] for a, b in pairwise(bounds) if b > a]


def split_arguments(arguments: str) -> list[str]:
    """JSON text cut at awkward places: inside the first key, mid-way, before the last char."""
    cuts = {len(arguments) // 2, len(arguments) - 1}
    quote = arguments.find('"')
    if quote >= 0:
        cuts.add(quote + 2)
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(arguments)), len(arguments)]
    return [arguments[a:b] for a, b in pairwise(bounds) if b > a]


def signature(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _word_vector(word: str, dims: int) -> list[float]:
    raw = b"".join(hashlib.sha256(f"{i}:{word}".encode()).digest() for i in range(dims // 32 + 1))
    return [(byte - 128) / 128 for byte in raw[:dims]]


def embedding(text: str, dims: int = 8) -> list[float]:
    """A deterministic vector for `text`; values are exact in float32 (multiples of 1/128).

    A bag of words: the mean of one hashed vector per (lower-cased) word, so texts that share
    most of their words point the same way (a paraphrase is close, an unrelated text far)."""
    words = re.findall(r"\w+", text.lower())
    if not words:
        return _word_vector(text, dims)
    columns = zip(*(_word_vector(w, dims) for w in words), strict=True)
    return [round(sum(c) / len(words) * 128) / 128 for c in columns]


def embedding_inputs(value: Any) -> list[str]:
    """OpenAI `input`: a string, a list of strings, a token list or a list of token lists."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return [str(value)]
    if isinstance(value, list):
        return [v if isinstance(v, str) else str(v) for v in value]
    return [str(value)]


# ----------------------------------------------------------------------------- errors

# status: (OpenAI type, OpenAI code, Anthropic type, Gemini status)
_ERRORS: dict[int, tuple[str, str | None, str, str]] = {
    400: ("invalid_request_error", None, "invalid_request_error", "INVALID_ARGUMENT"),
    401: ("invalid_request_error", "invalid_api_key", "authentication_error", "UNAUTHENTICATED"),
    403: ("permission_error", None, "permission_error", "PERMISSION_DENIED"),
    404: ("invalid_request_error", "model_not_found", "not_found_error", "NOT_FOUND"),
    413: ("invalid_request_error", None, "request_too_large", "INVALID_ARGUMENT"),
    429: ("rate_limit_error", "rate_limit_exceeded", "rate_limit_error", "RESOURCE_EXHAUSTED"),
    503: ("server_error", None, "api_error", "UNAVAILABLE"),
    504: ("server_error", None, "api_error", "DEADLINE_EXCEEDED"),
    529: ("server_error", None, "overloaded_error", "UNAVAILABLE"),
}
_SERVER_ERROR = ("server_error", None, "api_error", "INTERNAL")


def openai_error(reply: Reply) -> Obj:
    kind, code, _, _ = _ERRORS.get(reply.status, _SERVER_ERROR)
    kind = reply.error_type or kind
    return {"error": {"message": reply.error_message, "type": kind, "param": None, "code": code}}


def anthropic_error(reply: Reply) -> Obj:
    kind = reply.error_type or _ERRORS.get(reply.status, _SERVER_ERROR)[2]
    return {"type": "error", "error": {"type": kind, "message": reply.error_message}}


def gemini_error(reply: Reply) -> Obj:
    status = reply.error_type or _ERRORS.get(reply.status, _SERVER_ERROR)[3]
    return {"error": {"code": reply.status, "message": reply.error_message, "status": status}}


def ollama_error(reply: Reply) -> Obj:
    return {"error": reply.error_message}
