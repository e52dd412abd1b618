"""The stored credential and every call to a token endpoint: exchange, refresh, Copilot.

A :class:`Credential` is what an OAuth account stores (encrypted, as JSON): the access
token, the refresh token, when the access token expires, and provider data (the ChatGPT
account id, the Code Assist project, Qwen's API host, the GitHub token behind a Copilot
token). :func:`refresh` renews it; a refresh token the provider no longer accepts is a
:class:`RevokedError` (sign in again), anything else that goes wrong a
:class:`RefreshFailed` (try again later). :func:`finish_login` turns a token endpoint's
answer into a credential, doing what each provider needs after sign-in.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from omni.errors import InvalidInputError
from omni.oauth.specs import COPILOT_CHAT_VERSION, Endpoints, Spec

TIMEOUT_S = 20.0
# Token endpoint errors that mean the refresh token is gone for good (RFC 6749 §5.2 and
# the vendors' own codes for rotated or reused refresh tokens).
_REVOKED = frozenset({
    "invalid_grant", "invalid_token", "unauthorized_client", "invalid_client",
    "access_denied", "expired_token", "refresh_token_reused", "refresh_token_expired",
    "refresh_token_invalidated",
})  # fmt: skip
_CODE_ASSIST = "https://cloudcode-pa.googleapis.com"
_CODE_ASSIST_METADATA = {
    "ideType": "IDE_UNSPECIFIED",
    "platform": "PLATFORM_UNSPECIFIED",
    "pluginType": "GEMINI",
}


@dataclass(slots=True)
class Credential:
    """One OAuth account's tokens; ``data`` holds what the provider's API needs besides."""

    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None  # Unix time; None: unknown (refreshed on a 401 only)
    id_token: str | None = None
    data: dict[str, str] = field(default_factory=dict)

    def dumps(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v not in (None, {})})

    @classmethod
    def loads(cls, text: str) -> Credential:
        raw = json.loads(text)
        if not isinstance(raw, dict) or not isinstance(raw.get("access_token"), str):
            raise ValueError("not an OAuth credential")
        data = raw.get("data") or {}
        return cls(
            access_token=raw["access_token"],
            refresh_token=raw.get("refresh_token"),
            expires_at=float(raw["expires_at"]) if raw.get("expires_at") else None,
            id_token=raw.get("id_token"),
            data={str(k): str(v) for k, v in data.items()},
        )

    def seconds_left(self, now: float) -> float | None:
        return None if self.expires_at is None else self.expires_at - now


class EndpointError(Exception):
    """A token (or Copilot) endpoint answered with an error."""

    def __init__(self, status: int, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.status = status
        self.error = error
        self.description = description


class UnreachableError(Exception):
    """A token endpoint could not be reached or sent no usable answer."""


class RevokedError(Exception):
    """The provider no longer accepts this account's refresh token: sign in again."""


class RefreshFailed(Exception):
    """A refresh did not work this time (network, provider trouble); try again later."""


def _http() -> Any:
    import httpx

    return httpx.Client(timeout=TIMEOUT_S, trust_env=False)


