"""Gemini SSE streams ↔ IR, and the real google-genai client against what omni writes.

Upstream bytes come from the fake upstream's Gemini encoders (CRLF-framed, no ``[DONE]``);
what the encoders write is served by a tiny aiohttp server to the real ``google-genai``
client, proving its SSE reader and pydantic models accept it. The same server records what
the client sends, which gives golden request bodies.
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest
from aiohttp import web
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from hypothesis import given, settings
from hypothesis import strategies as st

from omni import ir
from omni.translate import gemini
from tests.fakes.dialects_common import Ctx, signature
from tests.fakes.dialects_others import GEMINI, gemini_events, gemini_stream_error
from tests.fakes.upstream import Reply, ToolCall, Usage

CTX = Ctx(model="gemini-2.5-flash", request={}, seq=2, created=0)
REPLY = Reply(
    text="Héllo wörld ✓ done",
    reasoning="Thinking… about it",
    tool_calls=[ToolCall("run", '{"cmd": "ls -l", "n": 2}', "a"), ToolCall("stat", "{}", "b")],
    usage=Usage(input=40, output=25, cache_read=16, reasoning=9),
    finish="tool_calls",
)
STREAM = b"".join(gemini_events(REPLY, CTX))
USAGE = ir.Usage(input=40, output=25, cache_read=16, reasoning=9)


def _same_ids(events: list[ir.Event]) -> list[ir.Event]:
    return [
        dataclasses.replace(e, id=f"call#{e.index}") if isinstance(e, ir.ToolCallStart) else e
        for e in events
    ]


def _decode(data: bytes, cuts: list[int]) -> list[ir.Event]:
    decoder = gemini.StreamDecoder()
    events: list[ir.Event] = []
    for a, b in itertools.pairwise([0, *sorted(set(cuts)), len(data)]):
        events += decoder.feed(data[a:b])
    return _same_ids(events + decoder.close())


def _chunks(data: bytes) -> list[dict[str, Any]]:
    """The JSON of every event, checking Gemini's framing on the way."""
    assert b"event:" not in data and b"[DONE]" not in data
    blocks = data.split(b"\r\n\r\n")
    assert blocks[-1] == b""
    assert all(block.startswith(b"data: ") and b"\n" not in block for block in blocks[:-1])
    return [orjson.loads(block[6:]) for block in blocks[:-1]]


# -- decoding ---------------------------------------------------------------------------------

EXPECTED: list[ir.Event] = [
    ir.Start("fake2", "gemini-2.5-flash", ir.Usage(input=40)),
    ir.ReasoningDelta("Thinki"),
    ir.ReasoningDelta("ng… ab"),
    ir.ReasoningDelta("out it"),
    ir.TextDelta("Héllo "),
    ir.TextDelta("wörld "),
    ir.TextDelta("✓ done"),
    ir.ToolCallStart(0, "call#0", "run", signature(REPLY.reasoning or "")),
    ir.ToolCallDelta(0, '{"cmd":"ls -l","n":2}'),
    ir.ToolCallStart(1, "call#1", "stat"),
    ir.ToolCallDelta(1, "{}"),
    ir.UsageUpdate(USAGE),
    ir.Finish(ir.Stop.TOOL_USE, USAGE),
]


def test_fake_upstream_stream_decodes() -> None:
    assert _decode(STREAM, []) == EXPECTED


def test_every_split_point_gives_the_same_events() -> None:
    for cut in range(len(STREAM) + 1):
        assert _decode(STREAM, [cut]) == EXPECTED, cut


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, len(STREAM)), max_size=20))
def test_any_splits_give_the_same_events(cuts: list[int]) -> None:
    assert _decode(STREAM, cuts) == EXPECTED


def test_text_only_stream_with_lf_framing_and_done() -> None:
    chunk = {"candidates": [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "MAX_TOKENS"}]}
    data = b"data: " + orjson.dumps(chunk) + b"\n\ndata: [DONE]\n\n"
    events = _decode(data, [])
    assert isinstance(events[0], ir.Start) and events[0].model == ""
    assert events[1:] == [ir.TextDelta("hi"), ir.Finish(ir.Stop.MAX_TOKENS)]


