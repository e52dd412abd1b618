"""``omni aliases``: model aliases, exact names or glob patterns (``claude-*``)."""

from __future__ import annotations

import typer

from omni.commands._output import admin_from, note, print_json, print_table

app = typer.Typer(
    help="Model aliases: a name or glob pattern that stands for another model.",
    no_args_is_help=True,
)

_JSON = typer.Option(False, "--json", help="Print JSON.")


@app.command("list")
def list_(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """List the aliases."""
    with admin_from(ctx) as client:
        aliases = client.list_aliases()
    if json_out:
        print_json(aliases)
        return
    if not aliases:
        note("no aliases yet: add one with 'omni aliases add claude-* anthropic/claude-*'")
        return
    print_table(
        "Aliases",
        ["alias", "target", "kind"],
        [(a["alias"], a["target"], "pattern" if a["pattern"] else "exact") for a in aliases],
    )


@app.command("add")
def add(
    ctx: typer.Context,
    alias: str = typer.Argument(..., help="A model name or a glob pattern ('gpt-4*')."),
    target: str = typer.Argument(
        ..., help="The model it stands for; a '*' takes the part the pattern matched."
    ),
    json_out: bool = _JSON,
) -> None:
    """Add an alias, or point an existing one at a new target."""
    with admin_from(ctx) as client:
        result = client.set_alias(alias, target)
    for warning in result.get("warnings", []):
        note(f"warning: {warning}")
    if json_out:
        print_json(result)
    else:
        note(f"alias '{result['alias']}' -> '{result['target']}' via {client.where}")


@app.command("rm")
def rm(ctx: typer.Context, alias: str, json_out: bool = _JSON) -> None:
    """Remove an alias."""
    with admin_from(ctx) as client:
        removed = client.remove_alias(alias)
    if json_out:
        print_json(removed)
    else:
        note(f"removed alias '{removed['alias']}'")
