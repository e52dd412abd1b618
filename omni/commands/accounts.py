"""``omni accounts``: several credentials per provider — list, add, enable, disable,
reorder (priority: lower is tried first) and remove."""

from __future__ import annotations

import sys
from typing import Any

import typer

from omni.commands._output import admin_from, note, print_json, print_table

app = typer.Typer(help="Accounts: several keys per provider, tried in order.",
                  no_args_is_help=True)  # fmt: skip

_JSON = typer.Option(False, "--json", help="Print JSON.")
_PROVIDER = typer.Argument(..., help="The provider.")
_NAME = typer.Argument(..., help="The account's name.")


@app.command("list")
def list_(
    ctx: typer.Context,
    provider: str = typer.Argument(None, help="Only this provider's accounts."),
    json_out: bool = _JSON,
) -> None:
    """List accounts in the order they are tried (never their keys)."""
    with admin_from(ctx) as client:
        accounts = client.list_accounts(provider)
    if json_out:
        print_json(accounts)
        return
    if not accounts:
        note("no accounts yet: add one with 'omni accounts add PROVIDER NAME --api-key …'")
        return
    print_table(
        "Accounts",
        ["provider", "account", "auth", "priority", "enabled", "base url", "proxy"],
        [
            (a["provider"], a["name"], a["auth"], a["priority"],
             "yes" if a["enabled"] else "no", a["base_url"] or "", a["proxy"] or "")
            for a in accounts
        ],
    )  # fmt: skip


@app.command("add")
def add(
    ctx: typer.Context,
    provider: str = _PROVIDER,
    name: str = _NAME,
    api_key: str = typer.Option(None, "--api-key", help="Its API key ('-' reads stdin)."),
    api_key_env: str = typer.Option(
        None, "--api-key-env", help="Read the key from this environment variable at run time."
    ),
    base_url: str = typer.Option(None, "--base-url", help="Its own API root, if different."),
    priority: int = typer.Option(None, "--priority", help="Lower is tried first [0]."),
    json_out: bool = _JSON,
) -> None:
    """Add an account to a provider (the key is stored encrypted)."""
    if api_key == "-":
        api_key = sys.stdin.readline().strip()
    fields: dict[str, Any] = {
        "api_key": api_key, "api_key_env": api_key_env, "base_url": base_url,
        "priority": priority,
    }  # fmt: skip
    with admin_from(ctx) as client:
        account = client.add_account(provider, name, **fields)
    if json_out:
        print_json(account)
    else:
        note(
            f"added account '{account['name']}' to '{account['provider']}' "
            f"({account['auth']}, priority {account['priority']}) via {client.where}"
        )


def _edit(ctx: typer.Context, provider: str, name: str, json_out: bool, **fields: Any) -> None:
    with admin_from(ctx) as client:
        result = client.edit_account(provider, name, **fields)
    account = next(a for a in result["accounts"] if a["name"] == name)
    if json_out:
        print_json({"provider": result["id"], **account})
        return
    state = "enabled" if account["enabled"] else "disabled"
    note(f"account '{name}' of '{result['id']}': {state}, priority {account['priority']}")


@app.command("enable")
def enable(ctx: typer.Context, provider: str = _PROVIDER, name: str = _NAME,
           json_out: bool = _JSON) -> None:  # fmt: skip
    """Route to this account again."""
    _edit(ctx, provider, name, json_out, enabled=True)


@app.command("disable")
def disable(ctx: typer.Context, provider: str = _PROVIDER, name: str = _NAME,
            json_out: bool = _JSON) -> None:  # fmt: skip
    """Stop routing to this account (kept, with its key)."""
    _edit(ctx, provider, name, json_out, enabled=False)


@app.command("priority")
def priority(
    ctx: typer.Context,
    provider: str = _PROVIDER,
    name: str = _NAME,
    value: int = typer.Argument(..., help="Lower is tried first."),
    json_out: bool = _JSON,
) -> None:
    """Set the order accounts are tried in (lower first)."""
    _edit(ctx, provider, name, json_out, priority=value)


@app.command("rm")
def rm(ctx: typer.Context, provider: str = _PROVIDER, name: str = _NAME,
       json_out: bool = _JSON) -> None:  # fmt: skip
    """Remove an account and its key."""
    with admin_from(ctx) as client:
        removed = client.remove_account(provider, name)
    if json_out:
        print_json(removed)
        return
    note(f"removed account '{removed['name']}' of '{removed['provider']}'")
    for warning in removed.get("warnings", []):
        note(f"warning: {warning}")
