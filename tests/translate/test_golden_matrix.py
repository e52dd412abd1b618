"""Golden fixtures for every (client dialect, upstream dialect) pair: any change in what the
gateway sends shows up as a reviewed diff of ``tests/translate/golden/``.

For each of the 25 pairs: the client's request as the upstream receives it
(``requests/<client>__to__<upstream>.json``), the upstream's complete answer as the client
receives it (``responses/<upstream>__to__<client>.json``), its stream
(``streams/<upstream>__to__<client>.txt``, decoded from bytes fed in small uneven chunks)
and its stream cut by an in-stream error (``streams/<upstream>__error__to__<client>.txt``).
Inputs are in :mod:`tests.translate.golden_cases`.

A missing golden file is written; with ``OMNI_UPDATE_GOLDEN=1`` all are rewritten (and stale
ones removed). Otherwise each output must equal its file exactly. Volatile values (random
ids, wall-clock timestamps) are replaced by placeholders first — see :func:`normalise`.
Independently of the files, each answer and stream is decoded again by the client's own
codec and must carry the upstream's text, reasoning and tool calls, and each request is
decoded by the upstream's codec and must keep its content and pair every tool result with
its call, so a wrong golden cannot be accepted silently.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import cycle
from pathlib import Path
from typing import Any

import pytest

from omni import ir
from omni.translate.codec import codec
from tests.translate import golden_cases as cases

GOLDEN = Path(__file__).parent / "golden"
UPDATE_ENV = "OMNI_UPDATE_GOLDEN"
PAIRS = [(a, b) for a in cases.DIALECTS for b in cases.DIALECTS]
NAMES = [f"c:{a}-u:{b}" for a, b in PAIRS]  # c: client, u: upstream
# Read at import: tests/conftest.py clears OMNI_* variables for each test.
UPDATING = os.environ.get(UPDATE_ENV) == "1"
CHUNK_SIZES = (1, 7, 3, 13, 2, 29, 5, 64)  # byte slices: split lines, JSON and UTF-8 anywhere


# -- golden files ---------------------------------------------------------------------------


def check_golden(name: str, text: str) -> None:
    """Compare ``text`` with ``golden/<name>``; write it when missing or when updating."""
    path = GOLDEN / name
    if UPDATING or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        return
    old = path.read_bytes().decode("utf-8")  # as written: Gemini streams use CRLF
    if old == text:
        return
    if old.splitlines() == text.splitlines():
        pytest.fail(f"golden/{name}: only the line endings differ", pytrace=False)
    diff = "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            text.splitlines(keepends=True),
            f"golden/{name} (expected)",
            f"golden/{name} (now)",
        )
    )
    pytest.fail(
        f"translation output differs from golden/{name}:\n{diff}\n"
        f"If the change is intended, run with {UPDATE_ENV}=1 and review the diff "
        f"(git diff tests/translate/golden/) before committing.",
        pytrace=False,
    )


def expected_files() -> set[str]:
    names = set()
    for a, b in PAIRS:
        names |= {f"requests/{a}__to__{b}.json", f"responses/{b}__to__{a}.json"}
        names |= {f"streams/{b}__to__{a}.txt", f"streams/{b}__error__to__{a}.txt"}
    return names


# -- normalising volatile values ----------------------------------------------------------

# Timestamps the gateway stamps itself; ones passed through from the fixtures stay visible.
_TIME = re.compile(r'("(?:created|created_at|completed_at|createTime)":\s*)(-?\d+|"[^"]*")')
_MOMENT = datetime.fromtimestamp(cases.CREATED, UTC)
_KEPT_TIMES = {str(cases.CREATED)} | {
    f'"{_MOMENT.isoformat(timespec=spec).replace("+00:00", "Z")}"'
    for spec in ("seconds", "microseconds")
}
# Ids made with secrets.token_hex(12) (omni.translate._common.new_id): 24 hex digits at the
# end of an id-valued key. Each distinct one gets a numbered placeholder, so pairs stay visible.
_ID = re.compile(
    r'("(?:id|call_id|item_id|tool_call_id|tool_use_id|responseId)":\s*"[^"]*?)([0-9a-f]{24})"'
)


def normalise(text: str) -> str:
    """``text`` (JSON, SSE or NDJSON) with generated ids and timestamps as placeholders."""

    def when(m: re.Match[str]) -> str:
        return m[0] if m[2] in _KEPT_TIMES else f'{m[1]}"<timestamp>"'

    seen: dict[str, int] = {}

    def ident(m: re.Match[str]) -> str:
        return f'{m[1]}<random-id-{seen.setdefault(m[2], len(seen) + 1)}>"'

    return _ID.sub(ident, _TIME.sub(when, text))


def pretty(body: Any) -> str:
    return json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# -- what an answer says -------------------------------------------------------------------


@dataclass
class Said:
    """The meaning of an answer, whatever the dialect carried it in."""

    text: str = ""
    reasoning: str = ""
    calls: list[tuple[str, Any]] = field(default_factory=list)  # name, parsed arguments
    stop: ir.Stop | None = None
    failure: ir.Failure | None = None


def said_by_reply() -> Said:
    reply = cases.REPLY
    calls = [(c.name, json.loads(c.arguments)) for c in reply.tool_calls]
    return Said(reply.text, reply.reasoning or "", calls, ir.Stop.TOOL_USE)


def said_by_response(response: ir.Response) -> Said:
    reasoning = "".join(p.text for p in response.parts if isinstance(p, ir.Reasoning))
    calls = [(c.name, json.loads(c.arguments)) for c in response.tool_calls]
    return Said(response.text, reasoning, calls, response.stop)


def said_by_events(events: list[ir.Event]) -> Said:
    said = Said()
    calls: dict[int, list[str]] = {}
    for event in events:
        if isinstance(event, ir.TextDelta):
            said.text += event.text
        elif isinstance(event, ir.ReasoningDelta):
            said.reasoning += event.text
        elif isinstance(event, ir.ToolCallStart):
            calls[event.index] = [event.name, ""]
        elif isinstance(event, ir.ToolCallDelta):
            calls[event.index][1] += event.arguments
        elif isinstance(event, ir.Finish):
            said.stop = event.stop
        elif isinstance(event, ir.Failure):
            said.failure = event
    said.calls = [(name, json.loads(args or "{}")) for name, args in calls.values()]
    return said


# -- streams --------------------------------------------------------------------------------


def pieces(data: bytes) -> Iterator[bytes]:
    """``data`` in small slices of uneven sizes."""
    at = 0
    for size in cycle(CHUNK_SIZES):
        if at >= len(data):
            return
        yield data[at : at + size]
        at += size


def decode_stream(dialect: ir.Dialect, data: bytes) -> list[ir.Event]:
    decoder = codec(dialect).StreamDecoder()
    events: list[ir.Event] = []
    for piece in pieces(data):
        events += decoder.feed(piece)
    return events + decoder.close()


def translate_stream(upstream: ir.Dialect, client: ir.Dialect, data: bytes) -> bytes:
    encoder = codec(client).StreamEncoder(model="client-model", response_id="resp_golden")
    return b"".join(encoder.encode(event) for event in decode_stream(upstream, data))


def check_stream_shape(client: ir.Dialect, text: str) -> None:
    """What each client's SDK insists on, beyond decoding."""
    if client is ir.Dialect.GEMINI:
        assert "[DONE]" not in text and "event:" not in text
    elif client is ir.Dialect.ANTHROPIC:
        blocks = [b for b in text.split("\n\n") if b.strip()]
        assert all(b.startswith("event: ") for b in blocks), "an event without an event: line"
    elif client is ir.Dialect.OPENAI_RESPONSES:
        kinds = [json.loads(line[6:])["type"] for line in text.splitlines() if line[:6] == "data: "]
        assert kinds[0] == "response.created"
        assert kinds[-1] in ("response.completed", "response.failed")
    elif client is ir.Dialect.OLLAMA:
        lines = [json.loads(line) for line in text.splitlines()]
        assert all(line["message"]["role"] == "assistant" for line in lines if "error" not in line)
    elif client is ir.Dialect.OPENAI_CHAT:
        last = [line for line in text.splitlines() if line][-1]
        assert last == "data: [DONE]" or last.startswith('data: {"error":')


