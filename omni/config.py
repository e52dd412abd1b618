"""Settings: embedded defaults < ``config.toml`` < environment < CLI flags.

``config.toml`` is read with tomllib and written with tomlkit, so comments a user wrote
survive ``omni config set``. Every problem names the file, the key and what is wrong.
The fields are a table (:data:`FIELDS`) so reading, validating, environment overrides and
``omni config get`` all share one description. Providers, accounts, keys and usage live in
the store, not here; ``[providers.<id>]`` only overrides where a provider is reached.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omni.errors import ConfigError
from omni.paths import Paths, resolve_paths

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"expected true or false, got {value!r}")


def _as_int(low: int, high: int) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError(f"expected an integer, got {value!r}")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected an integer, got {value!r}") from None
        if not low <= number <= high:
            raise ValueError(f"expected an integer from {low} to {high}, got {number}")
        return number

    return convert


def _as_seconds(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number of seconds, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a number of seconds, got {value!r}") from None
    if not 0 < number <= 86_400:
        raise ValueError(f"expected seconds between 0 and 86400, got {number}")
    return number


def _as_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _as_level(value: Any) -> str:
    level = _as_str(value).lower()
    if level not in {"debug", "info", "warning", "error"}:
        raise ValueError(f"expected debug, info, warning or error, got {value!r}")
    return level


@dataclass(frozen=True, slots=True)
class Field:
    """One setting: where it lives in the file, which variables override it, how to read it."""

    section: str
    key: str
    attr: str
    default: Any
    convert: Callable[[Any], Any]
    env: tuple[str, ...]
    help: str
    secret: bool = False

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.key}"


FIELDS: tuple[Field, ...] = (
    Field("server", "host", "host", "127.0.0.1", _as_str, ("OMNI_HOST",), "address to listen on"),
    Field("server", "port", "port", 20128, _as_int(1, 65535), ("OMNI_PORT", "PORT"), "TCP port"),
    Field("server", "workers", "workers", 1, _as_int(1, 64), ("OMNI_WORKERS",), "processes"),
    Field("server", "log_level", "log_level", "info", _as_level, ("OMNI_LOG_LEVEL",), "log level"),
    Field(
        "server",
        "max_body_mb",
        "max_body_mb",
        10,
        _as_int(1, 512),
        ("OMNI_MAX_BODY_MB",),
        "largest request body accepted, in MiB",
    ),
    Field(
        "security",
        "require_api_key",
        "require_api_key",
        False,
        _as_bool,
        ("OMNI_REQUIRE_API_KEY", "REQUIRE_API_KEY"),
        "require an omni key on /v1/*",
    ),
    Field(
        "security",
        "initial_password",
        "initial_password",
        None,
        _as_str,
        ("OMNI_INITIAL_PASSWORD", "INITIAL_PASSWORD"),
        "bootstrap admin password",
        secret=True,
    ),
    Field(
        "security",
        "allow_private_urls",
        "allow_private_urls",
        False,
        _as_bool,
        ("OMNI_ALLOW_PRIVATE_URLS",),
        "let provider and node URLs point into private networks (10/8, 192.168/16 …)",
    ),
    Field(
        "upstream",
        "connect_timeout",
        "connect_timeout",
        10.0,
        _as_seconds,
        ("OMNI_CONNECT_TIMEOUT",),
        "seconds to open a connection upstream",
    ),
    Field(
        "upstream",
        "first_byte_timeout",
        "first_byte_timeout",
        120.0,
        _as_seconds,
        ("OMNI_FIRST_BYTE_TIMEOUT",),
        "seconds to wait for the upstream's first byte",
    ),
    Field(
        "upstream",
        "stall_timeout",
        "stall_timeout",
        300.0,
        _as_seconds,
        ("OMNI_STALL_TIMEOUT",),
        "seconds a stream may stay silent",
    ),
)
_BY_DOTTED = {f.dotted: f for f in FIELDS}
# What [providers.<id>] may override: where the API is, and where sign-in happens.
PROVIDER_URL_KEYS = ("base_url", "auth_url", "token_url", "device_url", "exchange_url")
_SECTIONS = {f.section for f in FIELDS} | {"providers"}


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved settings of one omni process. Build with :func:`load_settings`."""

    paths: Paths
    host: str = "127.0.0.1"
    port: int = 20128
    workers: int = 1
    log_level: str = "info"
    max_body_mb: int = 10
    require_api_key: bool = False
    initial_password: str | None = field(default=None, repr=False)
    allow_private_urls: bool = False
    connect_timeout: float = 10.0
    first_byte_timeout: float = 120.0
    stall_timeout: float = 300.0
    provider_overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def max_body_bytes(self) -> int:
        return self.max_body_mb * 1024 * 1024

    def provider_base_url(self, provider_id: str) -> str | None:
        """Base URL override for a provider: environment first, then ``[providers.<id>]``."""
        env_name = f"OMNI_PROVIDER_{provider_id.upper().replace('-', '_')}_BASE_URL"
        from_env = os.environ.get(env_name)
        if from_env:
            return from_env
        return self.provider_overrides.get(provider_id, {}).get("base_url")

    def provider_url(self, provider_id: str, key: str) -> str | None:
        """Any endpoint override of a provider (``auth_url``, ``token_url``, ``device_url``,
        ``exchange_url``, ``base_url``): ``OMNI_PROVIDER_<ID>_<KEY>`` first, then
        ``[providers.<id>]``. Lets tests and enterprise proxies point sign-in elsewhere."""
        env_name = f"OMNI_PROVIDER_{provider_id.upper().replace('-', '_')}_{key.upper()}"
        from_env = os.environ.get(env_name)
        if from_env:
            return from_env
        return self.provider_overrides.get(provider_id, {}).get(key)


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse ``config.toml``; a missing file is an empty config, a broken one a ConfigError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def check_config_file(path: Path) -> dict[str, Any]:
    """Parse and validate a config file; the values it sets (a ConfigError if it is bad)."""
    return _validate_file(path, read_config_file(path))


