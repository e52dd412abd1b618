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


def test_resilience_set_changes_only_what_is_given(omni_home: Path) -> None:
    code, out, err = _run("resilience", "set", "--max-attempts", "4", "--fallback-model",
                          "openai/gpt-4o-mini", "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out) == {"max_attempts": 4, "fallback_model": "openai/gpt-4o-mini"}
    code, out, err = _run("resilience", "set", "--provider", "openai", "--provider-strategy",
                          "round-robin", "--first-byte-timeout", "45", "--fallback-model", "none",
                          "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out) == {
        "max_attempts": 4,
        "fallback_model": None,
        "providers": {"openai": {"account_strategy": "round-robin", "first_byte_timeout_s": 45.0}},
    }
    code, _, err = _run("resilience", "set", "--account-strategy", "whenever")
    assert code == 1 and "'account_strategy' must be one of fill-first" in err
    code, out, _ = _run("resilience", "show", "--json")
    assert json.loads(out)["settings"]["max_attempts"] == 4


def test_limits_set_show_rm(omni_home: Path) -> None:
    code, _, err = _run("limits", "set", "provider", "openai", "--rpm", "60", "--concurrency", "4")
    assert code == 0, err
    assert "capped provider 'openai': rpm=60, concurrency=4" in err
    code, _, err = _run("limits", "set", "model", "openai/gpt-4o", "--tpm", "100000")
    assert code == 0, err
    code, out, _ = _run("limits", "show", "--json")
    assert json.loads(out) == {
        "providers": {"openai": {"rpm": 60, "concurrency": 4}},
        "models": {"openai/gpt-4o": {"tpm": 100000}},
    }
    code, out, _ = _run("limits", "show")
    assert "openai/gpt-4o" in out and "100000" in out
    code, _, err = _run("limits", "set", "model", "gpt-4o", "--rpm", "1")
    assert code == 1 and "written 'provider/model'" in err
    code, _, err = _run("limits", "set", "cluster", "x", "--rpm", "1")
    assert code == 2 and "scope must be one of provider, model, account" in err
    code, _, err = _run("limits", "rm", "provider", "openai")
    assert code == 0, err
    code, _, err = _run("limits", "rm", "provider", "openai")
    assert code == 2 and "no caps are set for provider 'openai'" in err


def test_logs_on_an_empty_store_and_as_json(omni_home: Path) -> None:
    code, _, err = _run("logs")
    assert code == 0 and "no requests yet" in err
    code, out, _ = _run("logs", "--json", "--failed")
    assert code == 0 and json.loads(out) == []
