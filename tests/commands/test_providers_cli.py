"""``omni providers`` and ``omni config`` without a running server (on the store directly)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from omni.cli import app

runner = CliRunner()


def _run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_add_list_show_rm(omni_home: Path) -> None:
    code, out, err = _run(
        "providers",
        "add",
        "local",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--api-key",
        "sk-cli-SECRET",
        "--models",
        "a, b",
        "--no-sync",
    )
    assert code == 0, err
    assert "added account 'default' to provider 'local'" in err
    assert "via local store" in err

    code, out, _ = _run("providers", "list", "--json")
    [provider] = json.loads(out)
    assert provider["id"] == "local"
    assert provider["models"] == ["a", "b"]
    assert provider["accounts"][0]["auth"] == "api_key"
    assert "sk-cli-SECRET" not in out

    code, out, _ = _run("providers", "show", "local")
    assert "model local/a" in out

    code, out, err = _run("providers", "rm", "local")
    assert code == 0 and "removed provider 'local'" in err
    code, out, _ = _run("providers", "list", "--json")
    assert json.loads(out) == []


def test_catalog_provider_and_key_from_stdin(omni_home: Path) -> None:
    code, out, err = _run(
        "providers", "add", "groq", "--api-key", "-", "--no-sync", "--json", stdin="gsk-stdin\n"
    )
    assert code == 0, err
    data = json.loads(out)
    assert (data["id"], data["format"], data["catalog_id"]) == ("groq", "openai", "groq")
    assert data["base_url"] == "https://api.groq.com/openai/v1"


def test_errors_are_one_line_without_traceback(omni_home: Path) -> None:
    code, out, err = _run("providers", "add", "mystery")
    assert code == 1
    assert err.startswith("omni: 'mystery' is not in the catalog, so it needs --base-url")
    assert "Traceback" not in err + out
    code, _, err = _run("providers", "add", "anthropic", "--format", "openai", "--api-key", "k")
    assert code == 1 and "catalog provider speaking 'anthropic'" in err
    code, _, err = _run("providers", "show", "nope")
    assert code == 1 and "no provider named 'nope'" in err


def test_failed_model_sync_is_a_warning(omni_home: Path) -> None:
    from tests.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    code, _, err = _run("providers", "add", "off", "--base-url", url)
    assert code == 0
    assert "warning: could not list models" in err


def test_config_commands(omni_home: Path) -> None:
    code, out, _ = _run("config", "path")
    assert out.strip() == str(omni_home / "config.toml")
    code, _, err = _run("config", "set", "server.port", "3333")
    assert code == 0
    code, out, _ = _run("config", "get", "server.port")
    assert out.strip() == "3333"
    code, out, _ = _run("config", "get", "--json")
    assert json.loads(out)["server.port"] == 3333
    code, _, err = _run("config", "set", "server.port", "nope")
    assert code == 1 and "expected an integer" in err


def test_status_when_nothing_runs(omni_home: Path) -> None:
    code, out, _ = _run("status", "--json")
    assert code == 3
    assert json.loads(out)["running"] is False
    code, _, err = _run("stop")
    assert code == 1 and "no omni server is running" in err
