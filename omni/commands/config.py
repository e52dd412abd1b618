"""``omni config``: where the config file is, and reading and writing its settings."""

from __future__ import annotations

import typer

from omni.commands._output import print_json

app = typer.Typer(help="Settings in config.toml.", no_args_is_help=True)


@app.command("path")
def path() -> None:
    """Print the config file's path."""
    from omni.config import load_settings

    typer.echo(str(load_settings().paths.config_file))


@app.command("get")
def get(
    key: str = typer.Argument(None, help="section.key, e.g. server.port; all when omitted."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print resolved settings (defaults < file < environment)."""
    from omni.config import FIELDS, get_value, load_settings

    settings = load_settings()
    if key:
        value = get_value(settings, key)
        print_json(value) if json_out else typer.echo("" if value is None else str(value))
        return
    values = {
        f.dotted: ("***" if f.secret and getattr(settings, f.attr) else getattr(settings, f.attr))
        for f in FIELDS
    }
    if json_out:
        print_json(values)
    else:
        for name, value in values.items():
            typer.echo(f"{name} = {value}")


@app.command("set")
def set_(key: str, value: str) -> None:
    """Write one setting to config.toml (comments in the file are kept)."""
    from omni.config import load_settings, set_value

    settings = load_settings()
    stored = set_value(settings.paths.config_file, key, value)
    typer.echo(f"{key} = {stored}", err=True)
