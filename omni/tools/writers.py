"""What omni writes into each coding tool's own config files, and how it takes it out.

One :class:`Writer` per tool, pure over the files' text: ``configure`` returns the new
text of each file, ``unconfigure`` removes exactly what ``configure`` adds (used when the
user edited the files after setup, so a byte-for-byte restore would lose their edits), and
``inspect`` says whether (and where) a tool points at omni. Paths follow each tool's own
rules (``CLAUDE_CONFIG_DIR``, ``CODEX_HOME``, ``XDG_CONFIG_HOME``, ``GEMINI_CLI_HOME``);
``CLI_CONFIG_HOME`` replaces the home folder for all of them.

- Claude Code: ``~/.claude/settings.json`` ``env``: ``ANTHROPIC_BASE_URL`` (the server
  root, no ``/v1``), ``ANTHROPIC_AUTH_TOKEN``, and with a model ``ANTHROPIC_MODEL`` and
  the ``ANTHROPIC_DEFAULT_{OPUS,SONNET,HAIKU}_MODEL`` defaults; ``ANTHROPIC_API_KEY`` is
  taken out (it would be sent to omni instead of the token).
- Codex: ``~/.codex/config.toml`` ``model_provider = "omni"`` and
  ``[model_providers.omni]`` with ``wire_api = "responses"`` (Codex refuses ``chat``)
  and the key as the provider's bearer token, so a ChatGPT login in ``auth.json`` is
  never touched; comments in the file survive (tomlkit).
- opencode: ``opencode.json`` in its config folder: ``provider.omni`` (OpenAI-compatible)
  with the models and ``model = "omni/<model>"``.
- Gemini CLI: ``~/.gemini/settings.json`` (API-key auth, ``model.name``) and
  ``~/.gemini/.env`` (``GEMINI_API_KEY``, ``GOOGLE_GEMINI_BASE_URL``).
- Factory Droid: ``~/.factory/settings.json`` ``customModels`` entries named "… (omni)".
- OpenClaw: ``~/.openclaw/openclaw.json`` ``models.providers.omni`` and the default
  agent model ``omni/<model>``.
- Cline CLI: ``~/.cline/data/globalState.json`` (OpenAI-compatible provider for act and
  plan modes) and ``secrets.json`` (``openAiApiKey``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omni.tools import formats as fmt

Texts = dict[str, str | None]
"""File text per role ('settings', 'config', 'env' …); None: the file does not exist."""

PROVIDER_ID = "omni"
DROID_SUFFIX = " (omni)"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a tool should send its requests and with what."""

    url: str  # omni's root URL, without /v1
    key: str
    model: str | None = None
    small_model: str | None = None
    models: tuple[str, ...] = ()

    @property
    def v1(self) -> str:
        return self.url.rstrip("/") + "/v1"

    def all_models(self) -> list[str]:
        chosen = [m for m in (self.model, self.small_model) if m]
        return list(dict.fromkeys([*chosen, *self.models]))


@dataclass(frozen=True, slots=True)
class Places:
    """The home folder and the environment the tools' paths are resolved from."""

    home: Path
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def current(cls, env: Mapping[str, str] | None = None) -> Places:
        env = dict(os.environ) if env is None else dict(env)
        home = env.get("CLI_CONFIG_HOME") or env.get("HOME") or str(Path.home())
        return cls(Path(home).expanduser(), env)

    def folder(self, variable: str | None, *default: str) -> Path:
        chosen = self.env.get(variable, "") if variable else ""
        return Path(chosen).expanduser() if chosen else self.home.joinpath(*default)


def _root(url: str | None) -> str | None:
    if not url:
        return None
    url = url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


class Writer:
    """One tool's files and the change that points it at omni."""

    id = ""
    needs_model = True

    def paths(self, places: Places) -> dict[str, Path]:
        raise NotImplementedError

    def configure(self, paths: dict[str, Path], texts: Texts, target: Target) -> Texts:
        raise NotImplementedError

    def unconfigure(self, paths: dict[str, Path], texts: Texts) -> Texts:
        raise NotImplementedError

    def inspect(self, paths: dict[str, Path], texts: Texts) -> dict[str, Any] | None:
        """``{"url", "model", "key"}`` when the tool is set up for omni, else None (the key
        is for reuse by a new setup; never shown)."""
        raise NotImplementedError


_CLAUDE_MODELS = (
    "ANTHROPIC_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
)
_CLAUDE_KEYS = ("ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", *_CLAUDE_MODELS)


