"""``omni models``: what clients can ask for (configured models, combos, aliases), the
bundled catalog, availability right now, and custom models per provider."""

from __future__ import annotations

from typing import Any

import typer

from omni.commands._output import admin_from, note, print_json, print_table

app = typer.Typer(help="Models: configured, catalog, availability, custom.", no_args_is_help=True)

_JSON = typer.Option(False, "--json", help="Print JSON.")
_MODELS = typer.Argument(..., help="provider/model ids to add.")


def _price(entry: dict[str, Any]) -> str:
    price = entry.get("price")
    return f"{price['input']:g} / {price['output']:g}" if price else ""


def _split(model: str) -> tuple[str, str]:
    provider, sep, name = model.partition("/")
    if not sep or not name:
        raise typer.BadParameter(f"expected 'provider/model', not {model!r}")
    return provider, name


@app.command("list")
def list_(
    ctx: typer.Context,
    catalog: bool = typer.Option(False, "--catalog", help="The bundled catalog instead."),
    provider: str = typer.Option(None, "--provider", help="Only this provider."),
    json_out: bool = _JSON,
) -> None:
    """List the models clients can ask for (or, with --catalog, every catalog model)."""
    with admin_from(ctx) as client:
        if catalog:
            providers = client.model_catalog(provider)
            entries = [
                {**m, "id": f"{p['id']}/{m['id']}", "kind": "catalog"}
                for p in providers
                for m in p["models"]
            ]
        else:
            entries = client.list_models()
            if provider:
                entries = [e for e in entries if e.get("provider") == provider]
    if json_out:
        print_json(entries)
        return
    print_table(
        "Model catalog" if catalog else "Models",
        ["model", "kind", "context", "max output", "$ in / out per 1M", "routes to"],
        [
            (
                e["id"],
                e["kind"],
                e.get("context"),
                e.get("max_output"),
                _price(e),
                e.get("target") or " -> ".join(e.get("steps") or []),
            )
            for e in entries
        ],
    )


@app.command("show")
def show(ctx: typer.Context, model: str, json_out: bool = _JSON) -> None:
    """Show one model (configured or from the catalog), combo or alias."""
    with admin_from(ctx) as client:
        entry = client.get_model(model)
    if json_out:
        print_json(entry)
        return
    for key, value in entry.items():
        if value not in (None, [], ""):
            typer.echo(f"{key}: {value}")


@app.command("available")
def available(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """Which configured models can be served right now, and why not."""
    with admin_from(ctx) as client:
        result = client.model_availability()
    if json_out:
        print_json(result)
        return
    print_table(
        f"Availability ({result['available']} usable, {result['unavailable']} not)",
        ["model", "available", "reason"],
        [(m["id"], "yes" if m["available"] else "no", m["reason"]) for m in result["models"]],
    )


@app.command("add")
def add(
    ctx: typer.Context,
    models: list[str] = _MODELS,
    json_out: bool = _JSON,
) -> None:
    """Add custom models to providers (kept when model lists are re-synced)."""
    added: list[dict[str, Any]] = []
    with admin_from(ctx) as client:
        for model in models:
            provider, name = _split(model)
            added += client.add_custom_models(provider, [name])
    if json_out:
        print_json(added)
    else:
        note(f"added {', '.join(m['id'] for m in added)}")


@app.command("rm")
def rm(ctx: typer.Context, model: str, json_out: bool = _JSON) -> None:
    """Remove a stored model from a provider."""
    provider, name = _split(model)
    with admin_from(ctx) as client:
        removed = client.remove_custom_model(provider, name)
    if json_out:
        print_json(removed)
    else:
        note(f"removed {removed['id']}")
