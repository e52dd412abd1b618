"""Small helpers shared by the dialect modules: JSON bits, SSE framing, id making.

Pure functions, no I/O.
"""

from __future__ import annotations

import secrets
from typing import Any

import orjson

from omni import ir
from omni.errors import InvalidInputError


def new_id(prefix: str) -> str:
    """A random id such as ``call_3f2a…`` or ``msg_…``."""
    return f"{prefix}{secrets.token_hex(12)}"


def sse(data: Any, event: str | None = None) -> bytes:
    """One SSE event: optional ``event:`` line, one ``data:`` line of compact JSON."""
    body = b"data: " + orjson.dumps(data) + b"\n\n"
    return b"event: " + event.encode() + b"\n" + body if event else body


class SSEParser:
    """Incremental SSE parser: bytes in (split anywhere), ``(event, data)`` pairs out.

    Handles LF and CRLF line ends, multi-line ``data:``, comments and ``event:`` names.
    """

    __slots__ = ("_buffer", "_data", "_event")

    def __init__(self) -> None:
        self._buffer = b""
        self._event: str | None = None
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[tuple[str | None, bytes]]:
        self._buffer += chunk
        out: list[tuple[str | None, bytes]] = []
        while True:
            cut = self._buffer.find(b"\n")
            if cut < 0:
                return out
            line = self._buffer[:cut].rstrip(b"\r")
            self._buffer = self._buffer[cut + 1 :]
            self._line(line, out)

    def close(self) -> list[tuple[str | None, bytes]]:
        out: list[tuple[str | None, bytes]] = []
        if self._buffer:
            self._line(self._buffer.rstrip(b"\r"), out)
            self._buffer = b""
        self._line(b"", out)
        return out

    def _line(self, line: bytes, out: list[tuple[str | None, bytes]]) -> None:
        if not line:
            if self._data:
                out.append((self._event, b"\n".join(self._data)))
            self._event, self._data = None, []
        elif line.startswith(b":"):
            return
        elif line.startswith(b"data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(b" ") else value)
        elif line.startswith(b"event:"):
            self._event = line[6:].strip().decode("utf-8", "replace")


def require_dict(body: Any, what: str = "the request body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInputError(f"{what} must be a JSON object")
    return body


def require_list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInputError(f"'{where}' must be an array")
    return value


def opt_str(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidInputError(f"'{where}' must be a string")


def opt_int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"'{where}' must be an integer")
    return value


def opt_float(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"'{where}' must be a number")
    return float(value)


def json_text(value: Any) -> str:
    """Tool arguments as JSON text, whether given as text or as an object."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value if value is not None else {}).decode()


def json_object(text: str) -> dict[str, Any]:
    """Tool arguments as an object (``{}`` for empty text; non-objects wrapped)."""
    if not text.strip():
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {"_raw": text}
    return value if isinstance(value, dict) else {"value": value}


def split_data_url(url: str) -> tuple[str, str] | None:
    """``data:image/png;base64,AAAA`` → ``("image/png", "AAAA")``; None for other URLs."""
    if not url.startswith("data:"):
        return None
    header, _, data = url[5:].partition(",")
    media_type = header.split(";")[0] or "application/octet-stream"
    return media_type, data


# Reasoning effort ↔ token budget (Claude budget_tokens, Gemini thinkingBudget).
EFFORT_BUDGET = {
    "none": 0,
    "minimal": 1024,
    "low": 1024,
    "medium": 10240,
    "high": 131072,
    "xhigh": 131072,
    "max": 131072,
}


def budget_effort(budget: int) -> str:
    """The effort word closest to a token budget."""
    if budget <= 0:
        return "none"
    if budget <= 4096:
        return "low"
    if budget <= 32768:
        return "medium"
    return "high"


def estimate_tokens(request: ir.Request, image_tokens: int, turn_chars: int = 0) -> int:
    """An offline, deterministic input-token estimate: about 4 characters a token over
    system text, messages and tool schemas, plus ``image_tokens`` per image and
    ``turn_chars`` per turn for role markers. For count-tokens endpoints with no upstream."""
    chars, images = sum(len(t.text) for t in request.system), 0
    for message in request.messages:
        for part in message.parts:
            if isinstance(part, ir.Text | ir.Reasoning):
                chars += len(part.text)
            elif isinstance(part, ir.ToolCall):
                chars += len(part.name) + len(part.arguments)
            elif isinstance(part, ir.ToolResult):
                chars += len(part.text)
                images += sum(isinstance(c, ir.Image) for c in part.content)
            else:
                images += 1
        chars += turn_chars
    for tool in request.tools:
        chars += len(tool.name) + len(tool.description or "")
        chars += len(orjson.dumps(tool.parameters))
    return max(1, -(-chars // 4) + image_tokens * images)