class Claude(Writer):
    id = "claude"
    needs_model = False

    def paths(self, places: Places) -> dict[str, Path]:
        return {"settings": places.folder("CLAUDE_CONFIG_DIR", ".claude") / "settings.json"}

    def configure(self, paths: dict[str, Path], texts: Texts, target: Target) -> Texts:
        data = fmt.load_json(paths["settings"], texts.get("settings"))
        env = fmt.table(data, "env", paths["settings"])
        env.pop("ANTHROPIC_API_KEY", None)
        env["ANTHROPIC_BASE_URL"] = target.url
        env["ANTHROPIC_AUTH_TOKEN"] = target.key
        if target.model:
            env["ANTHROPIC_MODEL"] = target.model
            env["ANTHROPIC_DEFAULT_OPUS_MODEL"] = target.model
            env["ANTHROPIC_DEFAULT_SONNET_MODEL"] = target.model
            env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] = target.small_model or target.model
        return {"settings": fmt.dump_json(data)}

    def unconfigure(self, paths: dict[str, Path], texts: Texts) -> Texts:
        data = fmt.load_json(paths["settings"], texts.get("settings"))
        for key in _CLAUDE_KEYS:
            fmt.prune(data, "env", key)
        return {"settings": fmt.dump_json(data)}

    def inspect(self, paths: dict[str, Path], texts: Texts) -> dict[str, Any] | None:
        env = fmt.load_json(paths["settings"], texts.get("settings")).get("env")
        if not isinstance(env, dict) or not env.get("ANTHROPIC_BASE_URL"):
            return None
        return {
            "url": _root(env["ANTHROPIC_BASE_URL"]),
            "model": env.get("ANTHROPIC_MODEL"),
            "key": env.get("ANTHROPIC_AUTH_TOKEN"),
        }


class Codex(Writer):
    id = "codex"

    def paths(self, places: Places) -> dict[str, Path]:
        return {"config": places.folder("CODEX_HOME", ".codex") / "config.toml"}

    def configure(self, paths: dict[str, Path], texts: Texts, target: Target) -> Texts:
        import tomlkit

        doc = fmt.load_toml(paths["config"], texts.get("config"))
        if target.model:
            doc["model"] = target.model
        doc["model_provider"] = PROVIDER_ID
        providers = doc.get("model_providers")
        if providers is None:
            providers = tomlkit.table(is_super_table=True)
            doc["model_providers"] = providers
        elif not isinstance(providers, dict):
            raise fmt.ToolFileError(f"{paths['config']}: 'model_providers' is not a table")
        entry = tomlkit.table()
        entry["name"] = PROVIDER_ID
        entry["base_url"] = target.v1
        entry["wire_api"] = "responses"
        entry["experimental_bearer_token"] = target.key
        providers[PROVIDER_ID] = entry
        return {"config": fmt.dump_toml(doc)}

    def unconfigure(self, paths: dict[str, Path], texts: Texts) -> Texts:
        doc = fmt.load_toml(paths["config"], texts.get("config"))
        if doc.get("model_provider") == PROVIDER_ID:
            del doc["model_provider"]
        providers = doc.get("model_providers")
        if isinstance(providers, dict) and PROVIDER_ID in providers:
            del providers[PROVIDER_ID]
            if not providers:
                del doc["model_providers"]
        return {"config": fmt.dump_toml(doc)}

    def inspect(self, paths: dict[str, Path], texts: Texts) -> dict[str, Any] | None:
        doc = fmt.load_toml(paths["config"], texts.get("config"))
        entry = (doc.get("model_providers") or {}).get(PROVIDER_ID)
        if doc.get("model_provider") != PROVIDER_ID or not isinstance(entry, dict):
            return None
        return {
            "url": _root(str(entry.get("base_url", ""))),
            "model": doc.get("model"),
            "key": entry.get("experimental_bearer_token"),
        }


class OpenCode(Writer):
    id = "opencode"

    def paths(self, places: Places) -> dict[str, Path]:
        folder = places.folder("XDG_CONFIG_HOME", ".config") / "opencode"
        plain, commented = folder / "opencode.json", folder / "opencode.jsonc"
        return {"config": commented if commented.exists() and not plain.exists() else plain}

    def configure(self, paths: dict[str, Path], texts: Texts, target: Target) -> Texts:
        data = fmt.load_json(paths["config"], texts.get("config"))
        if not data:
            data["$schema"] = "https://opencode.ai/config.json"
        providers = fmt.table(data, "provider", paths["config"])
        providers[PROVIDER_ID] = {
            "npm": "@ai-sdk/openai-compatible",
            "name": PROVIDER_ID,
            "options": {"baseURL": target.v1, "apiKey": target.key},
            "models": {m: {"name": m} for m in target.all_models()},
        }
        if target.model:
            data["model"] = f"{PROVIDER_ID}/{target.model}"
        if target.small_model:
            data["small_model"] = f"{PROVIDER_ID}/{target.small_model}"
        return {"config": fmt.dump_json(data)}

    def unconfigure(self, paths: dict[str, Path], texts: Texts) -> Texts:
        data = fmt.load_json(paths["config"], texts.get("config"))
        fmt.prune(data, "provider", PROVIDER_ID)
        for key in ("model", "small_model"):
            if str(data.get(key, "")).startswith(f"{PROVIDER_ID}/"):
                del data[key]
        return {"config": fmt.dump_json(data)}

    def inspect(self, paths: dict[str, Path], texts: Texts) -> dict[str, Any] | None:
        data = fmt.load_json(paths["config"], texts.get("config"))
        entry = (data.get("provider") or {}).get(PROVIDER_ID)
        if not isinstance(entry, dict):
            return None
        options = entry.get("options") or {}
        model = str(data.get("model", ""))
        return {
            "url": _root(options.get("baseURL")),
            "model": model.removeprefix(f"{PROVIDER_ID}/") if model else None,
            "key": options.get("apiKey"),
        }


