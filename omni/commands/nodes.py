"""``omni nodes``: custom provider nodes, your own OpenAI- or Anthropic-compatible
endpoints (base URL, chat path, headers), addressed as ``<prefix>/<model>``."""

from __future__ import annotations

import sys
from typing import Any

import typer

from omni.commands._output import admin_from, note, print_json, print_table
from omni.commands.provider_ops import parse_headers

app = typer.Typer(help="Custom provider nodes (compatible endpoints).", no_args_is_help=True)

_JSON = typer.Option(False, "--json", help="Print JSON.")
_HEADER = typer.Option(None, "--header", help="Extra header 'Name: value' (repeatable).")


def _given(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


@app.command("list")
def list_(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """List the nodes."""
    with admin_from(ctx) as client:
        nodes = client.list_nodes()
    if json_out:
        print_json(nodes)
        return
    print_table(
        "Provider nodes",
        ["prefix", "format", "base url", "chat path", "models", "enabled"],
        [
            (
                n["id"],
                n["format"],
                n["base_url"],
                n["chat_path"] or "-",
                len(n["models"]),
                "yes" if n["enabled"] else "no",
            )
            for n in nodes
        ],
    )


@app.command("add")
def add(
    ctx: typer.Context,
    prefix: str = typer.Argument(..., help="Its prefix: clients ask for '<prefix>/<model>'."),
    base_url: str = typer.Option(..., "--base-url", help="API root, e.g. http://host:8000/v1."),
    format: str = typer.Option("openai", "--format", help="openai | anthropic."),
    chat_path: str = typer.Option(None, "--chat-path", help="Chat path under the base URL."),
    models_path: str = typer.Option(None, "--models-path", help="Model-list path."),
    header: list[str] = _HEADER,
    api_key: str = typer.Option(None, "--api-key", help="Its key ('-' reads stdin)."),
    api_key_env: str = typer.Option(None, "--api-key-env", help="Variable that holds the key."),
    models: str = typer.Option(None, "--models", help="Comma-separated model ids."),
    proxy: str = typer.Option(None, "--proxy", help="HTTP proxy URL for this node."),
    no_sync: bool = typer.Option(False, "--no-sync", help="Do not read its model list."),
    json_out: bool = _JSON,
) -> None:
    """Add a node."""
    if api_key == "-":
        api_key = sys.stdin.readline().strip()
    fields = _given(
        {
            "format": format,
            "chat_path": chat_path,
            "models_path": models_path,
            "headers": parse_headers(header),
            "api_key": api_key,
            "api_key_env": api_key_env,
            "models": [m.strip() for m in models.split(",") if m.strip()] if models else None,
            "proxy": proxy,
            "sync_models": not no_sync,
        }
    )
    with admin_from(ctx) as client:
        node = client.create_node(prefix, base_url, **fields)
    for warning in node.get("warnings", []):
        note(f"warning: {warning}")
    if json_out:
        print_json(node)
    else:
        note(f"added node '{node['id']}' ({node['format']}, {len(node['models'])} models)")


@app.command("show")
def show(ctx: typer.Context, prefix: str, json_out: bool = _JSON) -> None:
    """Show one node."""
    with admin_from(ctx) as client:
        node = client.get_node(prefix)
    if json_out:
        print_json(node)
        return
    typer.echo(f"{node['id']}  format={node['format']}  base_url={node['base_url']}")
    typer.echo(f"  chat path: {node['chat_path'] or '(default)'}")
    for name, value in node["headers"].items():
        typer.echo(f"  header {name}: {value}")
    for model in node["models"]:
        typer.echo(f"  model {node['id']}/{model}")


@app.command("edit")
def edit(
    ctx: typer.Context,
    prefix: str,
    base_url: str = typer.Option(None, "--base-url", help="New API root."),
    chat_path: str = typer.Option(None, "--chat-path", help="Chat path ('' to reset)."),
    models_path: str = typer.Option(None, "--models-path", help="Model-list path."),
    header: list[str] = _HEADER,
    enabled: bool = typer.Option(None, "--enable/--disable", help="Route to it or not."),
    proxy: str = typer.Option(None, "--proxy", help="HTTP proxy URL ('' to remove)."),
    json_out: bool = _JSON,
) -> None:
    """Change a node."""
    fields = _given(
        {
            "base_url": base_url,
            "chat_path": chat_path,
            "models_path": models_path,
            "headers": parse_headers(header),
            "enabled": enabled,
            "proxy": proxy,
        }
    )
    with admin_from(ctx) as client:
        node = client.edit_node(prefix, **fields)
    if json_out:
        print_json(node)
    else:
        note(f"changed node '{node['id']}'")


@app.command("rm")
def rm(ctx: typer.Context, prefix: str, json_out: bool = _JSON) -> None:
    """Remove a node with its accounts and models."""
    with admin_from(ctx) as client:
        removed = client.remove_node(prefix)
    if json_out:
        print_json(removed)
    else:
        note(f"removed node '{removed['id']}'")
