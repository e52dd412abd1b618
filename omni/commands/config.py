"""``omni config``: where the config file is, reading and writing its settings, and
editing it in ``$EDITOR`` (saved only when it is valid)."""

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


def _template() -> str:
    """A new config file: every setting, commented out, with its default."""
    from omni.config import FIELDS

    lines = ["# omni settings; uncomment and change what you need."]
    section = None
    for spec in FIELDS:
        if spec.section != section:
            section = spec.section
            lines += ["", f"# [{section}]"]
        default = '""' if spec.default is None else repr(spec.default).replace("'", '"')
        default = {"True": "true", "False": "false"}.get(default, default)
        lines.append(f"# {spec.key} = {default}    # {spec.help}")
    return "\n".join(lines) + "\n"


def _editor() -> list[str]:
    import os
    import shlex
    import shutil

    chosen = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if chosen:
        return shlex.split(chosen)
    for name in ("nano", "vi"):
        if shutil.which(name):
            return [name]
    from omni.errors import ConfigError

    raise ConfigError("no editor found", hint="set EDITOR, e.g. EDITOR=nano omni config edit")


@app.command("edit")
def edit() -> None:
    """Open config.toml in $EDITOR; it is saved only if it is valid."""
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from omni.config import Settings, check_config_file
    from omni.errors import ConfigError
    from omni.paths import ensure_dir, resolve_paths

    paths = resolve_paths()
    path = paths.config_file
    original = path.read_text("utf-8") if path.exists() else None
    ensure_dir(path.parent)
    fd, name = tempfile.mkstemp(prefix="config-edit-", suffix=".toml", dir=path.parent)
    draft = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(original if original is not None else _template())
        while True:
            done = subprocess.run([*_editor(), str(draft)], check=False)
            if done.returncode != 0:
                raise ConfigError(
                    f"the editor exited with code {done.returncode}; {path} is unchanged"
                )
            text = draft.read_text("utf-8")
            if text == (original if original is not None else _template()):
                typer.echo(f"no changes; {path} is unchanged", err=True)
                return
            try:
                check_config_file(draft)
            except ConfigError as exc:
                typer.echo(f"omni: {exc.message.replace(str(draft), str(path))}", err=True)
                if sys.stdin.isatty() and typer.confirm("Edit it again?", default=True):
                    continue
                raise ConfigError(f"{path} is unchanged (the edit was not valid)") from None
            break
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
        draft.chmod(mode)
        draft.replace(path)
    finally:
        draft.unlink(missing_ok=True)
    typer.echo(f"saved {path}", err=True)
    from omni.process import find_server

    if find_server(Settings(paths=paths)) is not None:
        typer.echo("the running server reads it at start: 'omni restart' to apply it", err=True)
