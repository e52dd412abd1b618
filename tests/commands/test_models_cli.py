"""``omni aliases|models|nodes|proxy`` and ``omni providers edit`` on the store, without a
server (tests/serve/test_models_cli_server.py runs them through a server)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from omni.cli import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_aliases_on_the_store(omni_home: Path) -> None:
    code, out, err = _run("aliases", "add", "claude-*", "anthropic/claude-*", "--json")
    assert code == 0, err
    assert json.loads(out)["pattern"] is True
    code, _, err = _run("aliases", "add", "fast", "groq/llama-3.3-70b-versatile")
    assert code == 0 and "alias 'fast' -> 'groq/llama-3.3-70b-versatile'" in err
    assert "cannot be routed now" in err, "no groq provider yet: a warning, still saved"
    code, out, _ = _run("aliases", "list", "--json")
    assert [a["alias"] for a in json.loads(out)] == ["claude-*", "fast"]
    code, out, _ = _run("aliases", "list")
    assert "pattern" in out and "exact" in out
    code, _, err = _run("aliases", "rm", "fast")
    assert code == 0 and "removed alias 'fast'" in err
    code, _, err = _run("aliases", "add", "*", "x/y")
    assert code == 1 and err.startswith("omni: the pattern '*' would match every model")


def test_models_catalog_show_custom_and_availability(omni_home: Path) -> None:
    code, out, err = _run("models", "list", "--catalog", "--provider", "openai", "--json")
    assert code == 0, err
    gpt = next(m for m in json.loads(out) if m["id"] == "openai/gpt-4o")
    assert gpt["context"] == 128000 and gpt["price"]["output"] == 10.0
    code, out, _ = _run("models", "show", "anthropic/claude-sonnet-4-5", "--json")
    assert json.loads(out)["kind"] == "catalog"

    _run("providers", "add", "box", "--base-url", "http://127.0.0.1:9/v1", "--no-sync")
    code, _, err = _run("models", "add", "box/m1", "box/m2")
    assert code == 0 and "added box/m1, box/m2" in err
    _run("aliases", "add", "quick", "box/m1")
    code, out, _ = _run("models", "list", "--json")
    assert {m["id"]: m["kind"] for m in json.loads(out)} == {
        "box/m1": "model",
        "box/m2": "model",
        "quick": "alias",
    }
    code, out, _ = _run("models", "available", "--json")
    assert {m["id"]: m["available"] for m in json.loads(out)["models"]} == {
        "box/m1": True,
        "box/m2": True,
    }
    code, _, err = _run("models", "rm", "box/m2")
    assert code == 0 and "removed box/m2" in err
    code, _, err = _run("models", "add", "no-slash")
    assert code == 2 and "provider/model" in err


def test_nodes_edit_and_proxy_on_the_store(omni_home: Path) -> None:
    code, out, err = _run(
        "nodes", "add", "lab", "--base-url", "http://127.0.0.1:9", "--chat-path",
        "/api/v2/chat", "--header", "X-Team: ml", "--models", "m", "--no-sync", "--json",
    )  # fmt: skip
    assert code == 0, err
    node = json.loads(out)
    assert (node["id"], node["chat_path"], node["headers"]) == (
        "lab",
        "/api/v2/chat",
        {"X-Team": "ml"},
    )
    code, out, _ = _run("nodes", "list", "--json")
    assert [n["id"] for n in json.loads(out)] == ["lab"]
    code, out, _ = _run("nodes", "show", "lab")
    assert "chat path: /api/v2/chat" in out and "header X-Team: ml" in out

    code, out, err = _run(
        "providers", "edit", "lab", "--proxy", "http://u:pw-SECRET@127.0.0.1:3128", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["proxy"] == "http://u:***@127.0.0.1:3128"
    assert "pw-SECRET" not in out
    code, out, _ = _run("providers", "edit", "lab", "--account", "default", "--disable", "--json")
    assert json.loads(out)["accounts"][0]["enabled"] is False

    code, _, err = _run("proxy", "set", "http://127.0.0.1:3128")
    assert code == 0 and "proxy set to http://127.0.0.1:3128" in err
    code, out, _ = _run("proxy", "show")
    assert out.strip() == "http://127.0.0.1:3128"
    _run("proxy", "clear")
    code, out, _ = _run("proxy", "show")
    assert out.strip() == "no proxy"

    code, _, err = _run("providers", "add", "evil", "--base-url", "http://169.254.169.254/v1")
    assert code == 1 and "cloud metadata address; omni will not call it" in err
    code, _, err = _run("nodes", "add", "lan", "--base-url", "http://10.0.0.1:8000/v1", "--no-sync")
    assert code == 1 and "private network address" in err
    assert "allow_private_urls" in err, "the hint says how to allow it"
    code, _, err = _run("nodes", "rm", "lab")
    assert code == 0 and "removed node 'lab'" in err
