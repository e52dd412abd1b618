"""``omni combos``: create, list, show, edit and remove combos (named fallback chains)."""

from __future__ import annotations

from typing import Any

import typer

from omni.commands._output import admin_from, note, print_json, print_table

app = typer.Typer(
    help="Combos: a model name that tries several targets in turn.", no_args_is_help=True
)

_JSON = typer.Option(False, "--json", help="Print JSON.")
_TARGETS = typer.Argument(..., help="Models to try, in order (provider/model or another combo).")
_STRATEGY_HELP = (
    "priority | weighted | round-robin | random | strict-random | least-used | "
    "cost-optimized | fill-first | p2c | lkgp | context-optimized"
)


_RETRIES = typer.Option(None, "--retries", help="Extra tries of a step after a 5xx/timeout.")
_TIMEOUT = typer.Option(None, "--timeout", help="Seconds to the first byte, per step.")
_MAX_ATTEMPTS = typer.Option(None, "--max-attempts", help="Targets tried per request at most.")
_WEIGHT = typer.Option(None, "--weight", help="STEP=N: a step's weight (weighted strategy).")
_PIN = typer.Option(None, "--pin", help="STEP=ACCOUNT: send a step to one account only.")


def _chain(combo: dict[str, Any]) -> str:
    return " -> ".join(combo["steps"])


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    pairs = {}
    for value in values or []:
        step, sep, setting = value.rpartition("=")
        if not sep or not step or not setting:
            raise typer.BadParameter(f"write {option} STEP=VALUE, not {value!r}")
        pairs[step] = setting
    return pairs


def _config(
    base: dict[str, Any],
    retries: int | None,
    timeout: float | None,
    max_attempts: int | None,
    weights: list[str] | None,
    pins: list[str] | None,
) -> dict[str, Any] | None:
    """The combo's options with the command line's changes applied (None: no change)."""
    if retries is None and timeout is None and max_attempts is None and not weights and not pins:
        return None
    config = dict(base)
    for key, value in (
        ("retries", retries),
        ("timeout_s", timeout),
        ("max_attempts", max_attempts),
    ):
        if value is not None:
            config[key] = value
    steps: dict[str, dict[str, Any]] = {k: dict(v) for k, v in config.get("steps", {}).items()}
    for step, weight in _pairs(weights, "--weight").items():
        if not (weight.isascii() and weight.isdigit()):
            raise typer.BadParameter(f"--weight {step}={weight}: the weight must be a number")
        steps.setdefault(step, {})["weight"] = int(weight)
    for step, account in _pairs(pins, "--pin").items():
        steps.setdefault(step, {})["account"] = account
    if steps:
        config["steps"] = steps
    return config


@app.command("create")
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The combo's name; clients ask for it as the model."),
    targets: list[str] = _TARGETS,
    strategy: str = typer.Option("priority", "--strategy", help=_STRATEGY_HELP),
    retries: int | None = _RETRIES,
    timeout: float | None = _TIMEOUT,
    max_attempts: int | None = _MAX_ATTEMPTS,
    weight: list[str] | None = _WEIGHT,
    pin: list[str] | None = _PIN,
    json_out: bool = _JSON,
) -> None:
    """Create a combo that tries the targets in order."""
    config = _config({}, retries, timeout, max_attempts, weight, pin)
    with admin_from(ctx) as client:
        combo = client.create_combo(name, list(targets), strategy, config)
    if json_out:
        print_json(combo)
        return
    note(
        f"created combo '{combo['name']}' ({combo['strategy']}): {_chain(combo)} via {client.where}"
    )


@app.command("list")
def list_(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """List combos with their strategy and steps."""
    with admin_from(ctx) as client:
        combos = client.list_combos()
    if json_out:
        print_json(combos)
        return
    if not combos:
        note("no combos yet: create one with 'omni combos create NAME TARGET…'")
        return
    print_table(
        "Combos",
        ["name", "strategy", "steps"],
        [(c["name"], c["strategy"], _chain(c)) for c in combos],
    )


@app.command("show")
def show(ctx: typer.Context, name: str, json_out: bool = _JSON) -> None:
    """Show one combo and its steps in order."""
    with admin_from(ctx) as client:
        combo = client.get_combo(name)
    if json_out:
        print_json(combo)
        return
    typer.echo(f"{combo['name']}  strategy={combo['strategy']}  updated={combo['updated_at']}")
    config = combo.get("config", {})
    general = {k: v for k, v in config.items() if k != "steps"}
    if general:
        typer.echo("  " + "  ".join(f"{k}={v}" for k, v in general.items()))
    for number, step in enumerate(combo["steps"], 1):
        extra = config.get("steps", {}).get(step, {})
        options = "  ".join(f"{k}={v}" for k, v in extra.items())
        typer.echo(f"  {number}. {step}" + (f"  ({options})" if options else ""))


@app.command("edit")
def edit(
    ctx: typer.Context,
    name: str,
    steps: str | None = typer.Option(
        None, "--steps", help="Comma-separated targets replacing the old ones, in order."
    ),
    strategy: str | None = typer.Option(None, "--strategy", help=_STRATEGY_HELP),
    retries: int | None = _RETRIES,
    timeout: float | None = _TIMEOUT,
    max_attempts: int | None = _MAX_ATTEMPTS,
    weight: list[str] | None = _WEIGHT,
    pin: list[str] | None = _PIN,
    json_out: bool = _JSON,
) -> None:
    """Replace a combo's steps, change its strategy or its options."""
    new_steps = [s.strip() for s in steps.split(",")] if steps is not None else None
    with admin_from(ctx) as client:
        current = client.get_combo(name).get("config", {})
        config = _config(current, retries, timeout, max_attempts, weight, pin)
        combo = client.edit_combo(name, steps=new_steps, strategy=strategy, config=config)
    if json_out:
        print_json(combo)
        return
    note(f"updated combo '{combo['name']}' ({combo['strategy']}): {_chain(combo)}")


@app.command("rm")
def rm(ctx: typer.Context, name: str, json_out: bool = _JSON) -> None:
    """Remove a combo (refused while another combo uses it as a step)."""
    with admin_from(ctx) as client:
        removed = client.remove_combo(name)
    if json_out:
        print_json(removed)
    else:
        note(f"removed combo '{removed['name']}'")
