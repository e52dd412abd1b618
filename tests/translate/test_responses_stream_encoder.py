"""The OpenAI Responses dialect: IR events → client streams.

Every stream the encoder writes is checked against the rules of clients.md §2 (lifecycle,
items opened before their deltas and closed in order, one terminal event) and fed to the
openai SDK itself: its ``responses.stream()`` state machine directly, and its HTTP client
through a tiny aiohttp server.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import openai
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from openai._models import construct_type
from openai.lib.streaming.responses._responses import ResponseStreamState
from openai.types.responses import ResponseStreamEvent

from omni import ir
from omni.translate import responses as r
from tests.translate.test_responses_stream import ENC, FULL, FULL_EVENTS, decode, fake_stream


def parse(raw: bytes) -> list[dict[str, Any]]:
    """The stream's events, checking the framing every client relies on."""
    assert raw.endswith(b"\n\n")
    events = []
    for block in raw.decode().split("\n\n")[:-1]:
        name, data = block.split("\n")
        assert name.startswith("event: ") and data.startswith("data: ")
        event = json.loads(data.removeprefix("data: "))
        assert event["type"] == name.removeprefix("event: ")
        events.append(event)
    return events


def check(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The rules of clients.md §2 for one stream; returns the terminal response."""
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert [e["type"] for e in events[:2]] == ["response.created", "response.in_progress"]
    assert (
        events[0]["response"]["status"] == "in_progress" and events[0]["response"]["output"] == []
    )
    *body, last = events
    assert last["type"] in ("response.completed", "response.incomplete", "response.failed")
    open_items: dict[str, dict[str, Any]] = {}
    done: list[dict[str, Any]] = []
    texts: dict[str, str] = {}
    for event in body[2:]:
        kind = event["type"]
        if kind == "response.output_item.added":
            assert not open_items, "items are written one at a time"
            assert event["output_index"] == len(done)
            open_items[event["item"]["id"]] = event["item"]
        elif kind == "response.output_item.done":
            item = event["item"]
            assert open_items.pop(item["id"])["type"] == item["type"]
            done.append(item)
            if item["type"] == "message":
                assert item["content"][0]["text"] == texts.get(item["id"], "")
            elif item["type"] == "function_call":
                assert item["arguments"] == texts[item["id"]]
            elif item["summary"]:
                assert item["summary"][0]["text"] == texts[item["id"]]
        elif kind != "error":
            assert event["item_id"] in open_items, f"{kind} outside its item"
            assert event["output_index"] == len(done)
            if kind.endswith(".delta"):
                texts[event["item_id"]] = texts.get(event["item_id"], "") + event["delta"]
    assert not open_items, "every item is closed before the end"
    response: dict[str, Any] = last["response"]
    assert response["output"] == done
    assert response["id"] == events[0]["response"]["id"]
    return response


def encode(events: list[ir.Event], model: str = "gpt-x", rid: str = "resp_t1") -> bytes:
    encoder = r.StreamEncoder(model, rid)
    raw = b"".join(encoder.encode(e) for e in events)
    assert encoder.encode(ir.TextDelta("after the end")) == b""
    return raw


def sdk_final(raw: bytes) -> Any:
    """What the openai SDK's ``responses.stream()`` state machine makes of a stream."""
    state = ResponseStreamState(input_tools=openai.omit, text_format=openai.omit)
    for event in parse(raw):
        state.handle_event(construct_type(type_=ResponseStreamEvent, value=event))  # type: ignore[arg-type]
    return state._completed_response


def test_text_stream_has_the_full_sequence() -> None:
    raw = encode(
        [
            ir.Start("up", "m", ir.Usage(input=5)),
            ir.TextDelta("Hi"),
            ir.TextDelta("!"),
            ir.Finish(ir.Stop.END, ir.Usage(output=2)),  # input tokens came with Start
        ]
    )
    events = parse(raw)
    assert [e["type"].removeprefix("response.") for e in events] == [
        "created",
        "in_progress",
        "output_item.added",
        "content_part.added",
        "output_text.delta",
        "output_text.delta",
        "output_text.done",
        "content_part.done",
        "output_item.done",
        "completed",
    ]
    response = check(events)
    assert response["status"] == "completed" and response["model"] == "gpt-x"
    assert response["usage"]["input_tokens"] == 5 and response["usage"]["total_tokens"] == 7
    assert events[4] == {
        "type": "response.output_text.delta",
        "sequence_number": 4,
        "item_id": "msg_t1_0",
        "output_index": 0,
        "content_index": 0,
        "delta": "Hi",
        "logprobs": [],
    }
    assert sdk_final(raw).output_text == "Hi!"


def test_reasoning_text_and_calls() -> None:
    raw = encode(FULL_EVENTS)
    response = check(parse(raw))
    assert [o["type"] for o in response["output"]] == [
        "reasoning",
        "message",
        "function_call",
        "function_call",
    ]
    assert response["output"][0] == {
        "id": "rs_t1_0",
        "type": "reasoning",
        "encrypted_content": "omni-redacted:" + ENC,  # opaque here: never sent upstream
        "summary": [{"type": "summary_text", "text": "plan"}],
    }
    assert response["output"][2] == {
        "id": "fc_t1_2",
        "type": "function_call",
        "status": "completed",
        "arguments": '{"cmd": "ls"}',
        "call_id": "call_1",
        "name": "exec",
    }
    assert response["usage"]["input_tokens_details"]["cached_tokens"] == 4
    final = sdk_final(raw)
    assert final.output_text == "Héllo ✓ 日本"
    assert [c.name for c in final.output if c.type == "function_call"] == ["exec", "read"]
    back = decode(raw)  # and back: the same IR events (the usage now says cache_write 0)
    assert back[1:-1] == FULL_EVENTS[1:-1]
    assert back[-1] == ir.Finish(ir.Stop.TOOL_USE, ir.Usage(20, 9, 4, 0, 3))


def test_start_is_synthesized_and_limits_end_incomplete() -> None:
    raw = encode([ir.ToolCallStart(0, "c1", "f"), ir.Finish(ir.Stop.MAX_TOKENS)])
    response = check(parse(raw))
    assert response["status"] == "incomplete"
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert response["output"][0]["arguments"] == "{}"  # no deltas: still valid JSON


def test_failure_mid_stream_closes_the_item_then_errors() -> None:
    raw = encode([ir.TextDelta("par"), ir.Failure(429, "slow down")])
    events = parse(raw)
    assert [e["type"] for e in events[-4:]] == [
        "response.content_part.done",
        "response.output_item.done",
        "error",
        "response.failed",
    ]
    assert events[-3]["item"]["status"] == "incomplete"
    assert events[-2]["code"] == "rate_limit_exceeded" and events[-2]["message"] == "slow down"
    assert events[-2]["error"]["type"] == "rate_limit_error"
    failed = check(events)
    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "rate_limit_exceeded", "message": "slow down"}
    assert decode(raw)[-1] == ir.Failure(429, "slow down", "rate_limit_exceeded")


