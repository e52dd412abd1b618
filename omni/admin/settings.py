"""Run-time settings: general settings, the IP filter, thinking budget and system prompt.

General settings are one JSON object over the ``settings`` table. Only keys listed in
:data:`GENERAL` are accepted, each checked for its type and range; an unknown key is
refused naming it. A key never set reads as its default. The IP filter, thinking budget
and system prompt are stored under their own keys and have their own endpoints; this
module validates and stores them (the gateway applies them). Every change is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from omni.admin import AdminContext
from omni.admin.ipfilter import SETTING_KEY as IP_FILTER_KEY
from omni.admin.ipfilter import IpRules
from omni.errors import InvalidInputError
from omni.store import audit
from omni.store import backup as backup_store
from omni.store import settings as repo
from omni.store.driver import Connection

THINKING_KEY = "thinking_budget"
SYSTEM_PROMPT_KEY = "system_prompt"
THINKING_MODES = ("passthrough", "auto", "custom", "adaptive")
PROMPT_POSITIONS = ("prefix", "suffix")
MAX_THINKING_BUDGET = 1_000_000
MAX_PROMPT_CHARS = 100_000


def _boolean(key: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise InvalidInputError(f"setting '{key}' must be true or false, not {value!r}")
        return value

    return check


def _integer(key: str, low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInputError(
                f"setting '{key}' must be a whole number from {low} to {high}, not {value!r}"
            )
        return value

    return check


@dataclass(frozen=True, slots=True)
class Known:
    """One general setting: its default, how to check a value, what it is for."""

    default: Any
    check: Callable[[Any], Any]
    help: str


GENERAL: dict[str, Known] = {
    backup_store.SETTING_AUTO: Known(
        True,
        _boolean(backup_store.SETTING_AUTO),
        "back the database up automatically before migrations",
    ),
    backup_store.SETTING_KEEP: Known(
        backup_store.KEEP_DEFAULT,
        _integer(backup_store.SETTING_KEEP, 1, 1000),
        "how many backups to keep in the backup folder",
    ),
    backup_store.SETTING_INTERVAL: Known(
        backup_store.AUTO_INTERVAL_MIN_DEFAULT,
        _integer(backup_store.SETTING_INTERVAL, 0, 10_080),
        "minutes between two automatic backups at least",
    ),
}
"""The general settings ``/api/settings`` accepts; add a row to add one."""


def _object(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"{what} must be a JSON object")
    return data


def check_thinking_budget(data: Any) -> dict[str, Any]:
    """``{"mode": "passthrough"|"auto"|"custom", "budget": int}`` (budget > 0 for custom)."""
    data = _object(data, "the thinking budget")
    unknown = sorted(set(data) - {"mode", "budget"})
    if unknown:
        raise InvalidInputError(f"unknown field {', '.join(unknown)} (known: mode, budget)")
    mode, budget = data.get("mode", "passthrough"), data.get("budget", 0)
    if mode not in THINKING_MODES:
        raise InvalidInputError(f"mode must be one of {', '.join(THINKING_MODES)}, not {mode!r}")
    if isinstance(budget, bool) or not isinstance(budget, int):
        raise InvalidInputError(f"budget must be a whole number of tokens, not {budget!r}")
    if not 0 <= budget <= MAX_THINKING_BUDGET:
        raise InvalidInputError(f"budget must be from 0 to {MAX_THINKING_BUDGET} tokens")
    if mode == "custom" and budget < 1:
        raise InvalidInputError("mode 'custom' needs a budget of at least 1 token")
    return {"mode": mode, "budget": budget}


def check_system_prompt(data: Any) -> dict[str, Any]:
    """``{"enabled": bool, "prompt": str, "position": "prefix"|"suffix"}`` (a non-empty
    prompt when enabled; it goes before or after the client's own system text)."""
    data = _object(data, "the system prompt setting")
    unknown = sorted(set(data) - {"enabled", "prompt", "position"})
    if unknown:
        raise InvalidInputError(
            f"unknown field {', '.join(unknown)} (known: enabled, prompt, position)"
        )
    position = data.get("position", "prefix")
    if position not in PROMPT_POSITIONS:
        raise InvalidInputError(f"position must be 'prefix' or 'suffix', not {position!r}")
    enabled, prompt = data.get("enabled", False), data.get("prompt", "")
    if not isinstance(enabled, bool):
        raise InvalidInputError(f"enabled must be true or false, not {enabled!r}")
    if not isinstance(prompt, str):
        raise InvalidInputError("prompt must be a string")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidInputError(f"prompt is longer than {MAX_PROMPT_CHARS} characters")
    if enabled and not prompt.strip():
        raise InvalidInputError("an enabled system prompt needs some text in 'prompt'")
    return {"enabled": enabled, "prompt": prompt, "position": position}


_DEFAULTS: dict[str, dict[str, Any]] = {
    THINKING_KEY: {"mode": "passthrough", "budget": 0},
    SYSTEM_PROMPT_KEY: {"enabled": False, "prompt": "", "position": "prefix"},
    IP_FILTER_KEY: IpRules().to_json(),
}


def read_ip_rules(conn: Connection) -> IpRules:
    """The stored IP filter (``off`` when never set or unreadable)."""
    stored = repo.get_setting(conn, IP_FILTER_KEY)
    if not isinstance(stored, Mapping):
        return IpRules()
    try:
        return IpRules.parse(stored)
    except InvalidInputError:
        return IpRules()


class SettingsService:
    """Read and change settings; ``actor`` and ``ip`` go into the audit log."""

    def __init__(self, ctx: AdminContext, actor: str = "cli", ip: str | None = None) -> None:
        self.ctx = ctx
        self.actor = actor
        self.ip = ip

    def general(self) -> dict[str, Any]:
        with self.ctx.db.session() as conn:
            stored = repo.all_settings(conn)
        return {key: stored.get(key, known.default) for key, known in GENERAL.items()}

    def update_general(self, changes: Any) -> dict[str, Any]:
        changes = _object(changes, "the settings")
        unknown = sorted(set(changes) - set(GENERAL))
        if unknown:
            raise InvalidInputError(
                f"unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                f"(known: {', '.join(GENERAL)})"
            )
        checked = {key: GENERAL[key].check(value) for key, value in changes.items()}
        with self.ctx.db.transaction() as conn:
            for key, value in checked.items():
                repo.set_setting(conn, key, value)
            self._audit(conn, "settings.change", "general", {"keys": sorted(checked)})
        return self.general()

    def ip_filter(self) -> dict[str, Any]:
        with self.ctx.db.session() as conn:
            return read_ip_rules(conn).to_json()

    def set_ip_filter(self, data: Any) -> dict[str, Any]:
        rules = IpRules.parse(_object(data, "the IP filter"))
        return self._store(IP_FILTER_KEY, rules.to_json())

    def thinking_budget(self) -> dict[str, Any]:
        return self._read(THINKING_KEY, check_thinking_budget)

    def set_thinking_budget(self, data: Any) -> dict[str, Any]:
        merged = {**self.thinking_budget(), **_object(data, "the thinking budget")}
        return self._store(THINKING_KEY, check_thinking_budget(merged))

    def system_prompt(self) -> dict[str, Any]:
        return self._read(SYSTEM_PROMPT_KEY, check_system_prompt)

    def set_system_prompt(self, data: Any) -> dict[str, Any]:
        merged = {**self.system_prompt(), **_object(data, "the system prompt setting")}
        return self._store(SYSTEM_PROMPT_KEY, check_system_prompt(merged))

    def _read(self, key: str, check: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        with self.ctx.db.session() as conn:
            stored = repo.get_setting(conn, key)
        try:
            return check(stored) if stored is not None else dict(_DEFAULTS[key])
        except InvalidInputError:
            return dict(_DEFAULTS[key])

    def _store(self, key: str, value: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.db.transaction() as conn:
            repo.set_setting(conn, key, value)
            self._audit(conn, "settings.change", key.replace("_", "-"), None)
        return value

    def _audit(
        self, conn: Connection, action: str, target: str, detail: dict[str, Any] | None
    ) -> None:
        audit.record(conn, self.actor, action, target=target, ip=self.ip, detail=detail)
