"""``omni combos test``, ``omni models test`` and ``omni models sync``: try targets with a
tiny real request, refresh model lists; registered on the ``combos`` and ``models``
groups. Long work shows a progress bar on a terminal (stderr)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from omni.commands import combos as combos_cmd
from omni.commands import models as models_cmd
from omni.commands._output import admin_from, note, print_json, print_table

_JSON = typer.Option(False, "--json", help="Print JSON.")
_PROVIDERS = typer.Argument(None, help="Providers to refresh [all enabled].")


@contextmanager
def progress(label: str, total: int | None = None) -> Iterator[Any]:
    """A callable ``advance(description)``; draws a bar only on a terminal."""
    if not sys.stderr.isatty():
        yield lambda description=None: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)

        def advance(description: str | None = None) -> None:
            bar.update(task, advance=1, description=description or label)

        yield advance


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


@combos_cmd.app.command("test")
def combo_test(ctx: typer.Context, name: str, json_out: bool = _JSON) -> None:
    """Send a tiny real request through each step of a combo and report each."""
    with admin_from(ctx) as client:
        combo = client.get_combo(name)
        with progress(f"testing the {len(combo['steps'])} step(s) of {name}"):
            result = client.test_combo(name)
    if json_out:
        print_json(result)
    else:
        print_table(
            f"Combo {result['combo']} ({result['strategy']}): "
            f"{result['working']} of {len(result['steps'])} steps work",
            ["step", "via", "ok", "served by", "account", "ms", "error"],
            [
                (s["step"], s["via"] or "", "yes" if s["ok"] else "NO", s["served_by"] or "",
                 s["account"] or "", _ms(s["latency_ms"]), s["error"] or "")
                for s in result["steps"]
            ],
        )  # fmt: skip
    if not result["ok"]:
        raise typer.Exit(1)


@models_cmd.app.command("test")
def model_test(ctx: typer.Context, model: str, json_out: bool = _JSON) -> None:
    """Send a tiny real request to a model, routed as the gateway would, and report it."""
    with admin_from(ctx) as client, progress(f"asking {model}"):
        result = client.test_model(model)
    if json_out:
        print_json(result)
    elif result["ok"]:
        tries = len(result["attempts"])
        extra = f" after {tries - 1} failed tr{'y' if tries == 2 else 'ies'}" if tries > 1 else ""
        note(
            f"ok: {model} answered via {result['served_by']} (account '{result['account']}') "
            f"in {result['latency_ms']:.0f} ms{extra}"
        )
    else:
        note(f"failed: {model}: {result['error']}")
    if not result["ok"]:
        raise typer.Exit(1)


@models_cmd.app.command("sync")
def sync(
    ctx: typer.Context,
    providers: list[str] = _PROVIDERS,
    json_out: bool = _JSON,
) -> None:
    """Read the model lists of providers again from their upstreams."""
    with admin_from(ctx) as client:
        names = providers or [p["id"] for p in client.list_providers() if p["enabled"]]
        results = []
        with progress("syncing model lists", total=len(names)) as advance:
            for name in names:
                found = client.provider_models(name, refresh=True)
                results.append(
                    {
                        "provider": found["provider"],
                        "models": len(found["models"]),
                        "synced": sum(m["source"] == "sync" for m in found["models"]),
                        "warnings": found.get("warnings", []),
                    }
                )
                advance(f"synced {name}")
    if json_out:
        print_json(results)
    else:
        print_table(
            "Model lists",
            ["provider", "models", "from upstream", "problem"],
            [(r["provider"], r["models"], r["synced"], "; ".join(r["warnings"])) for r in results],
        )
    if any(r["warnings"] for r in results):
        raise typer.Exit(1)
