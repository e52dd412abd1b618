"""Thinking signatures across dialects: each goes back only to the provider that made it.

What Claude Code and Codex exposed against a Gemini upstream with thinking on: Gemini signs
the first ``functionCall`` of a turn and refuses the next request when that call comes back
unsigned. A client of another dialect keeps the signature on the thinking it was handed and
omni puts it back on the call; Anthropic's signatures never reach Gemini, Gemini's never
reach Anthropic, and a thought Gemini clients receive split over stream chunks is one
thinking block again for Anthropic.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import orjson

from omni import ir
from omni.translate import anthropic, gemini, responses, signatures
from tests.fakes.dialects_common import Ctx, signature
from tests.fakes.dialects_others import anthropic_events, gemini_events, gemini_json
from tests.fakes.upstream import Reply, ToolCall
from tests.translate.test_anthropic_stream_encode import accumulate
from tests.translate.test_responses_stream_encoder import check, parse

Obj = dict[str, Any]
THOUGHT = "I should list the files first."
CALL = ToolCall("Bash", '{"command": "ls"}', id="call_1")
TOOL_TURN = Reply(text="", tool_calls=[CALL], finish="tool_calls", reasoning=THOUGHT)
SIGNATURE = signature(THOUGHT)  # what the fake Gemini puts on the functionCall
CTX = Ctx("m", {}, 1, 1_700_000_000)


def _gemini_stream_to(dialect: Any, reply: Reply) -> bytes:
    """The fake Gemini's stream for ``reply``, decoded and encoded for a client."""
    decoder, encoder = gemini.StreamDecoder(), dialect.StreamEncoder("m", "resp_1")
    events = [e for chunk in gemini_events(reply, CTX) for e in decoder.feed(chunk)]
    return b"".join(encoder.encode(e) for e in [*events, *decoder.close()])


def _gemini_contents(request: ir.Request) -> list[Obj]:
    contents: list[Obj] = gemini.encode_request(request)["contents"]
    return contents


def _claude_code_turn(assistant: list[Obj]) -> Obj:
    """The request Claude Code sends after running the tool: its history echoed back."""
    call_id = next(b["id"] for b in assistant if b["type"] == "tool_use")
    result = {"type": "tool_result", "tool_use_id": call_id, "content": "a.txt"}
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 32000,
        "thinking": {"type": "enabled", "budget_tokens": 4000},
        "messages": [
            {"role": "user", "content": "list the files"},
            {"role": "assistant", "content": assistant},
            {"role": "user", "content": [result]},
        ],
    }


def _signed_call_turn(contents: list[Obj]) -> Obj:
    model = contents[1]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[2]["parts"] == [
        {"functionResponse": {"name": "Bash", "response": {"output": "a.txt"}}}
    ]
    return model


def test_claude_code_stream_round_trip_gives_gemini_back_its_call_signature() -> None:
    message = accumulate(_gemini_stream_to(anthropic, TOOL_TURN))
    # The thought summary carries the call's signature, tagged; then the call.
    assert message["content"] == [
        {"type": "thinking", "thinking": THOUGHT, "signature": "gemini-call:" + SIGNATURE},
        {"type": "tool_use", "id": message["content"][1]["id"], "name": "Bash",
         "input": {"command": "ls"}, "_json": '{"command":"ls"}'},
    ]  # fmt: skip
    echoed = [{k: v for k, v in b.items() if k != "_json"} for b in message["content"]]
    request = anthropic.decode_request(_claude_code_turn(echoed))
    model = _signed_call_turn(_gemini_contents(request))
    assert model["parts"] == [
        {"functionCall": {"name": "Bash", "args": {"command": "ls"}}, "thoughtSignature": SIGNATURE}
    ]


def test_a_call_after_text_gets_a_thinking_block_of_its_own() -> None:
    events: list[ir.Event] = [
        ir.Start("r", "m"),
        ir.ReasoningDelta("hmm", "gemini:dGhvdWdodA=="),  # a signed thought stays as it is
        ir.TextDelta("Listing."),
        ir.ToolCallStart(0, "call_1", "Bash", "Y2FsbA=="),
        ir.ToolCallDelta(0, '{"command": "ls"}'),
        ir.ToolCallStart(1, "call_2", "Read"),  # Gemini signs only the first call
        ir.Finish(ir.Stop.TOOL_USE),
    ]
    encoder = anthropic.StreamEncoder("m", "msg_1")
    content = accumulate(b"".join(encoder.encode(e) for e in events))["content"]
    assert [(b["type"], b.get("signature")) for b in content] == [
        ("thinking", "gemini:dGhvdWdodA=="),
        ("text", None),
        ("thinking", "gemini-call:Y2FsbA=="),
        ("tool_use", None),
        ("tool_use", None),
    ]
    assert content[2]["thinking"] == ""


def test_claude_code_complete_answer_round_trip() -> None:
    answer = gemini.decode_response(gemini_json(TOOL_TURN, CTX))
    content = anthropic.encode_response(answer)["content"]
    assert [(b["type"], b.get("signature")) for b in content] == [
        ("thinking", "gemini-call:" + SIGNATURE),
        ("tool_use", None),
    ]
    model = _signed_call_turn(
        _gemini_contents(anthropic.decode_request(_claude_code_turn(content)))
    )
    assert model["parts"][0]["thoughtSignature"] == SIGNATURE


