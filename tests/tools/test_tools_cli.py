"""``omni tools setup|reset|list`` (and ``omni setup``) on an isolated home folder:
the files each tool reads, the backup, ``--dry-run`` writing nothing, and the undo
putting back exactly the bytes that were there."""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omni.cli import app
from tests.tools.conftest import fake_tool

runner = CliRunner()


def _run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with a hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


CLAUDE_ORIGINAL = (
    '{\n    "theme": "dark",\n    "env": {"FOO": "1", "ANTHROPIC_API_KEY": "sk-ant-SECRET-9"}\n}'
)


def test_claude_setup_backup_and_byte_identical_undo(home: Path, omni_home: Path) -> None:
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(CLAUDE_ORIGINAL)
    settings.chmod(0o640)

    code, out, err = _run("tools", "setup", "claude", "--model", "fake/m1")
    assert code == 0, err
    data = json.loads(settings.read_text())
    assert data["env"]["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:20128"
    assert data["env"]["ANTHROPIC_MODEL"] == "fake/m1"
    assert "ANTHROPIC_API_KEY" not in data["env"] and data["theme"] == "dark"
    assert settings.stat().st_mode & 0o777 == 0o640, "an existing file keeps its mode"
    assert "undo with 'omni tools reset claude'" in err
    assert "sk-ant-SECRET-9" not in out + err
    backups = list((omni_home / "data" / "tool-backups" / "claude").iterdir())
    assert len(backups) == 1 and (backups[0] / "0").read_text() == CLAUDE_ORIGINAL

    code, _, err = _run("tools", "setup", "claude", "--model", "fake/m1")
    assert code == 0 and "nothing changed" in err

    code, _, err = _run("tools", "reset", "claude")
    assert code == 0 and "restored claude's files" in err, err
    assert settings.read_text() == CLAUDE_ORIGINAL
    assert settings.stat().st_mode & 0o777 == 0o640
    code, _, err = _run("tools", "reset", "claude")
    assert code == 0 and "nothing to undo" in err


def test_dry_run_writes_nothing_and_masks_secrets(home: Path, omni_home: Path) -> None:
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(CLAUDE_ORIGINAL)
    before = _snapshot(home)

    code, out, err = _run("tools", "setup", "claude", "--dry-run", "--key", "sk-mine-SECRET")
    assert code == 0, err
    assert out.startswith(f"--- {settings}\n+++ {settings}\n")
    assert '+    "ANTHROPIC_BASE_URL": "http://127.0.0.1:20128",' in out
    assert '"ANTHROPIC_AUTH_TOKEN": "***"' in out
    assert "sk-mine-SECRET" not in out and "sk-ant-SECRET-9" not in out
    assert "dry run: nothing was written" in err
    assert _snapshot(home) == before
    assert not (omni_home / "data" / "tool-backups").exists()


def test_codex_new_file_is_removed_again_by_undo(home: Path, omni_home: Path) -> None:
    code, _, err = _run("setup", "codex", "--model", "fake/m1", "--json")
    assert code == 0, err
    config = home / ".codex" / "config.toml"
    data = tomllib.loads(config.read_text())
    assert data["model_provider"] == "omni" and data["model"] == "fake/m1"
    assert data["model_providers"]["omni"]["wire_api"] == "responses"
    assert data["model_providers"]["omni"]["base_url"] == "http://127.0.0.1:20128/v1"
    assert config.stat().st_mode & 0o777 == 0o600, "a new file holding a key is private"

    code, out, err = _run("setup", "codex", "--undo", "--json")
    assert code == 0, err
    assert json.loads(out)["mode"] == "restored"
    assert not config.exists() and not config.parent.exists(), "setup made them; undo removes"


def test_codex_comments_survive_and_two_setups_undo_to_the_original(
    home: Path, omni_home: Path
) -> None:
    config = home / ".codex" / "config.toml"
    config.parent.mkdir()
    original = '# mine\nmodel = "gpt-5"  # my default\n\n[features]\nweb_search = true\n'
    config.write_text(original)
    assert _run("tools", "setup", "codex", "--model", "fake/m1")[0] == 0
    text = config.read_text()
    assert "# mine" in text and "# my default" in text
    assert _run("tools", "setup", "codex", "--model", "fake/m2")[0] == 0
    assert tomllib.loads(config.read_text())["model"] == "fake/m2"
    code, _, err = _run("tools", "reset", "codex")
    assert code == 0, err
    assert config.read_text() == original


def test_undo_keeps_edits_made_after_setup(home: Path, omni_home: Path) -> None:
    assert _run("tools", "setup", "claude")[0] == 0
    settings = home / ".claude" / "settings.json"
    data = json.loads(settings.read_text())
    data["permissions"] = {"allow": ["Bash(ls)"]}
    settings.write_text(json.dumps(data))

    code, _, err = _run("tools", "reset", "claude")
    assert code == 0 and "took out omni's entries and kept the rest" in err
    assert json.loads(settings.read_text()) == {"permissions": {"allow": ["Bash(ls)"]}}


def test_opencode_gemini_droid_openclaw_cline(home: Path, omni_home: Path) -> None:
    for tool in ("opencode", "gemini", "droid", "openclaw", "cline"):
        code, _, err = _run("tools", "setup", tool, "--model", "fake/m1")
        assert code == 0, (tool, err)
    opencode = json.loads((home / ".config" / "opencode" / "opencode.json").read_text())
    assert opencode["model"] == "omni/fake/m1"
    assert (
        "GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:20128" in (home / ".gemini" / ".env").read_text()
    )
    droid = json.loads((home / ".factory" / "settings.json").read_text())
    assert droid["customModels"][0]["model"] == "fake/m1"
    openclaw = json.loads((home / ".openclaw" / "openclaw.json").read_text())
    assert openclaw["agents"]["defaults"]["model"]["primary"] == "omni/fake/m1"
    cline = json.loads((home / ".cline" / "data" / "globalState.json").read_text())
    assert cline["openAiModelId"] == "fake/m1"

    code, out, _ = _run("tools", "list", "--no-check", "--json")
    pointing = {t["tool"]: (t.get("configured") or {}).get("url") for t in json.loads(out)}
    assert pointing == {
        "claude": None, "codex": None, "cursor": None,
        **dict.fromkeys(("opencode", "gemini", "droid", "openclaw", "cline"),
                        "http://127.0.0.1:20128"),
    }  # fmt: skip
    for tool in ("opencode", "gemini", "droid", "openclaw", "cline"):
        assert _run("tools", "reset", tool)[0] == 0
    assert [p for p in home.rglob("*") if p.is_file()] == [], "every file setup made is gone"


def test_keys_enforced_setup_creates_reuses_and_revokes_a_key(
    home: Path, omni_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMNI_REQUIRE_API_KEY", "true")
    code, out, err = _run("tools", "setup", "claude", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["key"] == "new"
    token = json.loads((home / ".claude" / "settings.json").read_text())["env"][
        "ANTHROPIC_AUTH_TOKEN"
    ]
    assert token.startswith("sk-") and token not in out + err, "the key is never printed"
    code, out, _ = _run("keys", "list", "--json")
    [key] = json.loads(out)
    assert key["name"] == "claude (omni tools setup)" and key["prefix"] == token[:11]

    code, out, _ = _run("tools", "setup", "claude", "--model", "fake/m1", "--json")
    assert json.loads(out)["key"] == "kept"
    assert len(json.loads(_run("keys", "list", "--json")[1])) == 1, "no second key"

    code, _, err = _run("tools", "reset", "claude")
    assert code == 0 and f"revoked the omni key(s) setup created: {key['id']}" in err
    [after] = json.loads(_run("keys", "list", "--json")[1])
    assert after["status"] == "revoked"


def test_usage_errors_and_broken_files(home: Path, omni_home: Path) -> None:
    code, _, err = _run("tools", "setup", "codex")
    assert code == 2 and "--model" in err
    code, _, err = _run("tools", "setup", "notepad")
    assert code == 2 and "choose one of" in err
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"env": {')
    code, _, err = _run("tools", "setup", "claude")
    assert code == 1
    assert err.startswith(f"omni: {settings} is not valid JSON")
    assert settings.read_text() == '{"env": {', "a file omni cannot read is left alone"


def test_cursor_gets_a_guide_and_no_file(home: Path, omni_home: Path) -> None:
    code, out, err = _run("tools", "setup", "cursor", "--model", "fake/m1")
    assert code == 0, err
    assert "Override OpenAI Base URL" in out and "http://127.0.0.1:20128/v1" in out
    assert [p for p in home.rglob("*") if p.is_file()] == []


def test_list_finds_fake_tools_and_whether_they_run(
    home: Path, omni_home: Path, bin_dir: Path
) -> None:
    fake_tool(bin_dir, "claude", 'echo "2.1.197 (Claude Code)"')
    fake_tool(bin_dir, "codex", "exit 3")
    code, out, err = _run("tools", "list", "--json")
    assert code == 0, err
    tools = {t["tool"]: t for t in json.loads(out)}
    assert tools["claude"] | {"files": None, "configured": None, "error": None} == {
        "tool": "claude", "name": "Claude Code", "installed": True, "runnable": True,
        "command": "claude", "commandPath": str(bin_dir / "claude"), "runtimeMode": "auto",
        "reason": None, "version": "2.1.197 (Claude Code)", "files": None, "configured": None,
        "error": None,
    }  # fmt: skip
    assert (tools["codex"]["installed"], tools["codex"]["runnable"]) == (True, False)
    assert tools["codex"]["reason"] == "healthcheck_failed"
    assert (tools["gemini"]["installed"], tools["gemini"]["reason"]) == (False, "not_found")


def test_launch_points_the_tool_at_omni_without_files(
    home: Path, omni_home: Path, bin_dir: Path
) -> None:
    import subprocess
    import sys

    fake_tool(
        bin_dir, "claude", 'echo "$ANTHROPIC_BASE_URL|$ANTHROPIC_AUTH_TOKEN|$ANTHROPIC_MODEL|$*"'
    )
    fake_tool(bin_dir, "codex", 'echo "$OMNI_API_KEY|$*"')
    argv = [sys.executable, "-m", "omni", "tools", "launch"]
    done = subprocess.run(
        [*argv, "claude", "--model", "fake/m1", "--", "-p", "hi"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "http://127.0.0.1:20128|omni-local|fake/m1|-p hi"
    done = subprocess.run(
        [*argv, "codex", "--key", "sk-given", "exec", "hi"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    key, args = done.stdout.strip().split("|")
    assert key == "sk-given"
    assert 'model_providers.omni.base_url="http://127.0.0.1:20128/v1"' in args
    assert 'model_providers.omni.wire_api="responses"' in args and args.endswith("exec hi")
    assert [p for p in home.rglob("*") if p.is_file()] == []


def test_doctor_reports_tools_and_one_pointing_elsewhere(
    home: Path, omni_home: Path, bin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import free_port

    monkeypatch.setenv("OMNI_PORT", str(free_port()))
    for name in ("claude", "codex"):
        fake_tool(bin_dir, name, "echo 1.0")
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"env": {"ANTHROPIC_BASE_URL": "http://10.9.9.9:9999"}}')
    assert _run("tools", "setup", "codex", "--model", "fake/m1")[0] == 0

    result = runner.invoke(app, ["doctor", "--json"])
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["coding tools"]["status"] == "ok"
    assert checks["coding tools"]["message"] == (
        "set up for omni: codex; not set up: claude ('omni tools setup TOOL'); "
        "not found: opencode, gemini"
    )
    assert checks["tool claude"]["status"] == "warn"
    assert "points at http://10.9.9.9:9999, not at this omni" in checks["tool claude"]["message"]
