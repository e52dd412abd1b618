"""The OpenAI Chat stream relay and usage extraction."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from omni.ir import Dialect, Usage
from omni.translate import errors, openai_chat


def _chunk(i: int, text: str) -> bytes:
    obj = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
        "usage": None,  # OpenAI writes this in every chunk of a stream that asked for usage
    }
    return b"data: " + orjson.dumps(obj) + b"\n\n"


USAGE_CHUNK = (
    b'data: {"id":"c1","object":"chat.completion.chunk","choices":[],'
    b'"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,'
    b'"prompt_tokens_details":{"cached_tokens":4},'
    b'"completion_tokens_details":{"reasoning_tokens":2}}}\n\n'
)
# Content that mentions "usage" must not be mistaken for a usage chunk.
TRICKY = _chunk(2, 'the word "usage": {} appears here')
STREAM = _chunk(0, "Hel") + _chunk(1, "lo") + TRICKY + USAGE_CHUNK + b"data: [DONE]\n\n"
EXPECTED = Usage(input=12, output=5, cache_read=4, cache_write=None, reasoning=2)


def _relay(parts: list[bytes], drop: bool) -> tuple[bytes, openai_chat.StreamRelay]:
    relay = openai_chat.StreamRelay(drop_usage_chunk=drop)
    out = b"".join(relay.feed(p) for p in parts) + relay.flush()
    return out, relay


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_split_forwards_the_same_bytes_and_usage(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    parts = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    out, relay = _relay(parts, drop=False)
    assert out == STREAM
    assert relay.usage == EXPECTED
    assert relay.done


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_usage_chunk_is_dropped_when_the_client_did_not_ask(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    parts = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    out, relay = _relay(parts, drop=True)
    events = [e for e in out.split(b"\n\n") if e.strip()]
    assert events == [e for e in STREAM.split(b"\n\n") if e.strip() and e != USAGE_CHUNK[:-2]]
    assert relay.usage == EXPECTED


@given(st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=30))
def test_only_whole_events_are_forwarded(sizes: list[int]) -> None:
    relay = openai_chat.StreamRelay(drop_usage_chunk=False)
    position = 0
    for size in sizes:
        out = relay.feed(STREAM[position : position + size])
        position += size
        assert out == b"" or out.endswith(b"\n\n")


def test_crlf_framed_events() -> None:
    crlf = STREAM.replace(b"\n\n", b"\r\n\r\n")
    out, relay = _relay([crlf[:50], crlf[50:333], crlf[333:]], drop=True)
    assert USAGE_CHUNK.strip() not in out
    assert out.endswith(b"data: [DONE]\r\n\r\n")
    assert relay.usage == EXPECTED


def test_usage_from_a_completion_body() -> None:
    body = orjson.dumps({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}})
    assert openai_chat.usage_from_body(body) == Usage(input=3, output=4)
    assert openai_chat.usage_from_body(b"not json") is None
    assert openai_chat.usage_from_body(b'{"choices": []}') is None


def test_error_bodies_in_each_dialect() -> None:
    assert orjson.loads(errors.error_body(Dialect.OPENAI_CHAT, 429, "slow down")) == {
        "error": {
            "message": "slow down",
            "type": "rate_limit_error",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    assert orjson.loads(errors.error_body(Dialect.ANTHROPIC, 529, "busy")) == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "busy"},
    }
    assert orjson.loads(errors.error_body(Dialect.GEMINI, 404, "no")) == {
        "error": {"code": 404, "message": "no", "status": "NOT_FOUND"}
    }
    assert orjson.loads(errors.error_body(Dialect.OLLAMA, 400, "bad")) == {"error": "bad"}
    assert errors.error_event(Dialect.ANTHROPIC, 500, "x").startswith(b"event: error\ndata: ")
    assert errors.error_event(Dialect.OPENAI_CHAT, 502, "x").startswith(b"data: {")


def test_upstream_message_from_any_dialect() -> None:
    assert errors.upstream_message(b'{"error":{"message":"m1"}}') == "m1"
    assert errors.upstream_message(b'{"type":"error","error":{"message":"m2"}}') == "m2"
    assert errors.upstream_message(b'{"error":"m3"}') == "m3"
    assert errors.upstream_message(b"<html>") is None
