"""Claude Code's mid-conversation ``role: system`` messages (its beta for unknown models)."""

from __future__ import annotations

from omni import ir
from omni.translate import anthropic, openai_chat


def test_midway_system_text_becomes_system_text() -> None:
    body = {
        "model": "oai/m1",
        "max_tokens": 100,
        "system": [{"type": "text", "text": "You are Claude Code."}],
        "messages": [
            {"role": "user", "content": "hello"},
            {"role": "system", "content": "Available agent types: general."},
            {"role": "user", "content": [{"type": "text", "text": "go on"}]},
        ],
    }
    request = anthropic.decode_request(body)
    assert request.normalised, "a same-dialect upstream must get the re-encoded request"
    assert [t.text for t in request.system] == [
        "You are Claude Code.",
        "Available agent types: general.",
    ]
    assert [m.role for m in request.messages] == ["user", "user"]
    assert all(isinstance(p, ir.Text) for m in request.messages for p in m.parts)
    upstream = openai_chat.encode_request(request)
    assert [m["role"] for m in upstream["messages"]][:2] == ["system", "system"]
    again = anthropic.encode_request(request)
    assert [m["role"] for m in again["messages"]] == ["user"], "consecutive user turns merged"


def test_a_plain_request_is_not_normalised() -> None:
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    assert not anthropic.decode_request(body).normalised
