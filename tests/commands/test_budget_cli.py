"""``omni budget`` and ``omni cache`` on the store directly."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from omni.cli import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_budget_set_list_rm(omni_home: Path) -> None:
    code, _, err = _run("budget", "list")
    assert code == 0 and "no budgets" in err
    code, _, err = _run("keys", "add", "ci")
    assert code == 0, err
    code, out, err = _run("budget", "set", "1", "5", "--period", "daily", "--json")
    assert code == 0, err
    budget = json.loads(out)
    assert (budget["keyId"], budget["keyName"], budget["limit"], budget["spent"]) == (
        1, "ci", 5.0, 0.0,
    )  # fmt: skip
    code, out, _ = _run("budget", "list")
    assert code == 0 and "1 ci" in out and "daily" in out
    code, _, err = _run("budget", "set", "1", "5", "--period", "yearly")
    assert code == 1 and "'period' must be one of daily, weekly, monthly" in err
    code, _, err = _run("budget", "set", "7", "5")
    assert code == 1 and "no API key #7" in err
    assert _run("budget", "rm", "1")[0] == 0
    code, _, err = _run("budget", "rm", "1")
    assert code == 1 and "has no budget" in err


def test_cache_stats_set_clear_without_a_server(omni_home: Path) -> None:
    code, out, err = _run("cache", "stats", "--json")
    assert code == 0, err
    assert json.loads(out)["semanticCache"]["dbSize"] == 0
    code, out, _ = _run("cache", "stats")
    assert "0 stored" in out
    code, out, err = _run("cache", "set", "--disabled", "--ttl", "60", "--json")
    assert code == 0, err
    assert json.loads(out) == {"enabled": False, "ttl_s": 60.0}
    code, _, err = _run("cache", "set", "--ttl", "-5")
    assert code == 1 and "'ttl_s' must be a number above 0" in err
    code, _, err = _run("cache", "set")
    assert code == 2 and "give at least one setting" in err
    code, _, err = _run("cache", "clear")
    assert code == 0 and "cleared 0 cached answers" in err
