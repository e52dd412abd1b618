"""``omni budget``: spending limits per API key (list, set, rm)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from omni.commands._output import admin_from, note, print_json, print_table

app = typer.Typer(help="Spending limits per API key.", no_args_is_help=True)
_JSON = typer.Option(False, "--json", help="Print JSON.")


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


@app.command("list")
def list_(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """Budgets with what was spent this period and when it resets."""
    with admin_from(ctx) as client:
        budgets = client.list_budgets()
    if json_out:
        print_json(budgets)
        return
    if not budgets:
        note("no budgets: set one with 'omni budget set KEY_ID 5 --period daily'")
        return
    print_table(
        "Budgets",
        ["key", "period", "limit $", "spent $", "left $", "resets"],
        [
            (f"{b['keyId']} {b.get('keyName') or ''}".strip(), b["period"], f"{b['limit']:.2f}",
             f"{b['spent']:.4f}", f"{b['remaining']:.4f}", _when(b["resetsAt"]))
            for b in budgets
        ],
    )  # fmt: skip


@app.command("set")
def set_(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="The API key's id (see 'omni keys list')."),
    limit: float = typer.Argument(..., help="US dollars per period, at list prices."),
    period: str = typer.Option("monthly", help="daily | weekly | monthly (UTC)."),
    warn_at: float = typer.Option(0.8, help="Fraction of the limit that starts warnings."),
    json_out: bool = _JSON,
) -> None:
    """Limit what an API key may spend per period."""
    with admin_from(ctx) as client:
        budget = client.set_budget(key, limit, period, warn_at)
    if json_out:
        print_json(budget)
    else:
        note(f"key {budget['keyId']}: ${budget['limit']:.2f} per {budget['period']} period, "
             f"${budget['spent']:.4f} spent so far")  # fmt: skip


@app.command("rm")
def rm(ctx: typer.Context, key: str) -> None:
    """Remove an API key's budget."""
    with admin_from(ctx) as client:
        client.remove_budget(key)
    note(f"removed the budget of key {key}")