class Gemini(Writer):
    id = "gemini"

    def paths(self, places: Places) -> dict[str, Path]:
        folder = places.folder("GEMINI_CLI_HOME", "") / ".gemini"
        return {"settings": folder / "settings.json", "env": folder / ".env"}

    def configure(self, paths: dict[str, Path], texts: Texts, target: Target) -> Texts:
        data = fmt.load_json(paths["settings"], texts.get("settings"))
        auth = fmt.table(fmt.table(data, "security", paths["settings"]), "auth", paths["settings"])
        auth["selectedType"] = "gemini-api-key"
        if target.model:
            fmt.table(data, "model", paths["settings"])["name"] = target.model
        env = fmt.set_env(
            texts.get("env"), {"GEMINI_API_KEY": target.key, "GOOGLE_GEMINI_BASE_URL": target.url}
        )
        return {"settings": fmt.dump_json(data), "env": env}

    def unconfigure(self, paths: dict[str, Path], texts: Texts) -> Texts:
        data = fmt.load_json(paths["settings"], texts.get("settings"))
        auth = (data.get("security") or {}).get("auth") or {}
        if isinstance(auth, dict) and auth.get("selectedType") == "gemini-api-key":
            fmt.prune(data, "security", "auth", "selectedType")
        cleared: dict[str, str | None] = {"GEMINI_API_KEY": None, "GOOGLE_GEMINI_BASE_URL": None}
        env = fmt.set_env(texts.get("env"), cleared)
        return {"settings": fmt.dump_json(data), "env": env if env.strip() else None}

    def inspect(self, paths: dict[str, Path], texts: Texts) -> dict[str, Any] | None:
        values = fmt.env_values(texts.get("env"))
        url = values.get("GOOGLE_GEMINI_BASE_URL")
        if not url:
            return None
        model = fmt.load_json(paths["settings"], texts.get("settings")).get("model") or {}
        return {
            "url": _root(url),
            "model": model.get("name") if isinstance(model, dict) else None,
            "key": values.get("GEMINI_API_KEY"),
        }


class Droid(Writer):
    id = "droid"

    def paths(self, places: Places) -> dict[str, Path]:
        return {"settings": places.home / ".factory" / "settings.json"}

    @staticmethod
    def _ours(entry: Any) -> bool:
        return isinstance(entry, dict) and str(entry.get("displayName", "")).endswith(DROID_SUFFIX)

    def _models(self, path: Path, data: dict[str, Any]) -> list[Any]:
        models = data.get("customModels", [])
        if not isinstance(models, list):
            raise fmt.ToolFileError(f"{path}: 'customModels' is not a list")
        return models

    def configure(self, paths: dict[str, Path], texts: Texts, target: Target) -> Texts:
        data = fmt.load_json(paths["settings"], texts.get("settings"))
        kept = [m for m in self._models(paths["settings"], data) if not self._ours(m)]
        ours = [
            {
                "model": model,
                "displayName": model + DROID_SUFFIX,
                "baseUrl": target.v1,
                "apiKey": target.key,
                "provider": "generic-chat-completion-api",
                "maxOutputTokens": 16384,
            }
            for model in target.all_models()
        ]
        data["customModels"] = ours + kept
        return {"settings": fmt.dump_json(data)}

    def unconfigure(self, paths: dict[str, Path], texts: Texts) -> Texts:
        data = fmt.load_json(paths["settings"], texts.get("settings"))
        kept = [m for m in self._models(paths["settings"], data) if not self._ours(m)]
        if kept:
            data["customModels"] = kept
        else:
            data.pop("customModels", None)
        return {"settings": fmt.dump_json(data)}

    def inspect(self, paths: dict[str, Path], texts: Texts) -> dict[str, Any] | None:
        data = fmt.load_json(paths["settings"], texts.get("settings"))
        ours = [m for m in self._models(paths["settings"], data) if self._ours(m)]
        if not ours:
            return None
        first = ours[0]
        return {"url": _root(first.get("baseUrl")), "model": first.get("model"),
                "key": first.get("apiKey")}  # fmt: skip


