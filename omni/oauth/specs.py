"""What omni knows about each subscription provider: sign-in, endpoints, API headers.

One :class:`Spec` per provider id (the catalog id; its alias works too): which flow signs
in (PKCE authorization code or device code), the public client id of the vendor's own CLI,
the authorize/token/device endpoints and scopes, and which wire adapter
(:mod:`omni.providers.wire`) shapes its requests. :func:`endpoints` applies overrides:
``OMNI_PROVIDER_<ID>_{AUTH,TOKEN,DEVICE,EXCHANGE,BASE}_URL`` or ``[providers.<id>]`` in
``config.toml``, so tests and enterprise proxies can point every URL elsewhere.
:func:`api_headers` gives the headers a request needs for a credential (bearer token,
account id, the client identity the service expects).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from typing import TYPE_CHECKING

from omni.config import Settings
from omni.errors import InvalidInputError

if TYPE_CHECKING:
    from omni.oauth.tokens import Credential

CLAUDE_CLI_VERSION = "2.1.146"
CODEX_CLI_VERSION = "0.92.0"
COPILOT_CHAT_VERSION = "0.38.0"
QWEN_CODE_VERSION = "0.2.0"
CLAUDE_BETAS = "claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14"


@dataclass(frozen=True, slots=True)
class Spec:
    """How one subscription provider signs in and which wire adapter its API needs."""

    id: str  # the catalog id
    name: str
    flow: str  # "pkce" | "device"
    client_id: str
    wire: str  # adapter name in omni.providers.wire
    token_url: str
    auth_url: str | None = None
    device_url: str | None = None
    exchange_url: str | None = None  # GitHub: the Copilot token endpoint
    client_secret: str | None = None  # installed-app clients whose secret is public
    scopes: tuple[str, ...] = ()
    paste_redirect: str | None = None  # the vendor's page that shows the code (headless)
    loopback_port: int = 0  # the port the vendor registered for its CLI (0: any)
    loopback_path: str = "/callback"
    auth_params: tuple[tuple[str, str], ...] = ()  # extra authorize-URL parameters
    body_format: str = "form"  # the token endpoint takes "form" or "json" bodies
    device_pkce: bool = False  # the device request carries a PKCE challenge (Qwen)
    tool: str | None = None  # the CLI tool whose credential file can be imported


SPECS: dict[str, Spec] = {
    "claude": Spec(
        id="claude",
        name="Claude Code",
        flow="pkce",
        client_id="9d1c250a-e61b-44d9-88ed-5944d1962f5e",
        wire="claude-code",
        auth_url="https://claude.ai/oauth/authorize",
        token_url="https://console.anthropic.com/v1/oauth/token",  # noqa: S106
        scopes=(
            "org:create_api_key",
            "user:profile",
            "user:inference",
            "user:sessions:claude_code",
            "user:mcp_servers",
        ),
        paste_redirect="https://platform.claude.com/oauth/code/callback",
        auth_params=(("code", "true"),),
        body_format="json",
        tool="claude",
    ),
    "codex": Spec(
        id="codex",
        name="Codex (ChatGPT)",
        flow="pkce",
        client_id="app_EMoamEEZ73f0CkXaXp7hrann",
        wire="codex",
        auth_url="https://auth.openai.com/oauth/authorize",
        token_url="https://auth.openai.com/oauth/token",  # noqa: S106
        scopes=("openid", "profile", "email", "offline_access"),
        loopback_port=1455,
        loopback_path="/auth/callback",
        auth_params=(
            ("id_token_add_organizations", "true"),
            ("codex_cli_simplified_flow", "true"),
            ("originator", "codex_cli_rs"),
        ),
        tool="codex",
    ),
    "github": Spec(
        id="github",
        name="GitHub Copilot",
        flow="device",
        client_id="Iv1.b507a08c87ecfe98",
        wire="copilot",
        device_url="https://github.com/login/device/code",
        token_url="https://github.com/login/oauth/access_token",  # noqa: S106
        exchange_url="https://api.github.com/copilot_internal/v2/token",
        scopes=("read:user",),
    ),
    "gemini-cli": Spec(
        id="gemini-cli",
        name="Gemini CLI (Code Assist)",
        flow="pkce",
        client_id="681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com",
        # An installed-app client: Google publishes this "secret" with the Gemini CLI.
        client_secret="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",  # noqa: S106
        wire="cloudcode",
        auth_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",  # noqa: S106
        scopes=(
            "https://www.googleapis.com/auth/cloud-platform",
            "https://www.googleapis.com/auth/userinfo.email",
            "https://www.googleapis.com/auth/userinfo.profile",
        ),
        paste_redirect="https://codeassist.google.com/authcode",
        loopback_path="/oauth2callback",
        auth_params=(("access_type", "offline"), ("prompt", "consent")),
        tool="gemini",
    ),
    "qwen": Spec(
        id="qwen",
        name="Qwen Code",
        flow="device",
        client_id="f0304373b74a44d2b584a3fb70ca9e56",
        wire="qwen",
        device_url="https://chat.qwen.ai/api/v1/oauth2/device/code",
        token_url="https://chat.qwen.ai/api/v1/oauth2/token",  # noqa: S106
        scopes=("openid", "profile", "email", "model.completion"),
        device_pkce=True,
    ),
}

# What users may type: the catalog id, the model prefix, or the tool's name.
_NAMES = {"cc": "claude", "claude-code": "claude", "cx": "codex", "gh": "github",
          "copilot": "github", "gemini": "gemini-cli", "qw": "qwen"}  # fmt: skip
TOOLS = {"claude": "claude", "codex": "codex", "gemini": "gemini-cli"}


def spec_for(name: str) -> Spec:
    """The spec of a provider named by id, alias or tool; a 400 listing the choices."""
    key = _NAMES.get(name, name)
    spec = SPECS.get(key)
    if spec is None:
        choices = ", ".join(sorted(SPECS))
        raise InvalidInputError(
            f"'{name}' does not sign in with OAuth; subscription providers are: {choices}",
            hint="API-key providers are added with 'omni providers add NAME --api-key …'",
        )
    return spec


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where one provider's sign-in and API live, overrides applied."""

    auth_url: str | None
    token_url: str
    device_url: str | None
    exchange_url: str | None
    base_url: str | None  # the API root when overridden (None: the catalog's)


