"""Embeddings in every dialect that has them: OpenAI, Gemini and Ollama. Pure, no I/O.

A client's request becomes an :class:`EmbeddingRequest` (model, texts, options); an
upstream's answer becomes :class:`Embeddings` (one float vector per text, and usage), which
is written back in the client's dialect. OpenAI clients that ask for
``encoding_format: "base64"`` (the SDKs' default) get little-endian float32 in base64,
whatever the upstream sent.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field
from typing import Any

from omni.errors import InvalidInputError
from omni.ir import Dialect, Usage
from omni.translate._common import require_dict


@dataclass(slots=True)
class EmbeddingRequest:
    model: str
    texts: list[str]
    encoding_format: str = "float"
    dimensions: int | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Embeddings:
    vectors: list[list[float]]
    usage: Usage = field(default_factory=Usage)


def _texts(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    raise InvalidInputError(f"'{where}' must be a string or a non-empty array of strings")


def _gemini_text(content: Any, where: str) -> str:
    content = require_dict(content, where)
    parts = content.get("parts")
    if not isinstance(parts, list):
        raise InvalidInputError(f"'{where}.parts' must be an array")
    return "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))


def decode_request(dialect: Dialect, body: Any, model: str | None = None) -> EmbeddingRequest:
    """A client's embedding request (Gemini names the model in the URL)."""
    body = require_dict(body)
    if dialect is Dialect.GEMINI:
        if model is None:
            raise InvalidInputError("the model is missing from the URL")
        if "requests" in body:
            requests = body["requests"]
            if not isinstance(requests, list) or not requests:
                raise InvalidInputError("'requests' must be a non-empty array")
            texts = [
                _gemini_text(require_dict(r, f"requests[{i}]").get("content"),
                             f"requests[{i}].content")
                for i, r in enumerate(requests)
            ]  # fmt: skip
        else:
            texts = [_gemini_text(body.get("content"), "content")]
        dims = body.get("outputDimensionality")
        return EmbeddingRequest(model, texts, dimensions=dims if isinstance(dims, int) else None)
    name = body.get("model")
    if not isinstance(name, str) or not name:
        raise InvalidInputError("'model' must be a string naming the embedding model")
    if dialect is Dialect.OLLAMA:
        return EmbeddingRequest(name, _texts(body.get("input", body.get("prompt")), "input"))
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        raise InvalidInputError("'encoding_format' must be float or base64")
    dims = body.get("dimensions")
    if dims is not None and (isinstance(dims, bool) or not isinstance(dims, int) or dims < 1):
        raise InvalidInputError("'dimensions' must be a positive integer")
    extras = {k: v for k, v in body.items() if k in ("user",)}
    return EmbeddingRequest(name, _texts(body.get("input"), "input"), fmt, dims, extras)


def encode_request(fmt: str, request: EmbeddingRequest) -> dict[str, Any]:
    """The upstream body for an upstream of wire format ``fmt``."""
    if fmt == "gemini":
        model = f"models/{request.model.removeprefix('models/')}"
        entries: list[dict[str, Any]] = []
        for text in request.texts:
            entry: dict[str, Any] = {"model": model, "content": {"parts": [{"text": text}]}}
            if request.dimensions:
                entry["outputDimensionality"] = request.dimensions
            entries.append(entry)
        return {"requests": entries}
    if fmt == "ollama":
        return {"model": request.model, "input": request.texts}
    body: dict[str, Any] = {"model": request.model, "input": request.texts,
                            "encoding_format": "float", **request.extras}  # fmt: skip
    if request.dimensions:
        body["dimensions"] = request.dimensions
    return body


def _vector(value: Any) -> list[float]:
    if isinstance(value, str):  # base64 float32 from an OpenAI upstream
        raw = base64.b64decode(value)
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
        return [float(v) for v in value]
    raise ValueError("not an embedding vector")


def decode_response(fmt: str, body: Any) -> Embeddings:
    """An upstream's embeddings; ValueError when the answer has none."""
    if not isinstance(body, dict):
        raise ValueError("the answer is not a JSON object")
    if fmt == "gemini":
        items = body.get("embeddings") or ([body["embedding"]] if "embedding" in body else [])
        return Embeddings([_vector(item.get("values")) for item in items])
    if fmt == "ollama":
        count = body.get("prompt_eval_count")
        usage = Usage(input=count) if isinstance(count, int) else Usage()
        return Embeddings([_vector(v) for v in body.get("embeddings") or []], usage)
    data = sorted(body.get("data") or [], key=lambda d: d.get("index", 0))
    raw_usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    tokens = raw_usage.get("prompt_tokens") if raw_usage else None
    return Embeddings(
        [_vector(d.get("embedding")) for d in data],
        Usage(input=tokens) if isinstance(tokens, int) else Usage(),
    )


def _b64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def encode_response(
    dialect: Dialect, request: EmbeddingRequest, result: Embeddings, batch: bool = True
) -> dict[str, Any]:
    """The answer for a client of ``dialect`` (``batch`` False: Gemini ``embedContent``)."""
    if dialect is Dialect.GEMINI:
        if not batch:
            return {"embedding": {"values": result.vectors[0] if result.vectors else []}}
        return {"embeddings": [{"values": v} for v in result.vectors]}
    if dialect is Dialect.OLLAMA:
        return {
            "model": request.model,
            "embeddings": result.vectors,
            "prompt_eval_count": result.usage.input or 0,
        }
    as_b64 = request.encoding_format == "base64"
    tokens = result.usage.input or 0
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": _b64(v) if as_b64 else v}
            for i, v in enumerate(result.vectors)
        ],
        "model": request.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