def test_codex_round_trip_gives_gemini_back_its_call_signature() -> None:
    output = check(parse(_gemini_stream_to(responses, TOOL_TURN)))["output"]
    assert [(i["type"], i.get("encrypted_content")) for i in output] == [
        ("reasoning", "omni-sig:gemini-call:" + SIGNATURE),
        ("function_call", None),
    ]
    call_id = output[1]["call_id"]
    result = {"type": "function_call_output", "call_id": call_id, "output": "a.txt"}
    prompt = {"role": "user", "content": "list the files"}
    body = {"model": "m", "input": [prompt, *output, result], "store": False}
    model = _signed_call_turn(_gemini_contents(responses.decode_request(body)))
    assert model["parts"][0]["thoughtSignature"] == SIGNATURE


def test_anthropic_signatures_never_reach_gemini() -> None:
    """A turn Claude answered, continued on Gemini (a combo falling back, a model switch):
    its signed thinking stays behind, and the call gets the placeholder Google documents."""
    assistant = [
        {"type": "thinking", "thinking": "Use Bash.", "signature": "EqQBCkgIARAB"},
        {"type": "tool_use", "id": "call_1", "name": "Bash", "input": {"command": "ls"}},
        {"type": "tool_use", "id": "call_2", "name": "Bash", "input": {"command": "pwd"}},
    ]
    request = anthropic.decode_request(_claude_code_turn(assistant))
    contents = _gemini_contents(request)
    assert contents[1]["parts"] == [
        {"functionCall": {"name": "Bash", "args": {"command": "ls"}},
         "thoughtSignature": signatures.SKIP_VALIDATOR},
        {"functionCall": {"name": "Bash", "args": {"command": "pwd"}}},
    ]  # fmt: skip


def test_gemini_signatures_never_reach_anthropic() -> None:
    """The other way round: Gemini's signatures are not Anthropic's to check, so those
    thinking blocks stay behind (and thinking pauses for the unsigned tool turn)."""
    assistant = [
        {"type": "thinking", "thinking": "hmm", "signature": "gemini:c2ln"},
        {"type": "thinking", "thinking": "", "signature": "gemini-call:Y2FsbA=="},
        {"type": "tool_use", "id": "call_1", "name": "Bash", "input": {"command": "ls"}},
    ]
    body = anthropic.encode_request(anthropic.decode_request(_claude_code_turn(assistant)))
    assert [b["type"] for b in body["messages"][1]["content"]] == ["tool_use"]
    assert "thinking" not in body


def test_gemini_client_calls_go_back_as_the_client_sent_them() -> None:
    """The placeholder is only for calls from other dialects: a Gemini client's own
    unsigned call is its business (gemini-cli adds the placeholder itself)."""
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "hi"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "ls", "args": {}}}]},
        ]
    }
    assert gemini.encode_request(gemini.decode_request(body, model="m")) == body


def test_a_thought_split_over_gemini_chunks_is_one_thinking_block_again() -> None:
    """Claude thinking streamed to a Gemini client arrives as several thought parts, the
    signature on the last one; sent back, Claude needs the whole text under its signature."""
    thought = "Let me look at the directory listing first."
    reply = Reply(text="", tool_calls=[CALL], finish="tool_calls", reasoning=thought, chunks=3)
    decoder, encoder = anthropic.StreamDecoder(), gemini.StreamEncoder("m", "r")
    events = [e for chunk in anthropic_events(reply, CTX) for e in decoder.feed(chunk)]
    raw = b"".join(encoder.encode(e) for e in [*events, *decoder.close()])
    chunks = [orjson.loads(line[6:]) for line in raw.split(b"\r\n\r\n") if line]
    parts = [p for c in chunks for p in c["candidates"][0]["content"]["parts"]]
    thoughts = [p for p in parts if p.get("thought")]
    assert len(thoughts) > 2 and "thoughtSignature" in thoughts[-1]
    wrapped = base64.b64decode(thoughts[-1]["thoughtSignature"])
    assert wrapped == b"omni-sig:" + signature(thought).encode()

    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "list the files"}]},
            {"role": "model", "parts": parts},
            {"role": "user", "parts": [{"functionResponse": {"name": "Bash", "response": {}}}]},
        ],
        "generationConfig": {"thinkingConfig": {"thinkingBudget": 2048}},
    }
    sent = anthropic.encode_request(gemini.decode_request(body, model="claude-x"))
    turn = sent["messages"][1]["content"]
    assert turn[0] == {"type": "thinking", "thinking": thought, "signature": signature(thought)}
    assert [b["type"] for b in turn] == ["thinking", "tool_use"]
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048}


def test_signature_helpers() -> None:
    assert signatures.from_gemini("c2ln") == "gemini:c2ln"
    wrapped = signatures.for_gemini_client("EqQB")
    assert wrapped is not None and signatures.from_gemini(wrapped) == "EqQB"
    assert signatures.for_gemini_client("gemini:c2ln") == "c2ln"
    assert signatures.for_gemini_client(signatures.carrier("c2ln")) is None
    assert signatures.for_gemini("EqQB") is None and signatures.for_gemini("gemini:") is None
    assert signatures.call_signature("gemini-call:c2ln") == "c2ln"
    assert json.dumps(signatures.SKIP_VALIDATOR) == '"skip_thought_signature_validator"'