def _validate_file(path: Path, data: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for section, content in data.items():
        if section not in _SECTIONS:
            known = ", ".join(sorted(_SECTIONS))
            raise ConfigError(f"{path}: unknown section [{section}] (known: {known})")
        if not isinstance(content, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        if section == "providers":
            values["provider_overrides"] = _validate_providers(path, content)
            continue
        for key, value in content.items():
            spec = _BY_DOTTED.get(f"{section}.{key}")
            if spec is None:
                known = ", ".join(f.key for f in FIELDS if f.section == section)
                raise ConfigError(f"{path}: unknown key '{key}' in [{section}] (known: {known})")
            try:
                values[spec.attr] = spec.convert(value)
            except ValueError as exc:
                raise ConfigError(f"{path}: [{section}] {key}: {exc}") from None
    return values


def _validate_providers(path: Path, content: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = {}
    for provider_id, table in content.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [providers.{provider_id}] must be a table")
        entry: dict[str, str] = {}
        for key, value in table.items():
            if key not in PROVIDER_URL_KEYS:
                raise ConfigError(
                    f"{path}: unknown key '{key}' in [providers.{provider_id}] "
                    f"(known: {', '.join(PROVIDER_URL_KEYS)})"
                )
            if not isinstance(value, str) or not value.startswith(("http://", "https://")):
                raise ConfigError(
                    f"{path}: [providers.{provider_id}] {key}: expected an http(s) URL, "
                    f"got {value!r}"
                )
            entry[key] = value
        result[provider_id] = entry
    return result


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for spec in FIELDS:
        for name in spec.env:
            if env.get(name, "") != "":
                try:
                    values[spec.attr] = spec.convert(env[name])
                except ValueError as exc:
                    raise ConfigError(f"environment variable {name}: {exc}") from None
                break
    return values


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    data_dir: str | None = None,
) -> Settings:
    """Resolve settings: defaults < config file < environment < ``overrides`` (CLI flags)."""
    env = os.environ if env is None else env
    paths = resolve_paths(dict(env), data_dir=data_dir)
    values: dict[str, Any] = {f.attr: f.default for f in FIELDS}
    values.update(_validate_file(paths.config_file, read_config_file(paths.config_file)))
    values.update(_from_env(env))
    for attr, value in (overrides or {}).items():
        if value is None:
            continue
        spec = next((f for f in FIELDS if f.attr == attr), None)
        if spec is None:
            raise ConfigError(f"unknown setting {attr!r}")
        try:
            values[attr] = spec.convert(value)
        except ValueError as exc:
            raise ConfigError(f"--{attr.replace('_', '-')}: {exc}") from None
    return Settings(paths=paths, **values)


def get_value(settings: Settings, dotted: str) -> Any:
    """The resolved value of ``section.key`` (what ``omni config get`` prints)."""
    spec = _BY_DOTTED.get(dotted)
    if spec is None:
        raise ConfigError(f"unknown setting {dotted!r} (known: {', '.join(_BY_DOTTED)})")
    return getattr(settings, spec.attr)


def set_value(path: Path, dotted: str, raw: str) -> Any:
    """Validate and write ``section.key = raw`` into the file, keeping comments and order."""
    import tomlkit

    spec = _BY_DOTTED.get(dotted)
    if spec is None:
        raise ConfigError(f"unknown setting {dotted!r} (known: {', '.join(_BY_DOTTED)})")
    try:
        value = spec.convert(raw)
    except ValueError as exc:
        raise ConfigError(f"{dotted}: {exc}") from None
    read_config_file(path)  # refuse to rewrite a file that does not parse
    text = path.read_text("utf-8") if path.exists() else ""
    doc = tomlkit.parse(text)
    table = doc.get(spec.section)
    if table is None:
        table = tomlkit.table()
        doc[spec.section] = table
    table[spec.key] = value
    from omni.paths import ensure_dir

    ensure_dir(path.parent)
    path.write_text(tomlkit.dumps(doc), "utf-8")
    return value
