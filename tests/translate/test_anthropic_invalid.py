"""Anthropic Messages requests that cannot be served: InvalidInputError naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from omni.errors import InvalidInputError
from omni.translate import anthropic as an

# -- malformed bodies --------------------------------------------------------------------

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "request body"),
        ({"messages": MESSAGES}, "model"),
        ({"model": 3, "messages": MESSAGES}, "model"),
        ({"model": "m", "messages": {}}, "messages"),
        ({"model": "m", "messages": ["hi"]}, "messages[0]"),
        ({"model": "m", "messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
        ({"model": "m", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"model": "m", "messages": [{"role": "user", "content": [5]}]}, "messages[0].content[0]"),
        ({"model": "m", "messages": [{"role": "user", "content": [{"text": "x"}]}]}, ".type"),
        ({"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]}, ".text"),
        ({"model": "m", "messages": [{"role": "user", "content": [{"type": "image"}]}]}, "source"),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": [{"type": "tool_use", "name": "f"}]}],
            },
            ".id",
        ),
        (
            {"model": "m", "messages": [{"role": "user", "content": [{"type": "tool_result"}]}]},
            "tool_use_id",
        ),
        (
            {
                "model": "m",
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "tool_result", "tool_use_id": "t", "is_error": "no"}],
                    }
                ],
            },
            "is_error",
        ),
        (
            {
                "model": "m",
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "tool_result", "tool_use_id": "t", "content": 7}],
                    }
                ],
            },
            "content",
        ),
        ({"model": "m", "messages": MESSAGES, "system": 5}, "system"),
        (
            {
                "model": "m",
                "messages": MESSAGES,
                "system": [{"type": "image", "source": {"type": "url", "url": "u"}}],
            },
            "system[0]",
        ),
        ({"model": "m", "messages": MESSAGES, "tools": {}}, "tools"),
        ({"model": "m", "messages": MESSAGES, "tools": [{"input_schema": {}}]}, "tools[0].name"),
        (
            {"model": "m", "messages": MESSAGES, "tools": [{"name": "f", "input_schema": []}]},
            "input_schema",
        ),
        ({"model": "m", "messages": MESSAGES, "tool_choice": "auto"}, "tool_choice"),
        ({"model": "m", "messages": MESSAGES, "tool_choice": {"type": "some"}}, "tool_choice.type"),
        ({"model": "m", "messages": MESSAGES, "tool_choice": {"type": "tool"}}, "tool_choice.name"),
        ({"model": "m", "messages": MESSAGES, "max_tokens": "1"}, "max_tokens"),
        ({"model": "m", "messages": MESSAGES, "temperature": "hot"}, "temperature"),
        ({"model": "m", "messages": MESSAGES, "top_k": 1.5}, "top_k"),
        ({"model": "m", "messages": MESSAGES, "stop_sequences": [1]}, "stop_sequences"),
        ({"model": "m", "messages": MESSAGES, "stream": "yes"}, "stream"),
        ({"model": "m", "messages": MESSAGES, "thinking": {"budget_tokens": 5}}, "thinking.type"),
        (
            {
                "model": "m",
                "messages": MESSAGES,
                "thinking": {"type": "enabled", "budget_tokens": "5"},
            },
            "budget_tokens",
        ),
        ({"model": "m", "messages": MESSAGES, "output_config": []}, "output_config"),
        (
            {"model": "m", "messages": MESSAGES, "output_config": {"format": {"type": "xml"}}},
            "format.type",
        ),
    ],
)
def test_malformed_bodies_name_the_field(body: Any, field: str) -> None:
    with pytest.raises(InvalidInputError, match=field.replace("[", r"\[").replace("]", r"\]")):
        an.decode_request(body)
