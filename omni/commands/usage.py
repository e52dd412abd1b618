"""``omni usage``: totals of requests, failures, tokens and cost by day, provider, model
or API key, over a window."""

from __future__ import annotations

from typing import Any

import typer

from omni.commands._output import admin_from, note, print_json, print_table


def _cost(value: float | None) -> str:
    return f"${value:,.4f}" if value else "-"


def _row(name: str, r: dict[str, Any]) -> tuple[Any, ...]:
    return (
        name, r["requests"], r["failed"], f"{r['input_tokens']:,}", f"{r['output_tokens']:,}",
        _cost(r["cost_usd"]), "" if r["avg_latency_ms"] is None else f"{r['avg_latency_ms']:.0f}",
    )  # fmt: skip


def usage(
    ctx: typer.Context,
    by: str = typer.Option("day", "--by", help="day | provider | model | key"),
    since: str = typer.Option(None, "--since", help="7d, 24h, 90m, 2w, an ISO date or Unix s."),
    until: str = typer.Option(None, "--until", help="End of the window (same forms)."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Totals of requests, tokens and cost by day, provider, model or key."""
    if by not in ("day", "provider", "model", "key"):
        raise typer.BadParameter("choose day, provider, model or key", param_hint="--by")
    with admin_from(ctx) as client:
        result = client.usage_history(by, since, until)
    if json_out:
        print_json(result)
        return
    if not result["rows"]:
        note("no requests in this window")
        return
    window = f" since {result['since']}" if result["since"] else ""
    print_table(
        f"Usage by {by}{window}",
        [by, "requests", "failed", "tokens in", "tokens out", "cost", "avg ms"],
        [*(_row(r["name"], r) for r in result["rows"]), _row("total", result["total"])],
    )
    if result["total"]["unpriced"]:
        note(f"{result['total']['unpriced']} request(s) have no known price and count as $0")
