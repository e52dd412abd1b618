"""The OpenAI Responses dialect: complete responses, and Hypothesis round trips.

Response objects from the fake upstream decoded to exact IR values and written back,
responses from other dialects checked against the openai SDK's own model, and generated
request and response bodies that must survive decode → encode exactly, or — written from
the IR alone — still mean the same.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.responses import Response as SDKResponse

from omni import ir
from omni.translate import responses as r
from tests.fakes.dialects_common import Ctx
from tests.fakes.dialects_openai import responses_json
from tests.fakes.upstream import Reply, ToolCall, Usage

# -- complete responses -----------------------------------------------------------------


def _fake_body(reply: Reply, request: dict[str, Any] | None = None) -> dict[str, Any]:
    ctx = Ctx("gpt-5", request or {"include": ["reasoning.encrypted_content"]}, 7, 1700000000)
    return responses_json(reply, ctx)


def test_fake_upstream_response_decodes_to_exact_ir() -> None:
    reply = Reply(
        text="Let me look.",
        reasoning="plan",
        tool_calls=[ToolCall("exec_command", '{"cmd":"ls"}', "call_9")],
        usage=Usage(input=30, output=12, cache_read=8, reasoning=5),
    )
    body = _fake_body(reply)
    answer = r.decode_response(body)
    assert (answer.id, answer.model, answer.created) == ("resp_fake7", "gpt-5", 1700000000)
    assert answer.stop is ir.Stop.TOOL_USE
    assert answer.usage == ir.Usage(input=30, output=12, cache_read=8, reasoning=5)
    enc = body["output"][0]["encrypted_content"]
    assert answer.parts == [
        ir.Reasoning("plan", redacted=enc, extras={"responses": {"id": "rs_fake7"}}),
        ir.Text("Let me look."),
        ir.ToolCall(
            "call_9",
            "exec_command",
            '{"cmd":"ls"}',
            extras={"responses": {"id": "fc_call_9", "status": "completed"}},
        ),
    ]
    body["usage"]["input_tokens_details"]["cache_write_tokens"] = 0  # the SDK wants it now
    assert r.encode_response(answer) == {**body, "background": False, "completed_at": 1700000000}


@pytest.mark.parametrize(
    ("finish", "stop"), [("stop", ir.Stop.END), ("length", ir.Stop.MAX_TOKENS)]
)
def test_response_status_maps_to_stop(finish: str, stop: ir.Stop) -> None:
    assert r.decode_response(_fake_body(Reply(finish=finish))).stop is stop


def test_stop_reasons_become_status() -> None:
    def encoded(stop: ir.Stop) -> dict[str, Any]:
        return r.encode_response(ir.Response("resp_1", "m", [ir.Text("x")], stop=stop))

    assert encoded(ir.Stop.END)["status"] == "completed"
    assert encoded(ir.Stop.TOOL_USE)["status"] == "completed"
    cut = encoded(ir.Stop.MAX_TOKENS)
    assert (cut["status"], cut["incomplete_details"]) == (
        "incomplete",
        {"reason": "max_output_tokens"},
    )
    filtered = encoded(ir.Stop.CONTENT_FILTER)
    assert filtered["incomplete_details"] == {"reason": "content_filter"}
    assert r.decode_response(filtered).stop is ir.Stop.CONTENT_FILTER
    failed = encoded(ir.Stop.ERROR)
    assert failed["status"] == "failed" and failed["error"]["code"] == "server_error"
    assert r.decode_response(failed).stop is ir.Stop.ERROR


def test_a_response_from_another_dialect_is_complete_for_strict_clients() -> None:
    answer = ir.Response(
        id="resp_x",
        model="claude-sonnet-4-5",
        parts=[
            ir.Reasoning("thinking", signature="s1"),
            ir.Text("Hello "),
            ir.Text("world"),
            ir.ToolCall("toolu_1", "read", '{"a":1}'),
        ],
        stop=ir.Stop.TOOL_USE,
        usage=ir.Usage(input=100, output=20, cache_read=60, cache_write=10, reasoning=None),
        created=1700000001,
    )
    body = r.encode_response(answer)
    sdk = SDKResponse.model_validate(body)  # the openai SDK's own model of a response
    assert sdk.output_text == "Hello world"
    assert [o.type for o in sdk.output] == ["reasoning", "message", "function_call"]
    assert body["usage"] == {
        "input_tokens": 100,
        "input_tokens_details": {"cached_tokens": 60, "cache_write_tokens": 10},
        "output_tokens": 20,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 120,
    }
    message = body["output"][1]
    assert message["status"] == "completed" and message["role"] == "assistant"
    assert message["content"][0] == {
        "type": "output_text",
        "text": "Hello ",
        "annotations": [],
        "logprobs": [],
    }
    call = body["output"][2]
    assert (call["call_id"], call["status"], call["id"]) == ("toolu_1", "completed", "fc_toolu_1")
    for key in (
        "instructions",
        "previous_response_id",
        "error",
        "parallel_tool_calls",
        "tool_choice",
        "tools",
        "temperature",
        "top_p",
        "text",
        "reasoning",
        "store",
        "metadata",
        "incomplete_details",
        "completed_at",
    ):
        assert key in body
    assert "output_text" not in body
    assert r.decode_response(body).parts[1:] == [
        ir.Text("Hello "),
        ir.Text("world"),
        ir.ToolCall(
            "toolu_1",
            "read",
            '{"a":1}',
            extras={"responses": {"id": "fc_toolu_1", "status": "completed"}},
        ),
    ]


# -- Hypothesis round trips -------------------------------------------------------------

names = st.text("abcdefgh_", min_size=1, max_size=8)
texts = st.text(max_size=12)
ids = st.text("0123456789abcdef", min_size=1, max_size=6)
args = st.dictionaries(names, st.integers() | texts, max_size=2).map(json.dumps)


def opt(key: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(st.just({}), values.map(lambda v: {key: v}))


input_text = texts.map(lambda t: {"type": "input_text", "text": t})
image = st.one_of(
    st.builds(
        lambda d, o: {"type": "input_image", "image_url": f"data:image/png;base64,{d}", **o},
        st.text("AZaz09+/", max_size=8),
        opt("detail", st.sampled_from(["low", "high"])),
    ),
    ids.map(lambda i: {"type": "input_image", "image_url": f"https://x.test/{i}.png"}),
    ids.map(lambda i: {"type": "input_image", "file_id": f"file-{i}"}),
)
user_parts = st.lists(
    input_text | image | ids.map(lambda i: {"type": "input_file", "file_id": i}), max_size=3
)
message = st.one_of(
    st.builds(
        lambda c, typed: {**typed, "role": "user", "content": c},
        user_parts | texts,
        st.sampled_from([{}, {"type": "message"}]),
    ),
    st.builds(
        lambda role, c: {"type": "message", "role": role, "content": c},
        st.sampled_from(["system", "developer"]),
        st.lists(input_text, max_size=2) | texts,
    ),
    st.builds(
        lambda c, o: {"type": "message", "role": "assistant", "content": c, **o},
        st.lists(
            texts.map(lambda t: {"type": "output_text", "text": t, "annotations": []})
            | texts.map(lambda t: {"type": "refusal", "refusal": t}),
            max_size=2,
        ),
        opt("id", ids.map("msg_{}".format)),
    ),
)
call = st.builds(
    lambda i, n, a, o: {
        "type": "function_call",
        "call_id": f"call_{i}",
        "name": n,
        "arguments": a,
        **o,
    },
    ids,
    names,
    args,
    opt("id", ids.map("fc_{}".format)),
)
output = st.builds(
    lambda i, out: {"type": "function_call_output", "call_id": f"call_{i}", "output": out},
    ids,
    texts | st.lists(input_text | image, max_size=2),
)
reasoning = st.builds(
    lambda i, s, o: {
        "type": "reasoning",
        "id": f"rs_{i}",
        "summary": [{"type": "summary_text", "text": t} for t in s],
        **o,
    },
    ids,
    st.lists(texts, max_size=2),
    opt("encrypted_content", st.text("ABCxyz=", max_size=8)),
)
other = st.sampled_from(
    [
        {"type": "item_reference", "id": "msg_1"},
        {
            "type": "web_search_call",
            "id": "ws_1",
            "status": "completed",
            "action": {"type": "search"},
        },
    ]
)
tool = st.one_of(
    st.builds(
        lambda n, o, s: {"type": "function", "name": n, "parameters": {"type": "object"}, **o, **s},
        names,
        opt("description", texts),
        opt("strict", st.sampled_from([True, False, None])),
    ),
    st.sampled_from([{"type": "web_search"}, {"type": "custom", "name": "apply_patch"}]),
)
choice = st.sampled_from(
    [
        "auto",
        "none",
        "required",
        {"type": "function", "name": "f"},
        {"type": "allowed_tools", "mode": "required", "tools": []},
        {"type": "web_search_preview"},
    ]
)
text_format = st.sampled_from(
    [
        {"type": "text"},
        {"type": "json_object"},
        {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": True},
    ]
)
bodies = st.builds(
    lambda parts, stream: {k: v for part in parts for k, v in part.items()} | {"stream": stream},
    st.tuples(
        st.just({"model": "gpt-5"}),
        opt("instructions", texts),
        opt("input", texts | st.lists(message | call | output | reasoning | other, max_size=8)),
        opt("tools", st.lists(tool, max_size=3)),
        opt("tool_choice", choice),
        opt("parallel_tool_calls", st.booleans()),
        opt(
            "reasoning",
            st.fixed_dictionaries(
                {},
                optional={
                    "effort": st.sampled_from(["minimal", "low", "high", "none"]),
                    "summary": st.sampled_from(["auto", "concise", "detailed"]),
                },
            ),
        ),
        opt(
            "text",
            st.fixed_dictionaries(
                {}, optional={"format": text_format, "verbosity": st.sampled_from(["low", "high"])}
            ),
        ),
        opt("max_output_tokens", st.integers(1, 10**6)),
        opt("temperature", st.floats(0, 2)),
        opt("top_p", st.floats(0, 1)),
        opt("user", texts),
        opt("store", st.booleans()),
        opt("include", st.just(["reasoning.encrypted_content"])),
        opt("previous_response_id", st.none() | ids),
        opt("metadata", st.dictionaries(names, texts, max_size=2)),
    ),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(bodies)
def test_any_valid_request_round_trips_exactly(body: dict[str, Any]) -> None:
    assert r.encode_request(r.decode_request(copy.deepcopy(body))) == body


def _meaning(request: ir.Request) -> list[Any]:
    """What a request says, whatever the item layout."""
    out: list[Any] = [request.system_text]
    for message in request.messages:
        for part in message.parts:
            if isinstance(part, ir.ToolResult):
                images = [p for p in part.content if isinstance(p, ir.Image)]
                out.append((message.role, "result", part.call_id, part.text, images))
            elif isinstance(part, ir.Text):
                out.append((message.role, "text", part.text))
            else:
                out.append((message.role, part))
    return out


@settings(max_examples=150, deadline=None)
@given(bodies)
def test_written_from_the_ir_a_request_means_the_same(body: dict[str, Any]) -> None:
    request = r.decode_request(body)
    request.extras.pop("responses", None)  # no raw groups: everything is written from the IR
    again = r.decode_request(r.encode_request(request))
    assert _meaning(again) == _meaning(request)
    assert [(t.name, t.parameters) for t in again.tools] == [
        (t.name, t.parameters or {"type": "object", "properties": {}}) for t in request.tools
    ]
    assert again.response_format == request.response_format


responses = st.builds(
    lambda out, status, u: {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "model": "m",
        "status": status,
        "output": out,
        "usage": u,
        **(
            {"incomplete_details": {"reason": "max_output_tokens"}}
            if status == "incomplete"
            else {}
        ),
    },
    st.lists(
        st.builds(
            lambda c, i: {
                "id": f"msg_{i}",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": c,
            },
            st.lists(
                texts.map(
                    lambda t: {"type": "output_text", "text": t, "annotations": [], "logprobs": []}
                ),
                min_size=1,
                max_size=2,
            ),
            ids,
        )
        | call
        | reasoning
        | st.just(
            {
                "type": "web_search_call",
                "id": "ws_1",
                "status": "completed",
                "action": {"type": "search", "query": "q"},
            }
        ),
        max_size=5,
    ),
    st.sampled_from(["completed", "incomplete"]),
    st.builds(
        lambda a, b, c, d, e: {
            "input_tokens": a,
            "input_tokens_details": {"cached_tokens": b, "cache_write_tokens": e},
            "output_tokens": c,
            "output_tokens_details": {"reasoning_tokens": d},
            "total_tokens": a + c,
        },
        *[st.integers(0, 10**6)] * 5,
    ),
)


@settings(max_examples=100, deadline=None)
@given(responses)
def test_any_valid_response_round_trips(body: dict[str, Any]) -> None:
    again = r.encode_response(r.decode_response(copy.deepcopy(body)))
    assert {k: again[k] for k in body} == body
    assert r.encode_response(r.decode_response(again)) == again
    SDKResponse.model_validate(again)
