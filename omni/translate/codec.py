"""The contract every dialect module fulfils, and the registry of dialects.

A dialect module (``omni/translate/<dialect>.py``) converts between its wire format and
:mod:`omni.ir` in both directions, for requests, complete responses and streams:

- ``decode_request(body, *, model=None, stream=None) -> ir.Request`` — a client's request
  (``model``/``stream`` override the body, for dialects that put them in the URL); raises
  :class:`~omni.errors.InvalidInputError` with a clear message for a malformed body;
- ``encode_request(request) -> dict`` — the body to send to an upstream of this dialect;
- ``decode_response(body) -> ir.Response`` — an upstream's complete answer;
- ``encode_response(response) -> dict`` — a complete answer for a client;
- ``StreamDecoder()`` — ``feed(bytes) -> list[ir.Event]`` as upstream bytes arrive
  (split anywhere), ``close() -> list[ir.Event]`` at end of input;
- ``StreamEncoder(model, response_id)`` — ``encode(event) -> bytes`` for the client, one
  event at a time; every stream it writes is complete and valid for the dialect's SDKs,
  ending with its terminal event after :class:`~omni.ir.Finish` or :class:`~omni.ir.Failure`;
- ``STREAM_CONTENT_TYPE`` — the media type of its streams.

Nothing here does I/O.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Protocol

from omni import ir


class StreamDecoder(Protocol):
    def feed(self, chunk: bytes) -> list[ir.Event]: ...
    def close(self) -> list[ir.Event]: ...


class StreamEncoder(Protocol):
    def encode(self, event: ir.Event) -> bytes: ...


class DialectCodec(Protocol):
    """What :func:`codec` returns: the module of one dialect."""

    STREAM_CONTENT_TYPE: str

    def decode_request(
        self, body: dict[str, Any], *, model: str | None = None, stream: bool | None = None
    ) -> ir.Request: ...
    def encode_request(self, request: ir.Request) -> dict[str, Any]: ...
    def decode_response(self, body: dict[str, Any]) -> ir.Response: ...
    def encode_response(self, response: ir.Response) -> dict[str, Any]: ...
    def StreamDecoder(self) -> StreamDecoder: ...  # a class in the module
    def StreamEncoder(self, model: str, response_id: str) -> StreamEncoder: ...


_MODULES = {
    ir.Dialect.OPENAI_CHAT: "omni.translate.openai_chat",
    ir.Dialect.OPENAI_RESPONSES: "omni.translate.responses",
    ir.Dialect.ANTHROPIC: "omni.translate.anthropic",
    ir.Dialect.GEMINI: "omni.translate.gemini",
    ir.Dialect.OLLAMA: "omni.translate.ollama",
}


def codec(dialect: ir.Dialect) -> DialectCodec:
    """The dialect module for ``dialect`` (imported on first use)."""
    import importlib

    module: ModuleType = importlib.import_module(_MODULES[dialect])
    return module  # type: ignore[return-value,unused-ignore]
