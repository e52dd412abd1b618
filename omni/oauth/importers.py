"""The vendor CLIs' own credential files: read them into accounts, write refreshes back.

- Claude Code: ``~/.claude/.credentials.json`` (``$CLAUDE_CONFIG_DIR`` moves it),
  ``{"claudeAiOauth": {"accessToken", "refreshToken", "expiresAt" (ms), …}}``;
- Codex: ``~/.codex/auth.json`` (``$CODEX_HOME``),
  ``{"tokens": {"id_token", "access_token", "refresh_token", "account_id"}, "last_refresh"}``;
- Gemini CLI: ``~/.gemini/oauth_creds.json``,
  ``{"access_token", "refresh_token", "expiry_date" (ms), "id_token", …}``.

Writing back keeps everything else in the file and replaces it atomically (0600), so the
vendor's tool and omni can share one sign-in when the user asks for it.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from omni.errors import InvalidInputError
from omni.oauth.tokens import Credential, jwt_claims


def default_path(tool: str, env: dict[str, str] | None = None) -> Path:
    """Where the tool keeps its sign-in on this machine."""
    env = dict(os.environ) if env is None else env
    home = Path(env.get("HOME") or Path.home())
    if tool == "claude":
        return Path(env.get("CLAUDE_CONFIG_DIR") or home / ".claude") / ".credentials.json"
    if tool == "codex":
        return Path(env.get("CODEX_HOME") or home / ".codex") / "auth.json"
    if tool == "gemini":
        return home / ".gemini" / "oauth_creds.json"
    raise InvalidInputError(f"cannot import from '{tool}': choose claude, codex or gemini")


def read_file(tool: str, path: Path) -> dict[str, Any]:
    """The tool's credential file as JSON (a clear error when missing or malformed)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError(
            f"no {tool} sign-in at {path}",
            hint=f"sign in with the {tool} CLI first, or give the file with --file",
        ) from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidInputError(f"{path} is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path} does not hold a JSON object")
    return data


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _millis(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value) / 1000 if value > 1e11 else float(value)
    return None


def parse(tool: str, document: dict[str, Any]) -> Credential:
    """A credential from the tool's file contents; a clear error when it holds none."""
    if tool == "claude":
        block = document.get("claudeAiOauth")
        block = block if isinstance(block, dict) else {}
        access = _text(block.get("accessToken"))
        if access is None:
            raise InvalidInputError("the Claude Code file holds no 'claudeAiOauth' sign-in")
        return Credential(
            access_token=access,
            refresh_token=_text(block.get("refreshToken")),
            expires_at=_millis(block.get("expiresAt")),
        )
    if tool == "codex":
        tokens = document.get("tokens")
        tokens = tokens if isinstance(tokens, dict) else {}
        access = _text(tokens.get("access_token"))
        if access is None:
            hint = (
                "it holds an API key: add it with 'omni providers add openai --api-key -'"
                if _text(document.get("OPENAI_API_KEY"))
                else "sign in with 'codex login' first"
            )
            raise InvalidInputError("the Codex auth.json holds no ChatGPT sign-in", hint=hint)
        id_token = _text(tokens.get("id_token"))
        claims = jwt_claims(id_token)
        auth = claims.get("https://api.openai.com/auth")
        account = _text(tokens.get("account_id")) or (
            _text(auth.get("chatgpt_account_id")) if isinstance(auth, dict) else None
        )
        exp = jwt_claims(access).get("exp")
        cred = Credential(
            access_token=access,
            refresh_token=_text(tokens.get("refresh_token")),
            expires_at=float(exp) if isinstance(exp, int | float) else None,
            id_token=id_token,
        )
        if account:
            cred.data["account_id"] = account
        if _text(claims.get("email")):
            cred.data["email"] = str(claims["email"])
        return cred
    if tool == "gemini":
        access = _text(document.get("access_token"))
        if access is None:
            raise InvalidInputError("the Gemini CLI file holds no access token")
        return Credential(
            access_token=access,
            refresh_token=_text(document.get("refresh_token")),
            expires_at=_millis(document.get("expiry_date")),
            id_token=_text(document.get("id_token")),
        )
    raise InvalidInputError(f"cannot import from '{tool}': choose claude, codex or gemini")


def write_back(tool: str, path: Path, cred: Credential) -> None:
    """Put a refreshed credential into the tool's file, keeping everything else."""
    document = read_file(tool, path) if path.exists() else {}
    millis = int(cred.expires_at * 1000) if cred.expires_at else None
    if tool == "claude":
        block = document.setdefault("claudeAiOauth", {})
        block["accessToken"] = cred.access_token
        if cred.refresh_token:
            block["refreshToken"] = cred.refresh_token
        if millis:
            block["expiresAt"] = millis
    elif tool == "codex":
        tokens = document.setdefault("tokens", {})
        tokens["access_token"] = cred.access_token
        if cred.refresh_token:
            tokens["refresh_token"] = cred.refresh_token
        if cred.id_token:
            tokens["id_token"] = cred.id_token
        if cred.data.get("account_id"):
            tokens["account_id"] = cred.data["account_id"]
        document["last_refresh"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    elif tool == "gemini":
        document["access_token"] = cred.access_token
        if cred.refresh_token:
            document["refresh_token"] = cred.refresh_token
        if millis:
            document["expiry_date"] = millis
    else:
        raise InvalidInputError(f"cannot write back to '{tool}'")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
