"""``omni doctor``: check the installation and say what to fix (exit 1 when a check fails)."""

from __future__ import annotations

import sys
from typing import Any

import typer

from omni.commands._output import print_json

_MARKS = {"ok": ("ok", "green"), "warn": ("warn", "yellow"), "fail": ("FAIL", "red")}


def doctor(
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    fix: bool = typer.Option(False, "--fix", help="Make loose data files private again."),
    timeout: float = typer.Option(
        3.0, "--timeout", min=0.2, max=60, help="Seconds each provider has to answer."
    ),
) -> None:
    """Check config, data permissions, store, key, port, providers and coding tools."""
    from omni.admin.doctor import Doctor

    checks = _run(Doctor(timeout=timeout, fix=fix), show=not json_out)
    failed = [c for c in checks if c.status == "fail"]
    if json_out:
        print_json(
            {
                "ok": not failed,
                "summary": {s: sum(c.status == s for c in checks) for s in _MARKS},
                "checks": [c.as_dict() for c in checks],
            }
        )
    else:
        _print(checks)
    if failed:
        raise typer.Exit(1)


def _run(doctor: Any, show: bool) -> list[Any]:
    """The checks, with a progress bar on a terminal while providers are being reached."""
    if not (show and sys.stderr.isatty()):
        result: list[Any] = doctor.run()
        return result
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("checking", total=None)

        def update(label: str, done: int, total: int) -> None:
            bar.update(task, description=f"checked {label}", completed=done, total=total)

        result = doctor.run(update)
    return result


def _print(checks: list[Any]) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    width = max(len(c.name) for c in checks)
    for check in checks:
        mark, colour = _MARKS[check.status]
        console.print(
            f"[{colour}]{mark:>4}[/{colour}]  {check.name:<{width}}  {escape(check.message)}",
            soft_wrap=True,
        )
        if check.fix and check.status != "ok":
            console.print(f"      {'':<{width}}  [dim]-> {escape(check.fix)}[/dim]", soft_wrap=True)
    counts = {s: sum(c.status == s for c in checks) for s in _MARKS}
    console.print(f"\n{counts['ok']} ok, {counts['warn']} warnings, {counts['fail']} failed")
