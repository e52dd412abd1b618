"""``omni cache``: the response cache (stats, clear, settings)."""

from __future__ import annotations

import typer

from omni.commands._output import admin_from, note, print_json

app = typer.Typer(help="The response cache of deterministic answers.", no_args_is_help=True)
_JSON = typer.Option(False, "--json", help="Print JSON.")


@app.command("stats")
def stats(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """Entries in memory and in the store, hit rate, idempotency keys."""
    with admin_from(ctx) as client:
        result = client.cache_stats()
    if json_out:
        print_json(result)
        return
    cache, idem = result["semanticCache"], result["idempotency"]
    typer.echo(f"entries: {cache['memorySize']} in memory (max {cache['memoryMaxSize']}), "
               f"{cache['dbSize']} stored; hit rate {cache['hitRate']:.0%}")  # fmt: skip
    exact = result.get("exact")
    if exact:
        typer.echo(f"hits {exact['hits']}, misses {exact['misses']}, "
                   f"saved ${exact['savedUsd']:.4f}; enabled={exact['enabled']}")  # fmt: skip
    typer.echo(f"idempotency keys active: {idem['activeKeys']} (window {idem['windowMs']} ms)")


@app.command("clear")
def clear(ctx: typer.Context) -> None:
    """Forget every cached answer (memory and store)."""
    with admin_from(ctx) as client:
        result = client.clear_cache()
    note(f"cleared {result['cleared']} cached answers")


@app.command("set")
def set_(
    ctx: typer.Context,
    enabled: bool | None = typer.Option(None, "--enabled/--disabled", help="Turn it on or off."),
    ttl: float | None = typer.Option(None, help="Seconds an answer is kept."),
    max_entries: int | None = typer.Option(None, help="Answers kept in memory at most."),
    max_mb: float | None = typer.Option(None, help="Memory for answers, in MiB."),
    json_out: bool = _JSON,
) -> None:
    """Change the cache's settings (only the options given)."""
    fields = {
        k: v
        for k, v in (("enabled", enabled), ("ttl_s", ttl), ("max_entries", max_entries),
                     ("max_mb", max_mb))
        if v is not None
    }  # fmt: skip
    if not fields:
        raise typer.BadParameter("give at least one setting to change")
    with admin_from(ctx) as client:
        result = client.set_cache(**fields)
    if json_out:
        print_json(result)
    else:
        note("cache settings: " + ", ".join(f"{k}={v}" for k, v in result.items()))
