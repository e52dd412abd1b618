"""Settings precedence and error messages that name the file, key and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from omni.config import get_value, load_settings, set_value
from omni.errors import ConfigError


def _write(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.toml"
    path.write_text(text, "utf-8")
    return path


def test_embedded_defaults(omni_home: Path) -> None:
    settings = load_settings()
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 20128, 1)
    assert settings.paths.data_dir == omni_home / "data"
    assert settings.paths.database == omni_home / "data" / "omni.sqlite"
    assert not settings.require_api_key


def test_file_then_environment_then_flags(omni_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(
        omni_home, "[server]\nport = 3000\nhost = '127.0.0.2'\n[security]\nrequire_api_key = true\n"
    )
    settings = load_settings()
    assert (settings.port, settings.host, settings.require_api_key) == (3000, "127.0.0.2", True)
    monkeypatch.setenv("PORT", "4000")
    monkeypatch.setenv("REQUIRE_API_KEY", "false")
    assert load_settings().port == 4000
    assert load_settings().require_api_key is False
    monkeypatch.setenv("OMNI_PORT", "4500")
    assert load_settings().port == 4500, "OMNI_PORT wins over OmniRoute's PORT"
    assert load_settings({"port": 5000}).port == 5000


def test_data_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "elsewhere"))
    assert load_settings().paths.database == tmp_path / "elsewhere" / "omni.sqlite"


def test_invalid_toml_names_the_file_and_line(omni_home: Path) -> None:
    path = _write(omni_home, "[server]\nport = = 3\n")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(path) in info.value.message
    assert "line 2" in info.value.message


def test_bad_value_names_file_key_and_problem(omni_home: Path) -> None:
    path = _write(omni_home, "[server]\nport = 'eighty'\n")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.message == f"{path}: [server] port: expected an integer, got 'eighty'"


def test_unknown_key_and_section_are_reported(omni_home: Path) -> None:
    _write(omni_home, "[server]\nprot = 1\n")
    with pytest.raises(ConfigError, match="unknown key 'prot' in \\[server\\]"):
        load_settings()
    _write(omni_home, "[sever]\nport = 1\n")
    with pytest.raises(ConfigError, match="unknown section \\[sever\\]"):
        load_settings()


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "99999")
    with pytest.raises(ConfigError, match="environment variable PORT: expected an integer from"):
        load_settings()


def test_provider_base_url_overrides(omni_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(omni_home, "[providers.openai]\nbase_url = 'http://127.0.0.1:9/v1'\n")
    settings = load_settings()
    assert settings.provider_base_url("openai") == "http://127.0.0.1:9/v1"
    monkeypatch.setenv("OMNI_PROVIDER_OPENAI_BASE_URL", "http://127.0.0.1:10/v1")
    assert settings.provider_base_url("openai") == "http://127.0.0.1:10/v1"
    assert settings.provider_base_url("groq") is None


def test_set_value_keeps_comments_and_validates(omni_home: Path) -> None:
    path = _write(omni_home, "# my settings\n[server]\nport = 3000  # dev port\n")
    assert set_value(path, "server.log_level", "debug") == "debug"
    assert set_value(path, "server.port", "3001") == 3001
    text = path.read_text("utf-8")
    assert "# my settings" in text and "# dev port" in text
    assert get_value(load_settings(), "server.port") == 3001
    with pytest.raises(ConfigError, match="expected an integer"):
        set_value(path, "server.port", "x")
    with pytest.raises(ConfigError, match="unknown setting"):
        set_value(path, "server.nope", "1")
