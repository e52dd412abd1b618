"""The canonical, dialect-free values the gateway reasons about: pure data, no I/O.

Every dialect module in :mod:`omni.translate` converts to and from these values, so N
dialects need 2N converters rather than N². The IR carries everything one dialect can say
that another can use:

- a :class:`Request`: system prompt, messages made of parts (text, images, tool calls,
  tool results, reasoning with signatures or redacted data), tool definitions and choice,
  sampling and output limits, reasoning settings, response format;
- a :class:`Response`: the same parts from the assistant, a stop reason and usage;
- stream :data:`Event` values, which decoders produce from upstream bytes and encoders
  turn into client bytes, one at a time.

Fields a dialect defines that have no IR home are kept in ``extras`` keyed by the dialect
that produced them, so a same-dialect hop loses nothing and a cross-dialect hop can
ignore them knowingly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class Dialect(StrEnum):
    """An LLM API dialect, spoken by a client (inbound) or an upstream (outbound)."""

    OPENAI_CHAT = "openai"
    OPENAI_RESPONSES = "responses"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"
    OLLAMA = "ollama"


Extras = dict[str, dict[str, Any]]
"""Unmapped fields, keyed by the dialect they came from: ``{"anthropic": {...}}``."""


# -- usage and stop reasons -------------------------------------------------------------


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


def merge_usage(old: Usage | None, new: Usage | None) -> Usage | None:
    """Usage known so far: later reports win field by field, missing fields are kept."""
    if old is None or new is None:
        return new or old
    return Usage(
        input=new.input if new.input is not None else old.input,
        output=new.output if new.output is not None else old.output,
        cache_read=new.cache_read if new.cache_read is not None else old.cache_read,
        cache_write=new.cache_write if new.cache_write is not None else old.cache_write,
        reasoning=new.reasoning if new.reasoning is not None else old.reasoning,
    )


class Stop(StrEnum):
    """Why the model stopped, in the IR's words (each dialect maps its own to these)."""

    END = "end"  # natural end of turn (OpenAI stop, Anthropic end_turn, Gemini STOP)
    MAX_TOKENS = "max_tokens"  # output limit reached (length, max_tokens, MAX_TOKENS)
    TOOL_USE = "tool_use"  # the model asks for tool calls (tool_calls, tool_use)
    STOP_SEQUENCE = "stop_sequence"  # a caller-given stop sequence matched
    CONTENT_FILTER = "content_filter"  # blocked by safety / content filtering
    REFUSAL = "refusal"  # the model refused
    ERROR = "error"  # the upstream failed mid-answer


# -- content parts ----------------------------------------------------------------------


@dataclass(slots=True)
class Text:
    text: str
    extras: Extras = field(default_factory=dict)  # e.g. Anthropic cache_control, citations


@dataclass(slots=True)
class Image:
    """An image given inline (base64 ``data`` + ``media_type``) or by ``url``."""

    data: str | None = None
    media_type: str | None = None
    url: str | None = None
    detail: str | None = None  # OpenAI's low/high/auto
    extras: Extras = field(default_factory=dict)


@dataclass(slots=True)
class ToolCall:
    """A call the assistant makes: ``arguments`` is JSON text, exactly as produced."""

    id: str
    name: str
    arguments: str = "{}"
    signature: str | None = None  # Gemini thoughtSignature bound to this call
    extras: Extras = field(default_factory=dict)


@dataclass(slots=True)
class ToolResult:
    """The result of a tool call, given back by the client."""

    call_id: str
    content: list[Text | Image] = field(default_factory=list)
    is_error: bool = False
    name: str | None = None  # the tool's name, when known (Gemini needs it)
    extras: Extras = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.content if isinstance(p, Text))


@dataclass(slots=True)
class Reasoning:
    """Thinking the model showed: text with an optional signature, or redacted data."""

    text: str = ""
    signature: str | None = None
    redacted: str | None = None  # Anthropic redacted_thinking data / encrypted content
    extras: Extras = field(default_factory=dict)


Part = Text | Image | ToolCall | ToolResult | Reasoning


