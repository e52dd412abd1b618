"""``omni combos`` without a running server (on the store directly)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from omni.cli import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_create_list_show_edit_rm(omni_home: Path) -> None:
    code, _, err = _run("combos", "create", "fast", "openai/gpt-4o-mini", "groq/llama")
    assert code == 0, err
    assert "created combo 'fast' (priority): openai/gpt-4o-mini -> groq/llama" in err
    assert "via local store" in err

    code, out, err = _run("combos", "create", "outer", "fast", "x/y", "--strategy", "p2c", "--json")
    assert code == 0, err
    assert json.loads(out)["steps"] == ["fast", "x/y"]

    code, out, _ = _run("combos", "list", "--json")
    assert [(c["name"], c["strategy"]) for c in json.loads(out)] == [
        ("fast", "priority"),
        ("outer", "p2c"),
    ]
    code, out, _ = _run("combos", "list")
    assert code == 0 and "fast -> x/y" in out

    code, out, _ = _run("combos", "show", "outer")
    assert "strategy=p2c" in out and "  1. fast" in out and "  2. x/y" in out

    code, out, err = _run("combos", "edit", "outer", "--steps", "a/b, c/d", "--json")
    assert code == 0, err
    assert json.loads(out)["steps"] == ["a/b", "c/d"]
    code, _, err = _run("combos", "edit", "outer", "--strategy", "lkgp")
    assert code == 0 and "updated combo 'outer' (lkgp): a/b -> c/d" in err

    code, _, err = _run("combos", "rm", "fast")
    assert code == 0 and "removed combo 'fast'" in err
    code, out, _ = _run("combos", "show", "outer", "--json")
    assert json.loads(out)["strategy"] == "lkgp"


def test_empty_list_says_how_to_start(omni_home: Path) -> None:
    code, out, err = _run("combos", "list")
    assert code == 0 and out == ""
    assert "omni combos create" in err


def test_errors_are_one_line_without_traceback(omni_home: Path) -> None:
    code, out, err = _run("combos", "create", "Bad", "a/b")
    assert code == 1
    assert err.startswith("omni: invalid combo name 'Bad'")
    assert "Traceback" not in out + err
    code, _, err = _run("combos", "create", "c", "a/b", "--strategy", "fastest")
    assert code == 1 and "unknown strategy 'fastest'" in err
    code, _, err = _run("combos", "create", "anthropic", "a/b")
    assert code == 1 and "catalog provider 'anthropic'" in err
    code, _, err = _run("combos", "show", "nope")
    assert code == 1 and "no combo named 'nope'" in err
    code, _, err = _run("combos", "edit", "nope", "--strategy", "random")
    assert code == 1 and "no combo named 'nope'" in err

    _run("combos", "create", "inner", "m/1")
    _run("combos", "create", "outer", "inner")
    code, _, err = _run("combos", "create", "inner", "m/2")
    assert code == 1 and "already exists" in err
    code, _, err = _run("combos", "edit", "inner", "--steps", "outer")
    assert code == 1 and "cycle" in err
    code, _, err = _run("combos", "edit", "inner", "--steps", "a/b,,c/d")
    assert code == 1 and "non-empty" in err
    code, _, err = _run("combos", "edit", "inner")
    assert code == 1 and "nothing to change" in err
    code, _, err = _run("combos", "rm", "inner")
    assert code == 1 and "'inner' is a step of 'outer'" in err
    assert "omni combos edit outer" in err


def test_create_needs_a_target(omni_home: Path) -> None:
    code, _, err = _run("combos", "create", "lonely")
    assert code == 2 and "Missing argument" in err


def test_combo_options_from_the_command_line(omni_home: Path) -> None:
    code, out, err = _run(
        "combos", "create", "tuned", "a/m", "b/m", "--strategy", "weighted", "--retries", "1",
        "--timeout", "20", "--weight", "b/m=5", "--pin", "a/m=work", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["config"] == {
        "retries": 1,
        "timeout_s": 20.0,
        "steps": {"b/m": {"weight": 5}, "a/m": {"account": "work"}},
    }
    code, out, _ = _run("combos", "show", "tuned")
    assert "retries=1" in out and "2. b/m  (weight=5)" in out and "1. a/m  (account=work)" in out

    code, out, err = _run("combos", "edit", "tuned", "--steps", "b/m", "--max-attempts", "2")
    assert code == 0, err
    code, out, _ = _run("combos", "show", "tuned", "--json")
    assert json.loads(out)["config"] == {
        "retries": 1, "timeout_s": 20.0, "max_attempts": 2, "steps": {"b/m": {"weight": 5}},
    }  # fmt: skip

    code, _, err = _run("combos", "edit", "tuned", "--weight", "b/m=lots")
    assert code == 2 and "the weight must be a number" in err
    code, _, err = _run("combos", "edit", "tuned", "--pin", "x/y=acct")
    assert code == 1 and "'x/y' is not one of the combo's steps" in err
