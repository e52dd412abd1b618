"""``omni backup``: list, create, restore, export and import database backups.

Every verb works with the server running (through its admin API, which applies a restore
at once) and with it stopped (on the store directly).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from omni.commands._output import admin_from, note, print_json, print_table

app = typer.Typer(
    help="Database backups: list, create, restore, export and import.", no_args_is_help=True
)

_JSON = typer.Option(False, "--json", help="Print JSON.")
_EXPORT_FILE = typer.Argument(
    None, help="Where to write it [omni-export-<time>.sqlite in this folder]."
)
_IMPORT_FILE = typer.Argument(..., help="A .sqlite file from 'omni backup export'.")


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@contextmanager
def _progress(label: str) -> Iterator[Any]:
    """A progress callback drawing a bar on a terminal's stderr; None when not a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    with Progress(
        *Progress.get_default_columns(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@app.command("list")
def list_(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """List backups, newest first."""
    with admin_from(ctx) as client:
        backups = client.list_backups()
    if json_out:
        print_json(backups)
        return
    if not backups:
        note("no backups yet: make one with 'omni backup create'")
        return
    print_table(
        "Backups",
        ["name", "created", "reason", "size", "schema"],
        [
            (b["name"], b["created"], b["reason"] or "", _size(b["size"]), b["schema_version"])
            for b in backups
        ],
    )


@app.command("create")
def create(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """Take a backup now (a consistent snapshot, also while the server runs)."""
    with admin_from(ctx) as client:
        info = client.create_backup()
    if json_out:
        print_json(info)
        return
    note(f"created backup {info['name']} ({_size(info['size'])}) via {client.where}")


@app.command("restore")
def restore(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The backup to restore (see 'omni backup list')."),
    json_out: bool = _JSON,
) -> None:
    """Replace the current data with a backup (the current state is backed up first)."""
    with admin_from(ctx) as client:
        result = client.restore_backup(name)
    if json_out:
        print_json(result)
        return
    note(f"restored {name} via {client.where}")
    note(f"the state before is saved as {result['backup_before']}")


@app.command("export")
def export(
    ctx: typer.Context,
    file: Path = _EXPORT_FILE,
    full: bool = typer.Option(
        False,
        "--all",
        help="A .tar.gz with the database (secrets removed), settings, combos and providers.",
    ),
    force: bool = typer.Option(False, "--force", "-f", help="Overwrite FILE if it exists."),
    json_out: bool = _JSON,
) -> None:
    """Write a consistent copy of the database to a file."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    target = file or Path(
        f"omni-full-backup-{stamp}.tar.gz" if full else f"omni-export-{stamp}.sqlite"
    )
    if target.exists() and not force:
        from omni.errors import InvalidInputError

        raise InvalidInputError(f"{target} already exists", hint="choose another file or --force")
    with admin_from(ctx) as client, _progress(f"exporting to {target.name}") as progress:
        result = client.export_backup(target.resolve(), full=full, progress=progress)
    if json_out:
        print_json(result)
        return
    what = "everything" if full else "the database"
    note(f"exported {what} to {target} ({_size(result['size'])})")


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = _IMPORT_FILE,
    json_out: bool = _JSON,
) -> None:
    """Replace the data with an exported .sqlite file, once it is checked (a corrupt,
    foreign or newer file is refused and nothing changes)."""
    if not file.is_file():
        from omni.errors import InvalidInputError

        raise InvalidInputError(f"{file} is not a file")
    with admin_from(ctx) as client, _progress(f"importing {file.name}") as progress:
        result = client.import_backup(file.resolve(), progress=progress)
    if json_out:
        print_json(result)
        return
    migrated = f", migrated {', '.join(result['migrated'])}" if result.get("migrated") else ""
    note(f"imported {file} via {client.where}{migrated}")
    note(f"the state before is saved as {result['backup_before']}")