@dataclass(slots=True)
class Message:
    """One turn. Roles are only ``user`` and ``assistant``: system text lives on the
    request, and tool results are :class:`ToolResult` parts of a user turn."""

    role: Literal["user", "assistant"]
    parts: list[Part] = field(default_factory=list)
    extras: Extras = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, Text))


# -- request settings -------------------------------------------------------------------


@dataclass(slots=True)
class Tool:
    """A function the model may call; ``parameters`` is a JSON schema object."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    strict: bool | None = None
    extras: Extras = field(default_factory=dict)


@dataclass(slots=True)
class ToolChoice:
    """``auto`` | ``none`` | ``required`` (any tool) | ``tool`` (the named one)."""

    mode: Literal["auto", "none", "required", "tool"] = "auto"
    name: str | None = None
    parallel: bool | None = None  # False: at most one call per turn


@dataclass(slots=True)
class ReasoningConfig:
    """How much the model should think.

    ``effort`` is the OpenAI scale (``minimal``, ``low``, ``medium``, ``high``, ``max``…);
    ``budget`` a token budget (Claude ``budget_tokens``, Gemini ``thinkingBudget``);
    ``enabled`` False turns thinking off; ``adaptive`` is Claude's adaptive mode;
    ``include_thoughts`` asks for the thinking text in the answer.
    """

    effort: str | None = None
    budget: int | None = None
    enabled: bool | None = None
    adaptive: bool = False
    include_thoughts: bool | None = None


@dataclass(slots=True)
class ResponseFormat:
    """``text``, ``json_object`` (any JSON) or ``json_schema`` (``schema`` given)."""

    type: Literal["text", "json_object", "json_schema"] = "text"
    schema: dict[str, Any] | None = None
    name: str | None = None
    strict: bool | None = None


@dataclass(slots=True)
class Request:
    """A chat request in no particular dialect."""

    model: str
    messages: list[Message] = field(default_factory=list)
    system: list[Text] = field(default_factory=list)
    tools: list[Tool] = field(default_factory=list)
    tool_choice: ToolChoice | None = None
    stream: bool = False
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    reasoning: ReasoningConfig | None = None
    response_format: ResponseFormat | None = None
    stream_usage: bool = False  # the client asked for usage in the stream
    user: str | None = None
    extras: Extras = field(default_factory=dict)
    # The decoder reshaped the client's body (e.g. moved mid-conversation system text):
    # an upstream of the same dialect gets the re-encoded request, not the original bytes.
    normalised: bool = False

    @property
    def system_text(self) -> str:
        return "\n\n".join(t.text for t in self.system if t.text)


@dataclass(slots=True)
class Response:
    """A complete (non-streamed) answer in no particular dialect."""

    id: str
    model: str
    parts: list[Part] = field(default_factory=list)
    stop: Stop = Stop.END
    stop_sequence: str | None = None
    usage: Usage = field(default_factory=Usage)
    created: int | None = None
    extras: Extras = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, Text))

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [p for p in self.parts if isinstance(p, ToolCall)]


# -- stream events ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Start:
    """The answer begins (always the first event). ``usage`` may carry input tokens."""

    id: str
    model: str
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """More thinking text, and/or the signature that closes the thinking block."""

    text: str = ""
    signature: str | None = None
    redacted: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCallStart:
    """A tool call begins; ``index`` numbers the calls of this answer from 0."""

    index: int
    id: str
    name: str
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """More JSON text of the arguments of call ``index`` (split anywhere)."""

    index: int
    arguments: str


@dataclass(frozen=True, slots=True)
class UsageUpdate:
    """Usage known so far (decoders may send several; the last one wins)."""

    usage: Usage


@dataclass(frozen=True, slots=True)
class Finish:
    """The answer ended normally (always the last event unless :class:`Failure`)."""

    stop: Stop
    usage: Usage | None = None
    stop_sequence: str | None = None


@dataclass(frozen=True, slots=True)
class Failure:
    """The answer broke off: ``status`` is the HTTP status it maps to."""

    status: int
    message: str
    code: str | None = None


Event = (
    Start
    | TextDelta
    | ReasoningDelta
    | ToolCallStart
    | ToolCallDelta
    | UsageUpdate
    | Finish
    | Failure
)