def test_failure_before_anything() -> None:
    events = parse(encode([ir.Failure(502, "no upstream", "upstream_error")]))
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "error",
        "response.failed",
    ]


def test_usage_update_and_signature_only_reasoning() -> None:
    raw = encode(
        [ir.ReasoningDelta(signature="s"), ir.UsageUpdate(ir.Usage(7, 3)), ir.Finish(ir.Stop.ERROR)]
    )
    response = check(parse(raw))
    assert response["output"] == [
        {"id": "rs_t1_0", "type": "reasoning", "summary": [], "encrypted_content": "omni-sig:s"}
    ]
    assert response["status"] == "failed" and response["usage"]["total_tokens"] == 10


# A plan of blocks, as upstreams send them: text, reasoning, or a group of calls whose
# argument deltas may interleave.
pieces = st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=4)
blocks = st.lists(
    st.one_of(
        st.tuples(st.just("text"), pieces),
        st.tuples(st.just("reasoning"), pieces, st.booleans()),
        st.tuples(st.just("calls"), st.lists(pieces, min_size=1, max_size=3), st.randoms()),
    ),
    max_size=5,
)
stops = st.sampled_from(list(ir.Stop))


def plan_events(plan: list[Any], stop: ir.Stop) -> tuple[list[ir.Event], dict[str, Any]]:
    events: list[ir.Event] = [ir.Start("u", "m")]
    want: dict[str, Any] = {"text": "", "reasoning": "", "calls": []}
    for block in plan:
        if block[0] == "text":
            events += [ir.TextDelta(p) for p in block[1]]
            want["text"] += "".join(block[1])
        elif block[0] == "reasoning":
            events += [ir.ReasoningDelta(p) for p in block[1]]
            events += [ir.ReasoningDelta(signature="sig")] if block[2] else []
            want["reasoning"] += "".join(block[1])
        else:
            first, tags = len(want["calls"]), []
            pending: dict[int, list[str]] = {}
            for index, args in enumerate(block[1], first):
                want["calls"].append((f"call_{index}", f"f{index}", "".join(args)))
                events.append(ir.ToolCallStart(index, f"call_{index}", f"f{index}"))
                tags += [index] * len(args)
                pending[index] = list(args)
            block[2].shuffle(tags)  # interleaved, each call's own pieces in order
            events += [ir.ToolCallDelta(index, pending[index].pop(0)) for index in tags]
    events.append(ir.Finish(stop, ir.Usage(1, 2)))
    return events, want