# -- requests -------------------------------------------------------------------------------


@dataclass
class Asked:
    """The content of a request that every dialect can carry."""

    system: str
    user_texts: list[str]
    images: list[str]
    calls: list[tuple[str, Any]]
    results: list[str]
    tools: list[str]


def asked(request: ir.Request) -> Asked:
    parts = [(m.role, p) for m in request.messages for p in m.parts]
    return Asked(
        system=request.system_text,
        user_texts=[p.text for role, p in parts if role == "user" and isinstance(p, ir.Text)],
        images=[p.data or "" for _, p in parts if isinstance(p, ir.Image)],
        calls=[(p.name, json.loads(p.arguments)) for _, p in parts if isinstance(p, ir.ToolCall)],
        results=[p.text for _, p in parts if isinstance(p, ir.ToolResult)],
        tools=[t.name for t in request.tools],
    )


def check_pairing(request: ir.Request) -> None:
    """Every tool result answers a call made earlier; every call is answered."""
    called: list[str] = []
    answered: list[str] = []
    for message in request.messages:
        for part in message.parts:
            if isinstance(part, ir.ToolCall):
                called.append(part.id)
            elif isinstance(part, ir.ToolResult):
                assert part.call_id in called, f"result for unknown call {part.call_id}"
                answered.append(part.call_id)
    assert sorted(called) == sorted(answered)


