"""A complete IR response as the stream events that would have produced it.

Used when a client asked for a stream but the answer is already whole: an upstream that
ignored ``stream``, or (later) a cached answer replayed in the client's dialect.
"""

from __future__ import annotations

from omni import ir


def response_events(response: ir.Response) -> list[ir.Event]:
    events: list[ir.Event] = [ir.Start(response.id, response.model)]
    calls = 0
    for part in response.parts:
        if isinstance(part, ir.Reasoning):
            events.append(ir.ReasoningDelta(part.text, part.signature, part.redacted))
        elif isinstance(part, ir.Text):
            if part.text:
                events.append(ir.TextDelta(part.text))
        elif isinstance(part, ir.ToolCall):
            events.append(ir.ToolCallStart(calls, part.id, part.name, part.signature))
            events.append(ir.ToolCallDelta(calls, part.arguments))
            calls += 1
    events.append(ir.Finish(response.stop, response.usage, response.stop_sequence))
    return events