@settings(max_examples=80, deadline=None)
@given(blocks, stops)
def test_any_event_sequence_gives_a_valid_stream_that_loses_nothing(
    plan: list[Any], stop: ir.Stop
) -> None:
    events, want = plan_events(plan, stop)
    raw = encode(events)
    response = check(parse(raw))
    text = "".join(
        c["text"] for o in response["output"] if o["type"] == "message" for c in o["content"]
    )
    assert text == want["text"]
    calls = [
        (o["call_id"], o["name"], o["arguments"])
        for o in response["output"]
        if o["type"] == "function_call"
    ]
    assert sorted(calls) == sorted((i, n, a or "{}") for i, n, a in want["calls"])
    back = decode(raw)
    assert "".join(e.text for e in back if isinstance(e, ir.ReasoningDelta)) == want["reasoning"]
    assert isinstance(back[-1], ir.Finish | ir.Failure)
    final = sdk_final(raw)  # the SDK's state machine accepts every stream
    if response["status"] == "completed":
        assert final.output_text == want["text"]


# -- the openai SDK over HTTP -----------------------------------------------------------


@asynccontextmanager
async def serving(raw: bytes) -> AsyncIterator[openai.AsyncOpenAI]:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=raw, content_type=r.STREAM_CONTENT_TYPE)

    app = web.Application()
    app.router.add_post("/v1/responses", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    client = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="k", max_retries=0)
    try:
        yield client
    finally:
        await client.close()
        await runner.cleanup()


async def test_sdk_stream_helper_accepts_a_translated_stream() -> None:
    upstream = fake_stream(FULL)  # a Responses upstream, decoded to IR and written again
    decoder, encoder = r.StreamDecoder(), r.StreamEncoder("gpt-5", "resp_gw1")
    raw = b"".join(encoder.encode(e) for e in decoder.feed(upstream) + decoder.close())
    async with serving(raw) as client:
        async with client.responses.stream(model="gpt-5", input="hi") as stream:
            kinds = [event.type async for event in stream]
            final = await stream.get_final_response()
        assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
        assert final.id == "resp_gw1" and final.output_text == "Héllo ✓ 日本"
        assert final.usage is not None and final.usage.output_tokens_details.reasoning_tokens == 3
        raw_events = [
            e async for e in await client.responses.create(model="m", input="x", stream=True)
        ]
        assert raw_events[-1].type == "response.completed"


async def test_sdk_raises_on_a_failed_stream() -> None:
    async with serving(encode([ir.TextDelta("a"), ir.Failure(503, "overloaded")])) as client:
        with pytest.raises(openai.APIError, match="overloaded"):
            async with client.responses.stream(model="m", input="x") as stream:
                async for _ in stream:
                    pass