def test_error_mid_stream_is_a_failure() -> None:
    broken = Reply(error_message="quota gone", error_type="RESOURCE_EXHAUSTED")
    first = gemini_events(Reply(text="partial", chunks=1), CTX)[0]
    data = first.replace(b',"finishReason":"STOP"', b"") + gemini_stream_error(broken, CTX, 1)
    events = _decode(data, [])
    assert events == [
        ir.Start("fake2", "gemini-2.5-flash", ir.Usage(input=11, output=7)),
        ir.TextDelta("partial"),
        ir.Failure(500, "quota gone", "RESOURCE_EXHAUSTED"),
    ]
    quota = b'data: {"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}\n\n'
    assert _decode(quota, []) == [ir.Failure(429, "slow down", "RESOURCE_EXHAUSTED")]


def test_garbage_is_skipped_and_an_unfinished_stream_finishes_at_close() -> None:
    first = gemini_events(Reply(text="abc", chunks=1), CTX)[0].replace(
        b',"finishReason":"STOP"', b""
    )
    events = _decode(first + GEMINI.garbage, [])
    assert events[1:] == [ir.TextDelta("abc"), ir.Finish(ir.Stop.END, ir.Usage(input=11, output=7))]
    assert _decode(b"", []) == [ir.Failure(502, "the upstream closed the stream without an answer")]


def test_blocked_prompt_and_thought_signatures() -> None:
    blocked = {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}
    assert _decode(b"data: " + orjson.dumps(blocked) + b"\n\n", [])[1:] == [
        ir.Finish(ir.Stop.CONTENT_FILTER)
    ]
    parts = [
        {"text": "", "thought": True, "thoughtSignature": "sig"},
        {"text": "", "thoughtSignature": "text-sig"},  # Gemini 3: dropped in a stream
        {"functionCall": {"name": "f", "args": {}, "id": "given"}},
    ]
    chunk = {"candidates": [{"content": {"parts": parts}, "finishReason": "STOP"}]}
    events = gemini.StreamDecoder().feed(b"data: " + orjson.dumps(chunk) + b"\n\n")
    assert events[1:] == [
        ir.ReasoningDelta("", "gemini:sig"),  # tagged as Gemini's
        ir.ToolCallStart(0, "given", "f"),
        ir.ToolCallDelta(0, "{}"),
        ir.Finish(ir.Stop.TOOL_USE),
    ]


# -- encoding ---------------------------------------------------------------------------------


def _encode(events: list[ir.Event]) -> bytes:
    encoder = gemini.StreamEncoder("gemini-x", "resp-1")
    return b"".join(encoder.encode(e) for e in events)


ANTHROPIC_LIKE: list[ir.Event] = [
    ir.Start("msg_1", "claude", ir.Usage(input=12)),
    ir.ReasoningDelta("let me "),
    ir.ReasoningDelta("see"),
    ir.ReasoningDelta("", "c2lnLTE="),
    ir.TextDelta("Sure."),
    ir.ToolCallStart(0, "toolu_1", "Bash"),
    ir.ToolCallDelta(0, '{"comm'),
    ir.ToolCallDelta(0, 'and": "ls"}'),
    ir.ToolCallStart(1, "toolu_2", "Read", "Y2FsbA=="),
    ir.ToolCallDelta(1, ""),
    ir.UsageUpdate(ir.Usage(input=12, output=30, reasoning=5)),
    ir.Finish(ir.Stop.TOOL_USE),
]


WRAPPED = base64.b64encode(b"omni-sig:c2lnLTE=").decode()


