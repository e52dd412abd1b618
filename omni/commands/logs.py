"""``omni logs``: the request log — who asked for what, where it went, how it went."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import orjson
import typer

from omni.commands._output import admin_from, note, print_json, print_table

FOLLOW_INTERVAL_S = 1.0


def _row(entry: dict[str, Any]) -> tuple[Any, ...]:
    served = f"{entry['provider_id']}/{entry['model']}" if entry["provider_id"] else "-"
    tokens = f"{entry['input_tokens'] or 0}/{entry['output_tokens'] or 0}"
    route = " > ".join(f"{r['provider']}:{r['outcome']}" for r in entry["route"])
    return (
        datetime.fromtimestamp(entry["ts"]).strftime("%H:%M:%S"),
        entry["requested_model"] or "-",
        served,
        entry["status"],
        tokens,
        f"{entry['latency_ms'] or 0:.0f}",
        entry["error"] or route or "",
    )


def _line(entry: dict[str, Any]) -> None:
    typer.echo(orjson.dumps(entry).decode())


_COLUMNS = ["time", "requested", "served by", "status", "tokens in/out", "ms", "error / route"]


def logs(
    ctx: typer.Context,
    limit: int = typer.Option(20, "--limit", "-n", help="How many requests to show."),
    model: str | None = typer.Option(None, help="Only requests for (or served by) this model."),
    provider: str | None = typer.Option(None, help="Only requests served by this provider."),
    failed: bool = typer.Option(False, "--failed", help="Only requests that failed."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new requests."),
    json_out: bool = typer.Option(
        False, "--json", help="Print JSON (one object per line with -f)."
    ),
) -> None:
    """Show the latest requests, newest last."""
    filters = {"model": model, "provider": provider, "failed": failed}
    with admin_from(ctx) as client:
        entries = list(reversed(client.request_logs(limit=limit, **filters)))
        if json_out and not follow:
            print_json(entries)
            return
        if not entries and not follow:
            note("no requests yet")
            return
        if json_out:
            for entry in entries:
                _line(entry)
        elif entries:
            print_table("Requests", _COLUMNS, [_row(e) for e in entries])
        last = entries[-1]["id"] if entries else 0
        while follow:
            time.sleep(FOLLOW_INTERVAL_S)
            fresh = [e for e in reversed(client.request_logs(limit=100, **filters))
                     if e["id"] > last]  # fmt: skip
            for entry in fresh:
                if json_out:
                    _line(entry)
                else:
                    typer.echo("  ".join(str(v) for v in _row(entry)))
                last = entry["id"]