def endpoints(spec: Spec, settings: Settings) -> Endpoints:
    def pick(key: str, default: str | None) -> str | None:
        return settings.provider_url(spec.id, key) or default

    return Endpoints(
        auth_url=pick("auth_url", spec.auth_url),
        token_url=pick("token_url", spec.token_url) or spec.token_url,
        device_url=pick("device_url", spec.device_url),
        exchange_url=pick("exchange_url", spec.exchange_url),
        base_url=settings.provider_base_url(spec.id),
    )


def _system() -> tuple[str, str]:
    system = {"Darwin": "macos", "Windows": "windows"}.get(platform.system(), "linux")
    machine = platform.machine().lower()
    return system, {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64"}.get(machine, machine)


def api_headers(provider_id: str, cred: Credential) -> dict[str, str]:
    """The headers every API request of ``provider_id`` carries for ``cred``."""
    bearer = {"Authorization": f"Bearer {cred.access_token}"}
    if provider_id == "claude":
        return {
            **bearer,
            "anthropic-version": "2023-06-01",
            "anthropic-beta": CLAUDE_BETAS,
            "anthropic-dangerous-direct-browser-access": "true",
            "x-app": "cli",
            "User-Agent": f"claude-cli/{CLAUDE_CLI_VERSION} (external, cli)",
        }
    if provider_id == "codex":
        system, arch = _system()
        headers = {
            **bearer,
            "originator": "codex_cli_rs",
            "version": CODEX_CLI_VERSION,
            "OpenAI-Beta": "responses=experimental",
            "Accept": "text/event-stream",
            "User-Agent": f"codex_cli_rs/{CODEX_CLI_VERSION} ({system}; {arch})",
        }
        if cred.data.get("account_id"):
            headers["chatgpt-account-id"] = cred.data["account_id"]
        return headers
    if provider_id == "github":
        return {
            **bearer,
            "copilot-integration-id": "vscode-chat",
            "editor-version": "vscode/1.110.0",
            "editor-plugin-version": f"copilot-chat/{COPILOT_CHAT_VERSION}",
            "User-Agent": f"GitHubCopilotChat/{COPILOT_CHAT_VERSION}",
            "openai-intent": "conversation-panel",
            "x-github-api-version": "2025-04-01",
            "X-Initiator": "user",
        }
    if provider_id == "gemini-cli":
        return {
            **bearer,
            "User-Agent": "google-api-nodejs-client/9.15.1",
            "X-Goog-Api-Client": "gl-node/22.17.0",
            "Client-Metadata": "ideType=IDE_UNSPECIFIED,platform=PLATFORM_UNSPECIFIED,"
            "pluginType=GEMINI",
        }
    if provider_id == "qwen":
        system, arch = _system()
        agent = f"QwenCode/{QWEN_CODE_VERSION} ({system}; {arch})"
        return {
            **bearer,
            "User-Agent": agent,
            "X-Dashscope-AuthType": "qwen-oauth",
            "X-Dashscope-CacheControl": "enable",
            "X-Dashscope-UserAgent": agent,
        }
    return bearer


def api_base(provider_id: str, cred: Credential) -> str | None:
    """The API root a credential names for itself (Copilot's endpoint, Qwen's resource
    URL); None: the catalog's."""
    if provider_id == "github" and cred.data.get("api_url"):
        return cred.data["api_url"]
    if provider_id == "qwen" and cred.data.get("resource_url"):
        root = cred.data["resource_url"].rstrip("/")
        if not root.startswith(("http://", "https://")):
            root = "https://" + root
        return root if root.endswith("/v1") else root + "/v1"
    return None


def wire_data(provider_id: str, cred: Credential) -> dict[str, str]:
    """What the wire adapter needs besides headers (the Code Assist project)."""
    if provider_id == "gemini-cli" and cred.data.get("project"):
        return {"project": cred.data["project"]}
    return {}
