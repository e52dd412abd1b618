"""``omni combos``: create, list, show, edit and remove combos (named fallback chains)."""

from __future__ import annotations

from typing import Any

import typer

from omni.commands._output import admin_from, note, print_json, print_table

app = typer.Typer(
    help="Combos: a model name that tries several targets in turn.", no_args_is_help=True
)

_JSON = typer.Option(False, "--json", help="Print JSON.")
_TARGETS = typer.Argument(..., help="Models to try, in order (provider/model or another combo).")
_STRATEGY_HELP = (
    "priority | weighted | round-robin | random | strict-random | least-used | "
    "cost-optimized | fill-first | p2c | lkgp | context-optimized"
)


def _chain(combo: dict[str, Any]) -> str:
    return " -> ".join(combo["steps"])


@app.command("create")
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The combo's name; clients ask for it as the model."),
    targets: list[str] = _TARGETS,
    strategy: str = typer.Option("priority", "--strategy", help=_STRATEGY_HELP),
    json_out: bool = _JSON,
) -> None:
    """Create a combo that tries the targets in order."""
    with admin_from(ctx) as client:
        combo = client.create_combo(name, list(targets), strategy)
    if json_out:
        print_json(combo)
        return
    note(
        f"created combo '{combo['name']}' ({combo['strategy']}): {_chain(combo)} via {client.where}"
    )


@app.command("list")
def list_(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """List combos with their strategy and steps."""
    with admin_from(ctx) as client:
        combos = client.list_combos()
    if json_out:
        print_json(combos)
        return
    if not combos:
        note("no combos yet: create one with 'omni combos create NAME TARGET…'")
        return
    print_table(
        "Combos",
        ["name", "strategy", "steps"],
        [(c["name"], c["strategy"], _chain(c)) for c in combos],
    )


@app.command("show")
def show(ctx: typer.Context, name: str, json_out: bool = _JSON) -> None:
    """Show one combo and its steps in order."""
    with admin_from(ctx) as client:
        combo = client.get_combo(name)
    if json_out:
        print_json(combo)
        return
    typer.echo(f"{combo['name']}  strategy={combo['strategy']}  updated={combo['updated_at']}")
    for number, step in enumerate(combo["steps"], 1):
        typer.echo(f"  {number}. {step}")


@app.command("edit")
def edit(
    ctx: typer.Context,
    name: str,
    steps: str = typer.Option(
        None, "--steps", help="Comma-separated targets replacing the old ones, in order."
    ),
    strategy: str = typer.Option(None, "--strategy", help=_STRATEGY_HELP),
    json_out: bool = _JSON,
) -> None:
    """Replace a combo's steps and/or change its strategy."""
    new_steps = [s.strip() for s in steps.split(",")] if steps is not None else None
    with admin_from(ctx) as client:
        combo = client.edit_combo(name, steps=new_steps, strategy=strategy)
    if json_out:
        print_json(combo)
        return
    note(f"updated combo '{combo['name']}' ({combo['strategy']}): {_chain(combo)}")


@app.command("rm")
def rm(ctx: typer.Context, name: str, json_out: bool = _JSON) -> None:
    """Remove a combo (refused while another combo uses it as a step)."""
    with admin_from(ctx) as client:
        removed = client.remove_combo(name)
    if json_out:
        print_json(removed)
    else:
        note(f"removed combo '{removed['name']}'")
