"""Output for people (rich tables) and scripts (``--json``), shared by every command.

Data goes to stdout, diagnostics to stderr.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer


def print_json(data: Any) -> None:
    import orjson

    typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console().print(table)


def note(message: str) -> None:
    """A diagnostic line for people (stderr)."""
    typer.echo(message, err=True)


def settings_from(ctx: typer.Context) -> Any:
    from omni.config import load_settings

    return load_settings()


@contextmanager
def admin_from(ctx: typer.Context) -> Iterator[Any]:
    """The admin client for this invocation (``--url``, the local server, or the store)."""
    from omni.client import connect

    url = (ctx.obj or {}).get("url") if ctx.obj else None
    client = connect(settings_from(ctx), url=url)
    try:
        yield client
    finally:
        client.close()