class OpenClaw(Writer):
    id = "openclaw"

    def paths(self, places: Places) -> dict[str, Path]:
        return {"config": places.home / ".openclaw" / "openclaw.json"}

    def configure(self, paths: dict[str, Path], texts: Texts, target: Target) -> Texts:
        path = paths["config"]
        data = fmt.load_json(path, texts.get("config"))
        providers = fmt.table(fmt.table(data, "models", path), "providers", path, "models.")
        providers[PROVIDER_ID] = {
            "baseUrl": target.v1,
            "apiKey": target.key,
            "api": "openai-completions",
            "models": [{"id": m, "name": m} for m in target.all_models()],
        }
        if target.model:
            agents = fmt.table(data, "agents", path)
            defaults = fmt.table(agents, "defaults", path, "agents.")
            fmt.table(defaults, "model", path, "agents.defaults.")["primary"] = (
                f"{PROVIDER_ID}/{target.model}"
            )
        return {"config": fmt.dump_json(data)}

    def unconfigure(self, paths: dict[str, Path], texts: Texts) -> Texts:
        data = fmt.load_json(paths["config"], texts.get("config"))
        fmt.prune(data, "models", "providers", PROVIDER_ID)
        model = ((data.get("agents") or {}).get("defaults") or {}).get("model") or {}
        if isinstance(model, dict) and str(model.get("primary", "")).startswith(PROVIDER_ID + "/"):
            fmt.prune(data, "agents", "defaults", "model", "primary")
        return {"config": fmt.dump_json(data)}

    def inspect(self, paths: dict[str, Path], texts: Texts) -> dict[str, Any] | None:
        data = fmt.load_json(paths["config"], texts.get("config"))
        entry = ((data.get("models") or {}).get("providers") or {}).get(PROVIDER_ID)
        if not isinstance(entry, dict):
            return None
        model = ((data.get("agents") or {}).get("defaults") or {}).get("model") or {}
        primary = str(model.get("primary", "")) if isinstance(model, dict) else ""
        return {
            "url": _root(entry.get("baseUrl")),
            "model": primary.removeprefix(PROVIDER_ID + "/") or None,
            "key": entry.get("apiKey"),
        }


_CLINE_STATE = ("openAiBaseUrl", "openAiModelId", "planModeOpenAiModelId")


class Cline(Writer):
    id = "cline"

    def paths(self, places: Places) -> dict[str, Path]:
        folder = places.home / ".cline" / "data"
        return {"state": folder / "globalState.json", "secrets": folder / "secrets.json"}

    def configure(self, paths: dict[str, Path], texts: Texts, target: Target) -> Texts:
        state = fmt.load_json(paths["state"], texts.get("state"))
        secrets = fmt.load_json(paths["secrets"], texts.get("secrets"))
        state["actModeApiProvider"] = "openai"
        state["planModeApiProvider"] = "openai"
        state["openAiBaseUrl"] = target.v1
        state["openAiModelId"] = target.model
        state["planModeOpenAiModelId"] = target.model
        secrets["openAiApiKey"] = target.key
        return {"state": fmt.dump_json(state), "secrets": fmt.dump_json(secrets)}

    def unconfigure(self, paths: dict[str, Path], texts: Texts) -> Texts:
        state = fmt.load_json(paths["state"], texts.get("state"))
        secrets = fmt.load_json(paths["secrets"], texts.get("secrets"))
        if state.get("actModeApiProvider") == "openai":
            for key in _CLINE_STATE:
                state.pop(key, None)
            state["actModeApiProvider"] = state["planModeApiProvider"] = "cline"
        secrets.pop("openAiApiKey", None)
        return {"state": fmt.dump_json(state), "secrets": fmt.dump_json(secrets)}

    def inspect(self, paths: dict[str, Path], texts: Texts) -> dict[str, Any] | None:
        state = fmt.load_json(paths["state"], texts.get("state"))
        if state.get("actModeApiProvider") != "openai" or not state.get("openAiBaseUrl"):
            return None
        secrets = fmt.load_json(paths["secrets"], texts.get("secrets"))
        return {
            "url": _root(state["openAiBaseUrl"]),
            "model": state.get("openAiModelId"),
            "key": secrets.get("openAiApiKey"),
        }


WRITERS: dict[str, Writer] = {
    w.id: w for w in (Claude(), Codex(), OpenCode(), Gemini(), Droid(), OpenClaw(), Cline())
}
