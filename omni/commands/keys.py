"""``omni keys``: local API keys that clients send to omni (add, list, show, edit, rm).

``omni keys add`` prints the new key alone on stdout, so a script can capture it; it is
shown this once (omni keeps only a hash). Details go to stderr, or all of it with --json.
"""

from __future__ import annotations

from typing import Any

import typer

from omni.commands._output import admin_from, note, print_json, print_table

app = typer.Typer(
    help="Local API keys that clients send to omni (required with REQUIRE_API_KEY=true).",
    no_args_is_help=True,
)

_JSON = typer.Option(False, "--json", help="Print JSON.")
_MODELS_HELP = "Comma-separated models or glob patterns it may use (openai/*, my-combo)."
_SCOPES_HELP = "Comma-separated: chat (the client API), admin (the management API)."
_EXPIRES_HELP = "When it stops working: 30d, 12h, 2w or an ISO date (2026-01-31)."


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def _summary(key: dict[str, Any]) -> str:
    models = ", ".join(key["models"]) or "every model"
    expiry = key["expires_at"] or "never"
    return (
        f"key {key['id']} '{key['name']}' ({key['prefix']}…): scopes {','.join(key['scopes'])}; "
        f"models {models}; expires {expiry}"
    )


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="What the key is for (a client, a person, a CI job)."),
    models: str = typer.Option(None, "--models", help=_MODELS_HELP),
    scopes: str = typer.Option(None, "--scopes", help=_SCOPES_HELP + " [chat]"),
    expires: str = typer.Option(None, "--expires", help=_EXPIRES_HELP),
    json_out: bool = _JSON,
) -> None:
    """Create a key and print it (shown this once)."""
    with admin_from(ctx) as client:
        key = client.create_key(
            name, models=_split(models), scopes=_split(scopes), expires_at=expires
        )
    if json_out:
        print_json(key)
        return
    typer.echo(key["key"])
    note(f"created {_summary(key)} via {client.where}")
    note("store it now: omni keeps only a hash and cannot show it again")


@app.command("list")
def list_(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """List keys (prefix, scopes, models, expiry, status, last use)."""
    with admin_from(ctx) as client:
        keys = client.list_keys()
    if json_out:
        print_json(keys)
        return
    if not keys:
        note("no API keys yet: create one with 'omni keys add NAME'")
        return
    print_table(
        "API keys",
        ["id", "name", "prefix", "scopes", "models", "expires", "status", "last used"],
        [
            (
                k["id"],
                k["name"],
                k["prefix"] + "…",
                ",".join(k["scopes"]),
                ",".join(k["models"]) or "*",
                k["expires_at"] or "never",
                k["status"],
                k["last_used_at"] or "never",
            )
            for k in keys
        ],
    )


@app.command("show")
def show(ctx: typer.Context, key_id: str = typer.Argument(..., help="The key's id."),
         json_out: bool = _JSON) -> None:  # fmt: skip
    """Show one key (never the key itself)."""
    with admin_from(ctx) as client:
        key = client.get_key(key_id)
    if json_out:
        print_json(key)
        return
    typer.echo(_summary(key))
    typer.echo(
        f"  status {key['status']}; created {key['created_at']}; "
        f"last used {key['last_used_at'] or 'never'}"
    )


@app.command("edit")
def edit(
    ctx: typer.Context,
    key_id: str = typer.Argument(..., help="The key's id."),
    name: str = typer.Option(None, "--name", help="A new name."),
    models: str = typer.Option(None, "--models", help=_MODELS_HELP + " '' allows every model."),
    scopes: str = typer.Option(None, "--scopes", help=_SCOPES_HELP),
    expires: str = typer.Option(None, "--expires", help=_EXPIRES_HELP + " 'never' removes it."),
    enabled: bool = typer.Option(None, "--enable/--disable", help="Switch the key on or off."),
    json_out: bool = _JSON,
) -> None:
    """Change a key's name, models, scopes, expiry or whether it is enabled."""
    with admin_from(ctx) as client:
        key = client.edit_key(
            key_id,
            name=name,
            models=_split(models),
            scopes=_split(scopes),
            expires_at=expires,
            enabled=enabled,
        )
    if json_out:
        print_json(key)
    else:
        note(f"updated {_summary(key)}")


@app.command("rm")
def rm(ctx: typer.Context, key_id: str = typer.Argument(..., help="The key's id."),
       json_out: bool = _JSON) -> None:  # fmt: skip
    """Revoke a key: it stops working at once, for good."""
    with admin_from(ctx) as client:
        key = client.revoke_key(key_id)
    if json_out:
        print_json(key)
    else:
        note(f"revoked key {key['id']} '{key['name']}' ({key['prefix']}…)")