def call(
    method: str,
    url: str,
    *,
    form: dict[str, str] | None = None,
    json_body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One call to an OAuth endpoint; its JSON answer, or :class:`EndpointError` /
    :class:`UnreachableError`. GitHub answers errors with status 200: those count too."""
    import httpx

    sent = {"Accept": "application/json", **(headers or {})}
    try:
        with _http() as http:
            response = http.request(method, url, data=form, json=json_body, headers=sent)
    except httpx.HTTPError as exc:
        raise UnreachableError(f"cannot reach {url}: {type(exc).__name__}") from None
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = {}
    error = data.get("error")
    if response.status_code >= 400 or (isinstance(error, str) and error):
        if isinstance(error, dict):  # {"error": {"message": …}} (Google, OpenAI style)
            code = str(error.get("status") or error.get("code") or response.status_code)
            raise EndpointError(response.status_code, code, str(error.get("message", "")))
        code = error if isinstance(error, str) and error else f"http_{response.status_code}"
        detail = data.get("error_description") or data.get("message") or data.get("detail")
        raise EndpointError(response.status_code, code, str(detail or ""))
    return data


def token_call(spec: Spec, url: str, fields: dict[str, str]) -> dict[str, Any]:
    """POST to a token endpoint in the body format the provider takes."""
    if spec.body_format == "json":
        return call("POST", url, json_body=fields)
    return call("POST", url, form=fields)


def jwt_claims(token: str | None) -> dict[str, Any]:
    """The claims of a JWT, unverified (read from our own token endpoint's answer)."""
    if not token or token.count(".") != 2:
        return {}
    part = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}


def from_token_response(
    spec: Spec, data: dict[str, Any], now: float, previous: Credential | None = None
) -> Credential:
    """A credential from a token endpoint's answer (a refresh keeps what it omits)."""
    access = data.get("access_token")
    if not isinstance(access, str) or not access:
        raise UnreachableError(f"the {spec.name} token endpoint sent no access token")
    cred = Credential(
        access_token=access,
        refresh_token=data.get("refresh_token") or (previous.refresh_token if previous else None),
        id_token=data.get("id_token") or (previous.id_token if previous else None),
        data=dict(previous.data) if previous else {},
    )
    expires_in = data.get("expires_in")
    if isinstance(expires_in, int | float) and expires_in > 0:
        cred.expires_at = now + float(expires_in)
    else:
        exp = jwt_claims(access).get("exp")
        cred.expires_at = float(exp) if isinstance(exp, int | float) else None
    if spec.id == "codex":
        claims = jwt_claims(cred.id_token)
        auth = claims.get("https://api.openai.com/auth")
        if isinstance(auth, dict) and auth.get("chatgpt_account_id"):
            cred.data["account_id"] = str(auth["chatgpt_account_id"])
        if claims.get("email"):
            cred.data["email"] = str(claims["email"])
    if spec.id == "qwen" and data.get("resource_url"):
        cred.data["resource_url"] = str(data["resource_url"])
    account = data.get("account")
    if spec.id == "claude" and isinstance(account, dict) and account.get("email_address"):
        cred.data["email"] = str(account["email_address"])
    return cred


def copilot_exchange(ends: Endpoints, github_token: str, now: float) -> Credential:
    """Trade a GitHub token for a short-lived Copilot token (the API's bearer)."""
    assert ends.exchange_url is not None
    headers = {
        "Authorization": f"token {github_token}",
        "User-Agent": f"GitHubCopilotChat/{COPILOT_CHAT_VERSION}",
        "editor-version": "vscode/1.110.0",
        "editor-plugin-version": f"copilot-chat/{COPILOT_CHAT_VERSION}",
    }
    data = call("GET", ends.exchange_url, headers=headers)
    token = data.get("token")
    if not isinstance(token, str) or not token:
        raise UnreachableError("the Copilot token endpoint sent no token")
    expires = data.get("expires_at")
    cred = Credential(
        access_token=token,
        expires_at=float(expires) if isinstance(expires, int | float) else now + 1500.0,
        data={"github_token": github_token},
    )
    endpoints = data.get("endpoints")
    if isinstance(endpoints, dict) and isinstance(endpoints.get("api"), str):
        cred.data["api_url"] = endpoints["api"]
    return cred


def refresh(spec: Spec, ends: Endpoints, cred: Credential, now: float | None = None) -> Credential:
    """A renewed credential; :class:`RevokedError` when only a new sign-in can help."""
    now = time.time() if now is None else now
    try:
        if spec.id == "github":
            github_token = cred.data.get("github_token")
            if not github_token:
                raise RevokedError("the account holds no GitHub token")
            fresh = copilot_exchange(ends, github_token, now)
            fresh.data = {**cred.data, **fresh.data}
            return fresh
        if not cred.refresh_token:
            raise RevokedError("the account holds no refresh token")
        fields = {
            "grant_type": "refresh_token",
            "refresh_token": cred.refresh_token,
            "client_id": spec.client_id,
        }
        if spec.client_secret:
            fields["client_secret"] = spec.client_secret
        if spec.id == "codex":
            fields["scope"] = "openid profile email"
        return from_token_response(spec, token_call(spec, ends.token_url, fields), now, cred)
    except EndpointError as exc:
        if exc.status in (400, 401, 403) and (exc.error in _REVOKED or exc.status == 401):
            raise RevokedError(str(exc)) from None
        raise RefreshFailed(f"the token endpoint answered {exc.status}: {exc}") from None
    except UnreachableError as exc:
        raise RefreshFailed(str(exc)) from None


def finish_login(
    spec: Spec, ends: Endpoints, data: dict[str, Any], now: float, project: str | None = None
) -> Credential:
    """The credential for a completed sign-in (a token endpoint's answer), with what the
    provider needs after it: GitHub's Copilot token, the Code Assist project."""
    try:
        if spec.id == "github":
            github_token = data.get("access_token")
            if not isinstance(github_token, str) or not github_token:
                raise UnreachableError("GitHub sent no access token")
            return copilot_exchange(ends, github_token, now)
        cred = from_token_response(spec, data, now)
        if spec.id == "gemini-cli":
            cred.data["project"] = project or code_assist_project(ends, cred)
        return cred
    except EndpointError as exc:
        if spec.id == "github" and exc.status in (401, 403, 404):
            raise InvalidInputError(
                f"GitHub signed you in, but this account has no Copilot access ({exc})"
            ) from None
        raise InvalidInputError(f"{spec.name} refused the sign-in: {exc}") from None
    except UnreachableError as exc:
        raise InvalidInputError(f"{spec.name} sign-in failed: {exc}") from None


def code_assist_project(ends: Endpoints, cred: Credential) -> str:
    """The Code Assist project of a Google account (as the Gemini CLI finds it)."""
    base = (ends.base_url or _CODE_ASSIST).rstrip("/")
    headers = {"Authorization": f"Bearer {cred.access_token}"}
    loaded = call(
        "POST", f"{base}/v1internal:loadCodeAssist", headers=headers,
        json_body={"metadata": _CODE_ASSIST_METADATA},
    )  # fmt: skip
    found = _project_id(loaded.get("cloudaicompanionProject"))
    if found:
        return found
    tiers = loaded.get("allowedTiers")
    tier = next(
        (t.get("id") for t in tiers or [] if isinstance(t, dict) and t.get("isDefault")),
        "free-tier",
    )
    onboarded = call(
        "POST", f"{base}/v1internal:onboardUser", headers=headers,
        json_body={"tierId": tier, "metadata": _CODE_ASSIST_METADATA},
    )  # fmt: skip
    response = onboarded.get("response")
    if isinstance(response, dict):
        found = _project_id(response.get("cloudaicompanionProject"))
    if not found:
        raise InvalidInputError(
            "Google signed you in, but Code Assist named no project for this account",
            hint="pass the Google Cloud project to use with --project",
        )
    return found


def _project_id(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""
