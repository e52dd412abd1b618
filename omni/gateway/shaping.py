"""Request shaping set by the operator: a global system prompt and the thinking budget.

Both come from the settings (``/api/settings/system-prompt`` and
``/api/settings/thinking-budget``) and apply to every chat request while set:

- the system prompt is put before (``prefix``, the default) or after (``suffix``) the
  client's own system text;
- the thinking budget, for requests that ask the model to think: ``passthrough`` leaves
  them alone, ``custom`` sets the budget given, ``auto`` gives half the request's output
  limit (1,024 to 16,384 tokens) when the client named no budget or effort, ``adaptive``
  asks for Claude's adaptive thinking.

A shaped request goes through the IR (it is never forwarded byte for byte), so it reaches
every upstream dialect the same way. With nothing set this costs one attribute test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from omni import ir
from omni.ir import Dialect
from omni.translate import openai_chat

AUTO_MIN, AUTO_MAX = 1024, 16384


@dataclass(frozen=True, slots=True)
class Shaping:
    prompt: str = ""
    position: str = "prefix"
    thinking: str = "passthrough"
    budget: int = 0
    active: bool = False  # anything to do at all (a field: tested on every request)


def shaping_from(system: Mapping[str, Any] | None, thinking: Mapping[str, Any] | None) -> Shaping:
    """The shaping the stored settings ask for (already validated when they were stored)."""
    system, thinking = system or {}, thinking or {}
    prompt = str(system.get("prompt") or "").strip() if system.get("enabled") else ""
    mode = str(thinking.get("mode") or "passthrough")
    return Shaping(
        prompt=prompt,
        position=str(system.get("position") or "prefix"),
        thinking=mode,
        budget=int(thinking.get("budget") or 0),
        active=bool(prompt) or mode != "passthrough",
    )


def shape(
    shaping: Shaping, dialect: Dialect, obj: dict[str, Any], request: ir.Request | None
) -> ir.Request:
    """The request with the operator's shaping applied (decoded to IR if it was not)."""
    if request is None:
        request = openai_chat.decode_request(obj) if dialect is Dialect.OPENAI_CHAT else None
    assert request is not None  # other dialects arrive decoded
    if shaping.prompt:
        text = ir.Text(shaping.prompt)
        if shaping.position == "suffix":
            request.system.append(text)
        else:
            request.system.insert(0, text)
    reasoning = request.reasoning
    wants = reasoning is not None and reasoning.enabled is not False
    if wants and reasoning is not None and shaping.thinking != "passthrough":
        if shaping.thinking == "custom":
            reasoning.budget, reasoning.effort = shaping.budget, None
        elif shaping.thinking == "adaptive":
            reasoning.adaptive, reasoning.budget, reasoning.effort = True, None, None
        elif shaping.thinking == "auto" and reasoning.budget is None and reasoning.effort is None:
            half = (request.max_tokens or 2 * AUTO_MIN) // 2
            reasoning.budget = max(AUTO_MIN, min(AUTO_MAX, half))
    request.normalised = True
    return request