def test_encoder_writes_gemini_chunks() -> None:
    chunks = _chunks(_encode(ANTHROPIC_LIKE))
    assert all(c["modelVersion"] == "gemini-x" and c["responseId"] == "resp-1" for c in chunks)
    parts = [c["candidates"][0]["content"]["parts"] for c in chunks]
    assert parts == [
        [{"text": "let me ", "thought": True}],
        [{"text": "see", "thought": True}],
        [{"text": "", "thought": True, "thoughtSignature": WRAPPED}],  # Anthropic's, wrapped
        [{"text": "Sure."}],
        [
            {"functionCall": {"name": "Bash", "args": {"command": "ls"}, "id": "toolu_1"}},
            {
                "functionCall": {"name": "Read", "args": {}, "id": "toolu_2"},
                "thoughtSignature": "Y2FsbA==",
            },
        ],
    ]
    assert [c["candidates"][0].get("finishReason") for c in chunks] == [None] * 4 + ["STOP"]
    assert "usageMetadata" not in chunks[0]
    assert chunks[-1]["usageMetadata"] == {
        "promptTokenCount": 12,
        "candidatesTokenCount": 25,
        "totalTokenCount": 42,
        "thoughtsTokenCount": 5,
    }


def test_calls_are_flushed_before_text_and_finish_has_a_part() -> None:
    events: list[ir.Event] = [
        ir.ToolCallStart(0, "c1", "f"),
        ir.ToolCallDelta(0, "not json"),
        ir.TextDelta("after"),
        ir.Finish(ir.Stop.MAX_TOKENS, ir.Usage(input=1, output=2)),
        ir.TextDelta("ignored"),
    ]
    chunks = _chunks(_encode(events))
    assert [c["candidates"][0]["content"]["parts"] for c in chunks] == [
        [{"functionCall": {"name": "f", "args": {"_raw": "not json"}, "id": "c1"}}],
        [{"text": "after"}],
        [{"text": ""}],
    ]
    assert chunks[-1]["candidates"][0]["finishReason"] == "MAX_TOKENS"


def test_failure_ends_the_stream_with_a_gemini_error() -> None:
    data = _encode(
        [ir.TextDelta("par"), ir.ToolCallStart(0, "c", "f"), ir.Failure(529, "overloaded")]
    )
    head, error = data.split(b"\r\n\r\n", 1)
    assert orjson.loads(head[6:])["candidates"][0]["content"]["parts"] == [{"text": "par"}]
    assert (
        error == b'data: {"error":{"code":529,"message":"overloaded","status":"UNAVAILABLE"}}\n\n'
    )


events_strategy = st.lists(
    st.one_of(
        st.builds(ir.TextDelta, st.text(max_size=5)),
        st.builds(ir.ReasoningDelta, st.text(max_size=5), st.none() | st.just("s")),
        st.builds(ir.ToolCallStart, st.integers(0, 2), st.just("id"), st.just("f")),
        st.builds(ir.ToolCallDelta, st.integers(0, 2), st.sampled_from(['{"a"', ": 1}", ""])),
        st.builds(ir.UsageUpdate, st.builds(ir.Usage, st.integers(0, 9), st.integers(0, 9))),
    ),
    max_size=12,
)


@settings(max_examples=100, deadline=None)
@given(
    events_strategy,
    st.one_of(st.builds(ir.Finish, st.sampled_from(list(ir.Stop))), st.just(ir.Failure(500, "x"))),
)
def test_any_event_sequence_is_a_valid_stream(events: list[ir.Event], end: ir.Event) -> None:
    data = _encode([*events, end])
    if isinstance(end, ir.Failure):
        data, _, error = data.rpartition(b"data: ")
        assert orjson.loads(error)["error"]["code"] == 500
    chunks = _chunks(data)
    if isinstance(end, ir.Finish):
        assert chunks[-1]["candidates"][0]["finishReason"]
        assert sum("finishReason" in c["candidates"][0] for c in chunks) == 1
    # what the encoder writes, the decoder reads back as the same text
    decoded = _decode(_encode([*events, end]), [])
    sent = "".join(e.text for e in events if isinstance(e, ir.TextDelta))
    assert "".join(e.text for e in decoded if isinstance(e, ir.TextDelta)) == sent


def test_encoded_stream_decodes_to_the_same_answer() -> None:
    decoded = _decode(_encode(ANTHROPIC_LIKE), [])
    assert [e for e in decoded if not isinstance(e, ir.Start | ir.UsageUpdate)] == [
        ir.ReasoningDelta("let me "),
        ir.ReasoningDelta("see"),
        ir.ReasoningDelta("", "c2lnLTE="),
        ir.TextDelta("Sure."),
        ir.ToolCallStart(0, "call#0", "Bash"),
        ir.ToolCallDelta(0, '{"command":"ls"}'),
        ir.ToolCallStart(1, "call#1", "Read", "Y2FsbA=="),
        ir.ToolCallDelta(1, "{}"),
        ir.Finish(ir.Stop.TOOL_USE, ir.Usage(input=12, output=30, reasoning=5)),
    ]


