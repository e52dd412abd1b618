"""``omni evals``: suites of prompts with expected answers, run through omni against a
model or combo (add, list, show, run, rm).

A suite file is JSON: a list of cases, or ``{"description": …, "cases": [...]}``; a case is
``{"name": …, "prompt": …, "system": …, "expected": {"exact"|"contains"|"regex": …,
"ignore_case": true}}``. ``omni evals run`` exits 1 when the pass rate is below
``--min-pass-rate`` (default: every case must pass), so CI can use it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from omni.commands._output import admin_from, note, print_json, print_table

app = typer.Typer(
    help="Evals: prompts with expected answers, run against a model or combo.",
    no_args_is_help=True,
)
_JSON = typer.Option(False, "--json", help="Print JSON.")


def _read_cases(path: str) -> tuple[Any, Any]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
        data = json.loads(text)
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise typer.BadParameter(f"{path} is not valid JSON: {exc}") from None
    if isinstance(data, dict):
        return data.get("cases"), data.get("description")
    return data, None


def _rate(run: dict[str, Any] | None) -> str:
    if not run:
        return "never run"
    return f"{run['passed']}/{run['total']} ({run['pass_rate']:.0%})"


def _print_run(run: dict[str, Any]) -> None:
    print_table(
        f"run {run['id']} against {run['model']}: {_rate(run)}",
        ["#", "case", "result", "latency ms", "detail"],
        [
            (
                r["index"] + 1,
                r["name"],
                "pass" if r["passed"] else "FAIL",
                r["latency_ms"],
                r["error"] or "; ".join(
                    f"{c['check']} {c['value']!r}" for c in r["checks"] if not c["passed"]
                ) or "",
            )
            for r in run["results"]
        ],
    )  # fmt: skip


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The suite's name."),
    model: str = typer.Option(..., "--model", "-m", help="Model, combo or alias to run it on."),
    file: str = typer.Option(..., "--file", "-f", help="JSON file with the cases ('-': stdin)."),
    description: str = typer.Option(None, "--description", help="What the suite checks."),
    json_out: bool = _JSON,
) -> None:
    """Create a suite from a JSON file of cases."""
    cases, described = _read_cases(file)
    with admin_from(ctx) as client:
        suite = client.create_eval(name, model, cases, description or described)
    if json_out:
        print_json(suite)
    else:
        note(f"created eval suite {suite['id']} '{suite['name']}' with {suite['case_count']} "
             f"cases on {suite['model']} via {client.where}")  # fmt: skip


@app.command("list")
def list_(ctx: typer.Context, json_out: bool = _JSON) -> None:
    """List suites with their last pass rate."""
    with admin_from(ctx) as client:
        suites = client.list_evals()
    if json_out:
        print_json(suites)
        return
    if not suites:
        note("no eval suites yet: create one with 'omni evals add NAME --model M --file F'")
        return
    print_table(
        "eval suites",
        ["id", "name", "model", "cases", "last run", "when"],
        [
            (s["id"], s["name"], s["model"], s["case_count"], _rate(s["last_run"]),
             (s["last_run"] or {}).get("finished_at"))
            for s in suites
        ],
    )  # fmt: skip


@app.command("show")
def show(
    ctx: typer.Context,
    suite: str = typer.Argument(..., help="Suite name or id."),
    json_out: bool = _JSON,
) -> None:
    """A suite, its cases and its last results."""
    with admin_from(ctx) as client:
        found = client.get_eval(suite)
    if json_out:
        print_json(found)
        return
    typer.echo(f"{found['name']} (id {found['id']}) on {found['model']}: "
               f"{found['case_count']} cases; last run {_rate(found['last_run'])}")  # fmt: skip
    if found["description"]:
        typer.echo(found["description"])
    if found["last_run"]:
        _print_run(found["last_run"])


@app.command("run")
def run(
    ctx: typer.Context,
    suite: str = typer.Argument(..., help="Suite name or id."),
    model: str = typer.Option(None, "--model", "-m", help="Run on this model instead."),
    min_pass_rate: float = typer.Option(
        1.0, "--min-pass-rate", min=0.0, max=1.0, help="Exit 1 below this rate (0-1)."
    ),
    json_out: bool = _JSON,
) -> None:
    """Run a suite now through omni and store the results."""
    with admin_from(ctx) as client:
        result = client.run_eval(suite, model)
    if json_out:
        print_json(result)
    else:
        _print_run(result)
        note(f"mean latency {result['latency_ms']} ms")
    if result["pass_rate"] < min_pass_rate:
        raise typer.Exit(1)


@app.command("rm")
def remove(ctx: typer.Context, suite: str = typer.Argument(..., help="Suite name or id.")) -> None:
    """Remove a suite and its runs."""
    with admin_from(ctx) as client:
        removed = client.remove_eval(suite)
    note(f"removed eval suite '{removed['name']}'")
