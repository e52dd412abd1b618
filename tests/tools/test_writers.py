"""What omni writes into each coding tool's files, read back the way the tool reads it
(JSON, TOML, .env), and how unconfigure takes exactly that out again."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from omni.tools import formats
from omni.tools.formats import ToolFileError
from omni.tools.writers import WRITERS, Places, Target

TARGET = Target("http://127.0.0.1:20128", "sk-omni-KEY", "fake/m1", "fake/small")


def _run(tool: str, tmp_path: Path, texts: dict[str, str | None] | None = None) -> dict:
    writer = WRITERS[tool]
    paths = writer.paths(Places(tmp_path / "home", {}))
    before = {role: (texts or {}).get(role) for role in paths}
    after = writer.configure(paths, before, TARGET)
    return {"paths": paths, "before": before, "after": after, "writer": writer}


def test_claude_env_block_merged_and_the_real_key_taken_out(tmp_path: Path) -> None:
    original = '{"theme": "dark", "env": {"FOO": "1", "ANTHROPIC_API_KEY": "sk-ant-x"}}'
    run = _run("claude", tmp_path, {"settings": original})
    assert run["paths"]["settings"] == tmp_path / "home" / ".claude" / "settings.json"
    data = json.loads(run["after"]["settings"])
    assert data["theme"] == "dark"
    assert data["env"] == {
        "FOO": "1",
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:20128",  # the root: Claude Code adds /v1
        "ANTHROPIC_AUTH_TOKEN": "sk-omni-KEY",
        "ANTHROPIC_MODEL": "fake/m1",
        "ANTHROPIC_DEFAULT_OPUS_MODEL": "fake/m1",
        "ANTHROPIC_DEFAULT_SONNET_MODEL": "fake/m1",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": "fake/small",
    }
    inspected = run["writer"].inspect(run["paths"], run["after"])
    assert inspected == {"url": "http://127.0.0.1:20128", "model": "fake/m1", "key": "sk-omni-KEY"}
    undone = json.loads(run["writer"].unconfigure(run["paths"], run["after"])["settings"])
    assert undone == {"theme": "dark", "env": {"FOO": "1"}}


def test_claude_honours_its_config_dir_variable(tmp_path: Path) -> None:
    places = Places(tmp_path, {"CLAUDE_CONFIG_DIR": str(tmp_path / "elsewhere")})
    assert WRITERS["claude"].paths(places)["settings"] == tmp_path / "elsewhere" / "settings.json"


def test_codex_provider_uses_responses_and_keeps_comments(tmp_path: Path) -> None:
    original = (
        "# my codex settings\n"
        'model = "gpt-5"\n'
        'approval_policy = "on-request"  # keep asking\n\n'
        "[model_providers.other]\n"
        'name = "Other"\nbase_url = "https://other.example/v1"\nwire_api = "responses"\n'
    )
    run = _run("codex", tmp_path, {"config": original})
    text = run["after"]["config"]
    assert "# my codex settings" in text and "# keep asking" in text
    data = tomllib.loads(text)
    assert data["model"] == "fake/m1"
    assert data["model_provider"] == "omni"
    assert data["model_providers"]["other"]["name"] == "Other"
    assert data["model_providers"]["omni"] == {
        "name": "omni",
        "base_url": "http://127.0.0.1:20128/v1",
        "wire_api": "responses",
        "experimental_bearer_token": "sk-omni-KEY",
    }
    undone = tomllib.loads(run["writer"].unconfigure(run["paths"], run["after"])["config"])
    assert "model_provider" not in undone
    assert set(undone["model_providers"]) == {"other"}


def test_codex_home_variable(tmp_path: Path) -> None:
    places = Places(tmp_path, {"CODEX_HOME": str(tmp_path / "cx")})
    assert WRITERS["codex"].paths(places)["config"] == tmp_path / "cx" / "config.toml"


def test_opencode_provider_entry_and_default_model(tmp_path: Path) -> None:
    run = _run("opencode", tmp_path)
    assert run["paths"]["config"] == tmp_path / "home" / ".config" / "opencode" / "opencode.json"
    data = json.loads(run["after"]["config"])
    assert data["provider"]["omni"] == {
        "npm": "@ai-sdk/openai-compatible",
        "name": "omni",
        "options": {"baseURL": "http://127.0.0.1:20128/v1", "apiKey": "sk-omni-KEY"},
        "models": {"fake/m1": {"name": "fake/m1"}, "fake/small": {"name": "fake/small"}},
    }
    assert data["model"] == "omni/fake/m1"
    assert data["small_model"] == "omni/fake/small"
    undone = json.loads(run["writer"].unconfigure(run["paths"], run["after"])["config"])
    assert undone == {"$schema": "https://opencode.ai/config.json"}


def test_opencode_reads_jsonc_with_comments(tmp_path: Path) -> None:
    text = '{\n  // my providers\n  "provider": {"x": {"name": "X"},},\n  "share": "disabled",\n}\n'
    run = _run("opencode", tmp_path, {"config": text})
    data = json.loads(run["after"]["config"])
    assert data["share"] == "disabled" and set(data["provider"]) == {"x", "omni"}


def test_gemini_settings_and_env_file(tmp_path: Path) -> None:
    run = _run("gemini", tmp_path, {"env": "# mine\nOTHER=1\nGEMINI_API_KEY=old\n"})
    settings = json.loads(run["after"]["settings"])
    assert settings["security"]["auth"]["selectedType"] == "gemini-api-key"
    assert settings["model"]["name"] == "fake/m1"
    assert formats.env_values(run["after"]["env"]) == {
        "OTHER": "1",
        "GEMINI_API_KEY": "sk-omni-KEY",
        "GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:20128",
    }
    assert run["after"]["env"].startswith("# mine\n")
    undone = run["writer"].unconfigure(run["paths"], run["after"])
    assert formats.env_values(undone["env"]) == {"OTHER": "1"}


def test_droid_prepends_its_models_and_replaces_older_ones(tmp_path: Path) -> None:
    mine = {"model": "x", "displayName": "Mine", "baseUrl": "https://x", "provider": "openai"}
    stale = {"model": "old", "displayName": "old (omni)", "baseUrl": "http://old/v1"}
    text = json.dumps({"customModels": [stale, mine]})
    run = _run("droid", tmp_path, {"settings": text})
    models = json.loads(run["after"]["settings"])["customModels"]
    assert [m["displayName"] for m in models] == ["fake/m1 (omni)", "fake/small (omni)", "Mine"]
    assert models[0]["baseUrl"] == "http://127.0.0.1:20128/v1"
    assert models[0]["provider"] == "generic-chat-completion-api"
    undone = json.loads(run["writer"].unconfigure(run["paths"], run["after"])["settings"])
    assert undone == {"customModels": [mine]}


def test_openclaw_provider_and_primary_model(tmp_path: Path) -> None:
    run = _run("openclaw", tmp_path, {"config": '{"gateway": {"port": 1}}'})
    data = json.loads(run["after"]["config"])
    assert data["models"]["providers"]["omni"]["api"] == "openai-completions"
    assert data["models"]["providers"]["omni"]["baseUrl"] == "http://127.0.0.1:20128/v1"
    assert data["agents"]["defaults"]["model"]["primary"] == "omni/fake/m1"
    undone = json.loads(run["writer"].unconfigure(run["paths"], run["after"])["config"])
    assert undone == {"gateway": {"port": 1}}


def test_cline_state_and_secret(tmp_path: Path) -> None:
    run = _run("cline", tmp_path)
    state = json.loads(run["after"]["state"])
    assert state["actModeApiProvider"] == state["planModeApiProvider"] == "openai"
    assert state["openAiBaseUrl"] == "http://127.0.0.1:20128/v1"
    assert json.loads(run["after"]["secrets"]) == {"openAiApiKey": "sk-omni-KEY"}


@pytest.mark.parametrize("tool", sorted(WRITERS))
def test_a_broken_file_is_refused_not_overwritten(tool: str, tmp_path: Path) -> None:
    writer = WRITERS[tool]
    paths = writer.paths(Places(tmp_path, {}))
    first = next(iter(paths))
    broken = "{ this is [ not" if paths[first].suffix != ".toml" else "model = = 1\n"
    with pytest.raises(ToolFileError) as caught:
        writer.configure(paths, {role: broken if role == first else None for role in paths},
                         TARGET)  # fmt: skip
    assert str(paths[first]) in caught.value.message and "will not rewrite" in caught.value.message
