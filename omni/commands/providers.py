"""``omni providers``: add, list, show and remove upstream providers and their accounts."""

from __future__ import annotations

import sys
from typing import Any

import typer

from omni.commands._output import admin_from, note, print_json, print_table

app = typer.Typer(help="Upstream providers and their accounts.", no_args_is_help=True)

_JSON = typer.Option(False, "--json", help="Print JSON.")


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A catalog id (openai, anthropic …) or a new name."),
    base_url: str = typer.Option(None, "--base-url", help="API root, e.g. http://host/v1."),
    api_key: str = typer.Option(
        None, "--api-key", help="The upstream API key ('-' reads it from stdin)."
    ),
    api_key_env: str = typer.Option(
        None, "--api-key-env", help="Read the key from this environment variable at run time."
    ),
    format: str = typer.Option(
        None, "--format", help="openai | responses | anthropic | gemini | ollama [openai]."
    ),
    account: str = typer.Option("default", "--account", help="Account name (several allowed)."),
    models: str = typer.Option(None, "--models", help="Comma-separated model ids it serves."),
    no_sync: bool = typer.Option(False, "--no-sync", help="Do not ask it for its model list."),
    json_out: bool = _JSON,
) -> None:
    """Add a provider account (the key is stored encrypted)."""
    if api_key == "-":
        api_key = sys.stdin.readline().strip()
    fields: dict[str, Any] = {
        "base_url": base_url,
        "api_key": api_key,
        "api_key_env": api_key_env,
        "format": format,
        "account": account,
        "models": [m.strip() for m in models.split(",") if m.strip()] if models else None,
        "sync_models": not no_sync,
    }
    with admin_from(ctx) as client:
        result = client.add_provider(name, **{k: v for k, v in fields.items() if v is not None})
    for warning in result.get("warnings", []):
        note(f"warning: {warning}")
    if json_out:
        print_json(result)
        return
    count = len(result["models"])
    note(
        f"added account '{account}' to provider '{result['id']}' ({result['format']}, "
        f"{count} model{'s' if count != 1 else ''}) via {client.where}"
    )


@app.command("list")
def list_(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """List providers, their accounts and how many models they serve."""
    with admin_from(ctx) as client:
        providers = client.list_providers()
    if json_out:
        print_json(providers)
        return
    if not providers:
        note("no providers yet: add one with 'omni providers add NAME --api-key …'")
        return
    print_table(
        "Providers",
        ["id", "format", "base url", "accounts", "models", "enabled"],
        [
            (
                p["id"],
                p["format"],
                p["base_url"],
                ", ".join(f"{a['name']} ({_auth(a)})" for a in p["accounts"]) or "-",
                len(p["models"]),
                "yes" if p["enabled"] else "no",
            )
            for p in providers
        ],
    )


@app.command("show")
def show(ctx: typer.Context, name: str, json_out: bool = _JSON) -> None:
    """Show one provider with its accounts and models."""
    with admin_from(ctx) as client:
        provider = client.get_provider(name)
    if json_out:
        print_json(provider)
        return
    typer.echo(f"{provider['id']}  format={provider['format']}  base_url={provider['base_url']}")
    for account in provider["accounts"]:
        typer.echo(f"  account {account['name']}: {_auth(account)}")
        if account.get("login_error"):
            typer.echo(f"    {account['login_error']}")
    for model in provider["models"]:
        typer.echo(f"  model {provider['id']}/{model}")


def _auth(account: dict[str, Any]) -> str:
    """How an account authenticates; OAuth accounts say whether they need a new login."""
    if account.get("login") == "needs login":
        return f"{account['auth']}, NEEDS LOGIN"
    if account.get("expires_at"):
        return f"{account['auth']}, token until {account['expires_at']}"
    return str(account["auth"])


@app.command("rm")
def rm(ctx: typer.Context, name: str, json_out: bool = _JSON) -> None:
    """Remove a provider with all its accounts."""
    with admin_from(ctx) as client:
        removed = client.remove_provider(name)
    if json_out:
        print_json(removed)
    else:
        note(f"removed provider '{removed['id']}'")


@app.command("catalog")
def catalog(json_out: bool = _JSON) -> None:
    """List the built-in provider catalog."""
    from omni.providers.catalog import load_catalog

    entries = list(load_catalog().providers.values())
    if json_out:
        print_json(
            [
                {
                    "id": p.id,
                    "name": p.name,
                    "alias": p.alias,
                    "format": p.format,
                    "base_url": p.base_url,
                    "models": [m.id for m in p.models],
                }
                for p in entries
            ]
        )
        return
    print_table(
        "Provider catalog",
        ["id", "name", "format", "base url", "models"],
        [(p.id, p.name, p.format, p.base_url, len(p.models)) for p in entries],
    )
