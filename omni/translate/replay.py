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


def collect(events: list[ir.Event]) -> ir.Response | None:
    """The whole answer a stream of events makes (the inverse of :func:`response_events`);
    None when the stream broke off or never started."""
    response: ir.Response | None = None
    text: list[str] = []
    calls: dict[int, ir.ToolCall] = {}
    for event in events:
        if isinstance(event, ir.Start):
            response = ir.Response(event.id, event.model)
            if event.usage is not None:
                response.usage = event.usage
            continue
        if response is None or isinstance(event, ir.Failure):
            return None
        if isinstance(event, ir.TextDelta):
            text.append(event.text)
            continue
        if text:
            response.parts.append(ir.Text("".join(text)))
            text = []
        if isinstance(event, ir.ReasoningDelta):
            last = response.parts[-1] if response.parts else None
            if isinstance(last, ir.Reasoning) and last.signature is None and not last.redacted:
                last.text += event.text
                last.signature = event.signature
                last.redacted = event.redacted
            else:
                response.parts.append(ir.Reasoning(event.text, event.signature, event.redacted))
        elif isinstance(event, ir.ToolCallStart):
            call = ir.ToolCall(event.id, event.name, "", event.signature)
            calls[event.index] = call
            response.parts.append(call)
        elif isinstance(event, ir.ToolCallDelta):
            if event.index in calls:
                calls[event.index].arguments += event.arguments
        elif isinstance(event, ir.UsageUpdate):
            response.usage = ir.merge_usage(response.usage, event.usage) or response.usage
        elif isinstance(event, ir.Finish):
            response.stop, response.stop_sequence = event.stop, event.stop_sequence
            if event.usage is not None:
                response.usage = ir.merge_usage(response.usage, event.usage) or response.usage
            return response
    return None
