"""``omni route explain`` and ``omni resilience`` without a server, and via the API."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from omni.cli import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_route_explain_lists_targets_in_order(omni_home: Path) -> None:
    for name, key in (("p1", "k1"), ("p2", "k2")):
        code, _, err = _run("providers", "add", name, "--base-url", "http://127.0.0.1:9/v1",
                            "--api-key", key, "--models", "m", "--no-sync")  # fmt: skip
        assert code == 0, err
    _run("providers", "add", "p1", "--base-url", "http://127.0.0.1:9/v1", "--api-key", "k3",
         "--account", "spare", "--models", "m", "--no-sync")  # fmt: skip
    code, _, err = _run("combos", "create", "chain", "p2/m", "p1/m")
    assert code == 0, err

    code, out, _ = _run("route", "explain", "chain", "--json")
    result = json.loads(out)
    assert result["combo"] == "chain"
    assert [(t["provider"], t["account"]) for t in result["targets"]] == [
        ("p2", "default"), ("p1", "default"), ("p1", "spare"),
    ]  # fmt: skip
    assert {t["status"] for t in result["targets"]} == {"ready"}
    assert "k1" not in out and "k3" not in out

    code, out, _ = _run("route", "explain", "p1/m")
    assert code == 0 and "p1" in out
    code, _, err = _run("route", "explain", "nowhere/x")
    assert code == 1 and "unknown model" in err


def test_resilience_without_a_server(omni_home: Path) -> None:
    code, out, _ = _run("resilience", "show", "--json")
    assert code == 0
    assert json.loads(out)["cooldowns"] == []
    code, _, err = _run("resilience", "reset")
    assert code == 0 and "no server is running" in err