# -- the real google-genai client -------------------------------------------------------------

Serve = Callable[[bytes, str], Awaitable[tuple[genai.Client, list[dict[str, Any]]]]]
# google-genai subclasses aiohttp.ClientSession, which aiohttp frowns upon
sdk = pytest.mark.filterwarnings("ignore:Inheritance class:DeprecationWarning")


@pytest.fixture
async def serve(aiohttp_server: Any) -> Serve:
    async def start(body: bytes, content_type: str) -> tuple[genai.Client, list[dict[str, Any]]]:
        seen: list[dict[str, Any]] = []

        async def handler(request: web.Request) -> web.Response:
            seen.append({"path": request.path, "body": await request.json()})
            return web.Response(body=body, content_type=content_type)

        app = web.Application()
        app.router.add_post("/{tail:.*}", handler)
        server = await aiohttp_server(app)
        options = types.HttpOptions(base_url=str(server.make_url("/")).rstrip("/"))
        return genai.Client(api_key="k", http_options=options), seen

    return start


@sdk
async def test_google_genai_streams_what_the_encoder_writes(serve: Serve) -> None:
    client, seen = await serve(_encode(ANTHROPIC_LIKE), "text/event-stream")
    stream = await client.aio.models.generate_content_stream(model="gemini-x", contents="hi")
    chunks = [chunk async for chunk in stream]
    assert seen[0]["path"].endswith("/models/gemini-x:streamGenerateContent")
    assert "".join(c.text or "" for c in chunks) == "Sure."
    calls = [call for c in chunks for call in c.function_calls or []]
    assert [(c.name, c.args, c.id) for c in calls] == [
        ("Bash", {"command": "ls"}, "toolu_1"),
        ("Read", {}, "toolu_2"),
    ]
    last = chunks[-1]
    assert last.candidates and last.usage_metadata
    assert last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata.thoughts_token_count == 5
    assert chunks[-1].response_id == "resp-1"


@sdk
async def test_google_genai_raises_on_a_stream_failure(serve: Serve) -> None:
    data = _encode([ir.TextDelta("so far"), ir.Failure(429, "rate limited")])
    client, _ = await serve(data, "text/event-stream")
    stream = await client.aio.models.generate_content_stream(model="m", contents="hi")
    texts = []
    with pytest.raises(genai_errors.ClientError) as caught:
        async for chunk in stream:
            texts.append(chunk.text)
    assert texts == ["so far"]
    assert caught.value.code == 429 and "rate limited" in str(caught.value)


@sdk
async def test_google_genai_reads_a_complete_response(serve: Serve) -> None:
    response = ir.Response(
        id="r9",
        model="gemini-x",
        parts=[ir.Reasoning("hm"), ir.Text("The answer.")],
        usage=ir.Usage(input=3, output=4),
    )
    client, _ = await serve(orjson.dumps(gemini.encode_response(response)), "application/json")
    answer = await client.aio.models.generate_content(model="gemini-x", contents="q")
    assert answer.text == "The answer."
    assert answer.usage_metadata and answer.usage_metadata.total_token_count == 7