def decode_client_request(client: ir.Dialect) -> ir.Request:
    body = copy.deepcopy(cases.REQUESTS[client])
    return codec(client).decode_request(body, model=cases.CLIENT_MODEL.get(client))


@pytest.mark.parametrize(("client", "upstream"), PAIRS, ids=NAMES)
def test_request(client: ir.Dialect, upstream: ir.Dialect) -> None:
    request = decode_client_request(client)
    request.model = "upstream-model"
    body = codec(upstream).encode_request(request)
    check_golden(f"requests/{client}__to__{upstream}.json", normalise(pretty(body)))

    want, got = (
        asked(decode_client_request(client)),
        asked(codec(upstream).decode_request(copy.deepcopy(body), model="upstream-model")),
    )
    assert got.system.startswith(want.system)  # a format instruction may follow
    assert got.user_texts[: len(want.user_texts)] == want.user_texts
    assert (got.images, got.calls, got.results, got.tools) == (
        want.images,
        want.calls,
        want.results,
        want.tools,
    )


@pytest.mark.parametrize(("client", "upstream"), PAIRS, ids=NAMES)
def test_request_pairs_results_with_calls(client: ir.Dialect, upstream: ir.Dialect) -> None:
    request = decode_client_request(client)
    request.model = "upstream-model"
    body = codec(upstream).encode_request(request)
    check_pairing(codec(upstream).decode_request(body, model="upstream-model"))


# -- complete answers -----------------------------------------------------------------------


@pytest.mark.parametrize(("client", "upstream"), PAIRS, ids=NAMES)
def test_response(client: ir.Dialect, upstream: ir.Dialect) -> None:
    response = codec(upstream).decode_response(cases.response_body(upstream))
    body = codec(client).encode_response(response)
    check_golden(f"responses/{upstream}__to__{client}.json", normalise(pretty(body)))
    assert said_by_response(codec(client).decode_response(copy.deepcopy(body))) == said_by_reply()


# -- streams --------------------------------------------------------------------------------


@pytest.mark.parametrize(("client", "upstream"), PAIRS, ids=NAMES)
def test_stream(client: ir.Dialect, upstream: ir.Dialect) -> None:
    upstream_bytes = cases.stream_bytes(upstream)
    assert said_by_events(decode_stream(upstream, upstream_bytes)) == said_by_reply()
    out = translate_stream(upstream, client, upstream_bytes)
    text = out.decode("utf-8")
    check_golden(f"streams/{upstream}__to__{client}.txt", normalise(text))
    check_stream_shape(client, text)
    assert said_by_events(decode_stream(client, out)) == said_by_reply()


@pytest.mark.parametrize(("client", "upstream"), PAIRS, ids=NAMES)
def test_stream_error(client: ir.Dialect, upstream: ir.Dialect) -> None:
    out = translate_stream(upstream, client, cases.stream_bytes(upstream, error=True))
    text = out.decode("utf-8")
    check_golden(f"streams/{upstream}__error__to__{client}.txt", normalise(text))
    check_stream_shape(client, text)
    said = said_by_events(decode_stream(client, out))
    assert said.failure is not None and said.stop is None
    assert cases.REPLY.error_message in said.failure.message
    assert said_by_reply().text.startswith(said.text)  # what was said before the cut


def test_no_stale_golden_files() -> None:
    present = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*") if p.is_file()}
    stale = sorted(present - expected_files())
    if stale and UPDATING:
        for name in stale:
            (GOLDEN / name).unlink()
        return
    assert not stale, f"golden files no test writes (delete them or set {UPDATE_ENV}=1): {stale}"
