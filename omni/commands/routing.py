"""``omni route explain`` and ``omni resilience show|reset``: why a request goes where."""

from __future__ import annotations

import typer

from omni.commands._output import admin_from, note, print_json, print_table

route_app = typer.Typer(help="How model strings are routed.", no_args_is_help=True)
resilience_app = typer.Typer(help="Resting accounts and open circuits.", no_args_is_help=True)

_JSON = typer.Option(False, "--json", help="Print JSON.")


@route_app.command("explain")
def explain(ctx: typer.Context, model: str, json_out: bool = _JSON) -> None:
    """Show the targets MODEL leads to, in the order they are tried, and their state."""
    with admin_from(ctx) as client:
        result = client.explain_route(model)
    if json_out:
        print_json(result)
        return
    if result["error"]:
        note(f"omni: {result['error']}")
        raise typer.Exit(1)
    title = f"{model} → combo '{result['combo']}'" if result["combo"] else model
    print_table(
        title,
        ["#", "provider", "account", "upstream model", "format", "status"],
        [
            (i, t["provider"], t["account"], t["model"], t["format"], t["status"])
            for i, t in enumerate(result["targets"], 1)
        ],
    )


@resilience_app.command("show")
def show(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """Accounts cooling down and provider circuits that are open."""
    with admin_from(ctx) as client:
        state = client.resilience()
    if json_out:
        print_json(state)
        return
    if not state["cooldowns"] and not state["breakers"]:
        note("nothing is resting: every account and provider is available")
        return
    for item in state["cooldowns"]:
        typer.echo(f"{item['provider']}/{item['account']}: cooling for {item['cooling_s']:.0f} s")
    for provider, breaker in state["breakers"].items():
        typer.echo(f"{provider}: circuit {breaker['state']} ({breaker['failures']} failures)")


@resilience_app.command("reset")
def reset(ctx: typer.Context) -> None:
    """Put every account and provider back in rotation now."""
    with admin_from(ctx) as client:
        result = client.reset_resilience()
    note("reset: every account and provider is back in rotation" if result["reset"]
         else "no server is running: nothing was resting")  # fmt: skip
