"""``omni providers test|models|edit|validate``: check and change configured providers.

Registered on the ``omni providers`` group (see :mod:`omni.commands.providers`).
"""

from __future__ import annotations

from typing import Any

import typer

from omni.commands._output import admin_from, note, print_json, print_table
from omni.commands.providers import app

_JSON = typer.Option(False, "--json", help="Print JSON.")
_HEADER = typer.Option(None, "--header", help="'Name: value' (repeatable).")
_ACCOUNT = typer.Option(
    None,
    "--account",
    help="Change this account instead (--proxy, --enable/--disable, --base-url, --priority).",
)


def parse_headers(values: list[str] | None) -> dict[str, str] | None:
    """``--header 'Name: value'`` or ``--header Name=value`` options as a mapping."""
    if not values:
        return None
    headers: dict[str, str] = {}
    for item in values:
        sep = ":" if ":" in item and ("=" not in item or item.index(":") < item.index("=")) else "="
        name, found, value = item.partition(sep)
        if not found or not name.strip():
            raise typer.BadParameter(f"expected 'Name: value' or 'Name=value', not {item!r}")
        headers[name.strip()] = value.strip()
    return headers


@app.command("test")
def test(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="The provider to test [every enabled one]."),
    account: str = typer.Option(None, "--account", help="Test this account (default: first)."),
    model: str = typer.Option(None, "--model", help="Model to ask (default: its first)."),
    json_out: bool = _JSON,
) -> None:
    """Send one tiny chat request through the provider (or each) and report how it went."""
    if name is None:
        if account or model:
            raise typer.BadParameter("name the provider to use --account or --model with")
        _test_all(ctx, json_out)
        return
    with admin_from(ctx) as client:
        result = client.test_provider(name, account=account, model=model)
    if json_out:
        print_json(result)
    elif result["ok"]:
        note(
            f"ok: {result['provider']}/{result['model']} answered via account "
            f"'{result['account']}' in {result['latency_ms']:.0f} ms"
        )
    else:
        note(f"failed: {result['error']}")
    if not result["ok"]:
        raise typer.Exit(1)


def _test_all(ctx: typer.Context, json_out: bool) -> None:
    from omni.commands.probes import progress
    from omni.errors import OmniError

    with admin_from(ctx) as client:
        names = [p["id"] for p in client.list_providers() if p["enabled"]]
        results: list[dict[str, Any]] = []
        with progress("testing providers", total=len(names)) as advance:
            for name in names:
                try:
                    results.append(client.test_provider(name))
                except OmniError as exc:
                    failed = {"account": None, "model": None, "latency_ms": None}
                    results.append({"provider": name, "ok": False, "error": exc.message, **failed})
                advance(f"tested {name}")
    if json_out:
        print_json(results)
    else:
        print_table(
            "Provider tests",
            ["provider", "ok", "account", "model", "ms", "error"],
            [
                (r["provider"], "yes" if r["ok"] else "NO", r["account"] or "", r["model"] or "",
                 "" if r["latency_ms"] is None else f"{r['latency_ms']:.0f}", r["error"] or "")
                for r in results
            ],
        )  # fmt: skip
    if not results or not all(r["ok"] for r in results):
        raise typer.Exit(1)


@app.command("models")
def models(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The provider."),
    refresh: bool = typer.Option(False, "--refresh", help="Read the list from the upstream."),
    json_out: bool = _JSON,
) -> None:
    """List the models a provider serves (stored, synced and from the catalog)."""
    with admin_from(ctx) as client:
        result = client.provider_models(name, refresh=refresh)
    for warning in result.get("warnings", []):
        note(f"warning: {warning}")
    if json_out:
        print_json(result)
        return
    print_table(
        f"Models of {result['provider']}",
        ["model", "source", "context", "max output"],
        [(m["id"], m["source"], m["context"], m["max_output"]) for m in result["models"]],
    )


@app.command("edit")
def edit(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The provider to change."),
    account: str = _ACCOUNT,
    base_url: str = typer.Option(None, "--base-url", help="New API root ('' to reset)."),
    header: list[str] = _HEADER,
    enabled: bool = typer.Option(None, "--enable/--disable", help="Route to it or not."),
    proxy: str = typer.Option(None, "--proxy", help="HTTP proxy URL ('' to remove)."),
    chat_path: str = typer.Option(None, "--chat-path", help="Custom chat path ('' to reset)."),
    models_path: str = typer.Option(None, "--models-path", help="Custom model-list path."),
    priority: int = typer.Option(None, "--priority", help="Account priority (lower first)."),
    json_out: bool = _JSON,
) -> None:
    """Change a provider (base URL, headers, enabled, proxy, paths) or one of its accounts."""
    with admin_from(ctx) as client:
        if account:
            fields: dict[str, Any] = {
                "proxy": proxy, "enabled": enabled, "base_url": base_url, "priority": priority,
            }  # fmt: skip
            result = client.edit_account(
                name, account, **{k: v for k, v in fields.items() if v is not None}
            )
        else:
            fields = {
                "base_url": base_url,
                "headers": parse_headers(header),
                "enabled": enabled,
                "proxy": proxy,
                "chat_path": chat_path,
                "models_path": models_path,
            }
            result = client.edit_provider(
                name, **{k: v for k, v in fields.items() if v is not None}
            )
    if json_out:
        print_json(result)
    else:
        what = f"account '{account}' of " if account else ""
        note(f"changed {what}provider '{result['id']}' via {client.where}")


@app.command("validate")
def validate(
    ctx: typer.Context,
    name: str = typer.Argument(None, help="A catalog provider (or leave out with --base-url)."),
    base_url: str = typer.Option(None, "--base-url", help="API root to check."),
    api_key: str = typer.Option(None, "--api-key", help="The key to check ('-': stdin)."),
    format: str = typer.Option(None, "--format", help="Wire format of a custom endpoint."),
    json_out: bool = _JSON,
) -> None:
    """Check a key and base URL against the upstream's model list, before saving them."""
    import sys

    if api_key == "-":
        api_key = sys.stdin.readline().strip()
    with admin_from(ctx) as client:
        result = client.validate_provider(
            provider=name, base_url=base_url, api_key=api_key, format=format
        )
    if json_out:
        print_json(result)
    else:
        note(f"valid: {result['base_url']} lists {len(result['models'])} models")
