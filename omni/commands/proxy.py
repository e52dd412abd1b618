"""``omni proxy``: the global outbound HTTP proxy for upstream traffic (per provider and
per account: ``omni providers edit NAME [--account A] --proxy URL``)."""

from __future__ import annotations

import typer

from omni.commands._output import admin_from, note, print_json

app = typer.Typer(help="The outbound proxy for upstream requests.", no_args_is_help=True)

_JSON = typer.Option(False, "--json", help="Print JSON.")


@app.command("show")
def show(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """Show the global proxy (password masked)."""
    with admin_from(ctx) as client:
        result = client.get_proxy()
    if json_out:
        print_json(result)
    else:
        typer.echo(result["url"] or "no proxy")


@app.command("set")
def set_(ctx: typer.Context, url: str, json_out: bool = _JSON) -> None:
    """Send upstream requests through this HTTP proxy (http://[user:pass@]host:port)."""
    with admin_from(ctx) as client:
        result = client.set_proxy(url)
    if json_out:
        print_json(result)
    else:
        note(f"proxy set to {result['url']}")


@app.command("clear")
def clear(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """Stop using a global proxy."""
    with admin_from(ctx) as client:
        result = client.set_proxy(None)
    if json_out:
        print_json(result)
    else:
        note("proxy cleared")


@app.command("test")
def test(
    ctx: typer.Context,
    url: str = typer.Option(None, "--url", help="Proxy to test (default: the one set)."),
    target: str = typer.Option(None, "--target", help="URL to fetch through it."),
    json_out: bool = _JSON,
) -> None:
    """Fetch a URL through the proxy and report whether it answered."""
    with admin_from(ctx) as client:
        result = client.test_proxy(url=url, target=target)
    if json_out:
        print_json(result)
    elif result["ok"]:
        note(f"ok: {result['target']} answered HTTP {result['status']} through {result['proxy']}")
    else:
        note(f"failed: {result['error']}")
    if not result["ok"]:
        raise typer.Exit(1)