@sdk
async def test_google_genai_request_bodies_decode(serve: Serve) -> None:
    """What the SDK really sends (camelCase, role on systemInstruction) round-trips."""

    def get_weather(city: str, days: int = 1) -> str:
        """Weather for a city."""
        return city * days

    client, seen = await serve(b'{"candidates":[]}', "application/json")
    config = types.GenerateContentConfig(
        system_instruction="Be brief.",
        temperature=0.2,
        max_output_tokens=256,
        stop_sequences=["END"],
        tools=[get_weather],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(
                mode=types.FunctionCallingConfigMode.ANY
            )
        ),
        thinking_config=types.ThinkingConfig(thinking_budget=1024, include_thoughts=True),
        safety_settings=[
            types.SafetySetting(
                category=types.HarmCategory.HARM_CATEGORY_HARASSMENT,
                threshold=types.HarmBlockThreshold.BLOCK_NONE,
            )
        ],
    )
    contents = [
        types.Content(role="user", parts=[types.Part(text="Weather in Paris?")]),
        types.Content(
            role="model",
            parts=[
                types.Part(
                    function_call=types.FunctionCall(name="get_weather", args={"city": "Paris"})
                )
            ],
        ),
        types.Content(
            role="user",
            parts=[
                types.Part.from_function_response(name="get_weather", response={"output": "sunny"})
            ],
        ),
    ]
    await client.aio.models.generate_content(
        model="gemini-2.5-flash", contents=contents, config=config
    )
    body = seen[0]["body"]
    request = gemini.decode_request(body, model="gemini-2.5-flash")
    assert request.system == [ir.Text("Be brief.")]
    assert (request.temperature, request.max_tokens, request.stop) == (0.2, 256, ["END"])
    assert request.tool_choice == ir.ToolChoice("required")
    assert request.reasoning == ir.ReasoningConfig(budget=1024, enabled=True, include_thoughts=True)
    (tool,) = request.tools
    assert tool.name == "get_weather" and tool.description == "Weather for a city."
    assert tool.parameters["type"] == "object"
    assert set(tool.parameters["properties"]) == {"city", "days"}
    call = request.messages[1].parts[0]
    result = request.messages[2].parts[0]
    assert isinstance(call, ir.ToolCall) and isinstance(result, ir.ToolResult)
    assert (result.call_id, result.text, result.name) == (call.id, "sunny", "get_weather")
    assert request.messages[1].parts[0] == ir.ToolCall(
        call.id, "get_weather", '{"city":"Paris"}', None, {"gemini": {"id": "synthetic"}}
    )
    declaration = body["tools"][0]["functionDeclarations"][0]  # sent in snake_case
    assert set(declaration) == {
        "name",
        "description",
        "parameters_json_schema",
        "response_json_schema",
    }
    camel = {"parametersJsonSchema": declaration["parameters_json_schema"],
             "responseJsonSchema": declaration["response_json_schema"]}  # fmt: skip
    encoded = gemini.encode_request(request)
    assert encoded["tools"][0]["functionDeclarations"][0] == {
        "name": "get_weather", "description": "Weather for a city.", **camel
    }  # fmt: skip
    thinking = {"includeThoughts": True, "thinkingBudget": 1024}  # sent in snake_case too
    assert body["generationConfig"]["thinkingConfig"] == {
        "include_thoughts": True,
        "thinking_budget": 1024,
    }
    assert encoded["generationConfig"]["thinkingConfig"] == thinking
    encoded["generationConfig"]["thinkingConfig"] = body["generationConfig"]["thinkingConfig"]
    assert encoded | {"tools": None} == body | {"tools": None}


def test_signatures_reach_gemini_clients_as_base64() -> None:
    """google-genai reads signatures as bytes: another provider's goes wrapped in base64
    (and comes back unwrapped), Gemini's own goes as it came, and a call signature that is
    not base64 is left out."""
    events: list[ir.Event] = [
        ir.ReasoningDelta("x", "no!"),
        ir.ReasoningDelta("y", "gemini:c2ln"),
        ir.ToolCallStart(0, "c", "f", "sig-1"),
    ]
    chunks = _chunks(_encode([*events, ir.Finish(ir.Stop.TOOL_USE)]))
    parts = [p for c in chunks for p in c["candidates"][0]["content"]["parts"]]
    wrapped = base64.b64encode(b"omni-sig:no!").decode()
    assert parts == [
        {"text": "x", "thought": True, "thoughtSignature": wrapped},
        {"text": "y", "thought": True, "thoughtSignature": "c2ln"},
        {"functionCall": {"name": "f", "args": {}, "id": "c"}},
    ]
    back = gemini.decode_request({"contents": [{"role": "model", "parts": parts}]}, model="m")
    assert back.messages[0].parts[:2] == [
        ir.Reasoning("x", "no!"),
        ir.Reasoning("y", "gemini:c2ln"),
    ]
