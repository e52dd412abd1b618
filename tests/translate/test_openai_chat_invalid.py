"""OpenAI Chat Completions requests that are not valid: each gives InvalidInputError with a
message naming the offending field (never a KeyError or TypeError)."""

from __future__ import annotations

from typing import Any

import pytest

from omni.errors import InvalidInputError
from omni.translate import openai_chat


def _body(**fields: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [], **fields}


def _said(**message: Any) -> dict[str, Any]:
    return _body(messages=[message])


def _fn(**function: Any) -> dict[str, Any]:
    return _body(tools=[{"type": "function", "function": function}])


def _parts(*parts: Any) -> dict[str, Any]:
    return _said(role="user", content=list(parts))


def _calls(*calls: Any) -> dict[str, Any]:
    return _said(role="assistant", tool_calls=list(calls))


MALFORMED: list[tuple[Any, str]] = [
    ([], "request body must be a JSON object"),
    ({"messages": []}, "'model'"),
    ({"model": 5, "messages": []}, "'model'"),
    ({"model": "m"}, "'messages' is required"),
    (_body(messages="hi"), "'messages' must be an array"),
    (_body(messages=[5]), "'messages[0]' must be a JSON object"),
    (_said(role="robot"), "'messages[0].role'"),
    (_said(content="x"), "'messages[0].role'"),
    (_said(role="user", content=5), "'messages[0].content'"),
    (_said(role="system", content=3), "'messages[0].content'"),
    (_parts({"type": "text", "text": 5}), "'messages[0].content[0].text'"),
    (_parts("hi"), "'messages[0].content[0]'"),
    (_parts({"type": "image_url"}), "'messages[0].content[0].image_url.url'"),
    (_said(role="assistant", tool_calls={"id": "c"}), "'messages[0].tool_calls'"),
    (_calls({"id": "c"}), "'messages[0].tool_calls[0].function'"),
    (_calls({"function": {}}), "'messages[0].tool_calls[0].function.name'"),
    (_calls({"id": 5, "function": {"name": "f"}}), "'messages[0].tool_calls[0].id'"),
    (_said(role="assistant", function_call="f"), "'messages[0].function_call'"),
    (_said(role="tool", content="x"), "'messages[0].tool_call_id'"),
    (_said(role="function", content="x"), "'messages[0].name'"),
    (_body(tools="x"), "'tools' must be an array"),
    (_body(tools=[{"type": "function"}]), "'tools[0].function'"),
    (_fn(), "'tools[0].function.name'"),
    (_fn(name="f", parameters="x"), "'tools[0].function.parameters'"),
    (_fn(name="f", description=1), "'tools[0].function.description'"),
    (_body(functions=[{"parameters": {}}]), "'functions[0].name'"),
    (_body(tool_choice="sometimes"), "'tool_choice'"),
    (_body(tool_choice={"type": "function", "function": {}}), "'tool_choice.function.name'"),
    (_body(function_call=5), "'function_call'"),
    (_body(max_tokens="10"), "'max_tokens'"),
    (_body(max_completion_tokens=1.5), "'max_completion_tokens'"),
    (_body(temperature="hot"), "'temperature'"),
    (_body(top_p=True), "'top_p'"),
    (_body(stop=5), "'stop'"),
    (_body(stop=["a", 1]), "'stop'"),
    (_body(seed=1.0), "'seed'"),
    (_body(reasoning_effort=3), "'reasoning_effort'"),
    (_body(response_format="json"), "'response_format'"),
    (_body(response_format={"type": "xml"}), "'response_format.type'"),
    (
        _body(response_format={"type": "json_schema", "json_schema": {"schema": "x"}}),
        "'response_format.json_schema.schema'",
    ),
    (
        _body(response_format={"type": "json_schema", "json_schema": {"name": 5}}),
        "'response_format.json_schema.name'",
    ),
    (_body(user=5), "'user'"),
]


@pytest.mark.parametrize(("body", "fragment"), MALFORMED)
def test_malformed_bodies_name_the_field(body: Any, fragment: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        openai_chat.decode_request(body)
    assert fragment in str(caught.value)
