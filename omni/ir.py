"""The canonical, dialect-free values the gateway reasons about: pure data, no I/O.

Every dialect module in :mod:`omni.translate` converts to and from these values, so N
dialects need 2N converters rather than N². This module grows with the translation
engine; what is here is what the request path already needs: which dialect a client or
upstream speaks, and the token usage of one answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Dialect(StrEnum):
    """An LLM API dialect, spoken by a client (inbound) or an upstream (outbound)."""

    OPENAI_CHAT = "openai"
    OPENAI_RESPONSES = "responses"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"
    OLLAMA = "ollama"


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens of one answer exactly as the upstream reported them (never padded).

    ``input`` counts every prompt token, cached ones included; ``cache_read`` and
    ``cache_write`` say how many of them hit or filled a prompt cache; ``reasoning`` is
    the part of ``output`` spent thinking. ``None`` means the upstream did not say.
    """

    input: int | None = None
    output: int | None = None
    cache_read: int | None = None
    cache_write: int | None = None
    reasoning: int | None = None

    @property
    def total(self) -> int | None:
        if self.input is None and self.output is None:
            return None
        return (self.input or 0) + (self.output or 0)
