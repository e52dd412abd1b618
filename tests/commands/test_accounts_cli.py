"""``omni accounts`` on the store (no server): several accounts per provider, the order
they are tried in, switching them off and removing them; keys never shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from omni.cli import app

runner = CliRunner()


def _run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_accounts_lifecycle(add_provider: Callable[..., Any], omni_home: Path) -> None:
    add_provider("box", base_url="http://127.0.0.1:9/v1", api_key="sk-first", sync_models=False)
    code, _, err = _run("accounts", "add", "box", "spare", "--api-key", "-", "--priority", "5",
                        stdin="sk-SPARE-SECRET\n")  # fmt: skip
    assert code == 0 and "added account 'spare' to 'box' (api_key, priority 5)" in err, err
    code, _, err = _run("accounts", "add", "box", "envy", "--api-key-env", "BOX_KEY")
    assert code == 0, err

    code, out, _ = _run("accounts", "list", "box", "--json")
    accounts = json.loads(out)
    assert [(a["name"], a["priority"]) for a in accounts] == [
        ("default", 0), ("envy", 0), ("spare", 5),
    ]  # fmt: skip
    assert accounts[1]["auth"] == "env:BOX_KEY" and accounts[1]["env_set"] is False
    assert "sk-SPARE-SECRET" not in out and "sk-first" not in out

    code, out, _ = _run("accounts", "priority", "box", "default", "10", "--json")
    assert code == 0 and json.loads(out)["priority"] == 10
    code, _, err = _run("accounts", "disable", "box", "envy")
    assert code == 0 and "account 'envy' of 'box': disabled, priority 0" in err
    code, out, _ = _run("accounts", "list")
    assert "spare" in out and "no" in out
    code, out, _ = _run("route", "explain", "box/m1", "--json")
    assert [t["account"] for t in json.loads(out)["targets"]] == ["spare", "default"]
    code, _, err = _run("accounts", "enable", "box", "envy")
    assert code == 0 and "enabled" in err
    code, out, _ = _run("route", "explain", "box/m1", "--json")
    assert [t["account"] for t in json.loads(out)["targets"]] == ["envy", "spare", "default"]

    code, _, err = _run("accounts", "add", "box", "spare", "--api-key", "x")
    assert code == 1 and "already has an account named 'spare'" in err
    code, _, err = _run("accounts", "add", "nobox", "a", "--api-key", "x")
    assert code == 1 and "no provider named 'nobox'" in err
    code, _, err = _run("accounts", "rm", "box", "ghost")
    assert code == 1 and "has no account named 'ghost'" in err
    code, _, err = _run("accounts", "priority", "box", "spare")
    assert code == 2

    for name in ("spare", "envy"):
        assert _run("accounts", "rm", "box", name)[0] == 0
    code, _, err = _run("accounts", "rm", "box", "default")
    assert code == 0 and "has no account left" in err
    code, _, err = _run("accounts", "list", "box")
    assert "no accounts yet" in err
