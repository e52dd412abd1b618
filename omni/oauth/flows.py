"""Sign-in flows: PKCE authorization code and the device code grant (RFC 8628).

PKCE (RFC 7636, S256): :func:`pkce_start` makes the verifier, state and the URL to open;
the code comes back to a :class:`CallbackListener` on 127.0.0.1, or the user pastes it
(the redirected URL, ``code#state`` or the bare code; :func:`parse_pasted`), and
:func:`pkce_exchange` trades it for tokens after checking the state.

Device code: :func:`device_start` asks for a user code and the page to enter it on;
:func:`device_poll` asks once whether it was approved (``authorization_pending`` and
``slow_down`` are :class:`Pending`, ``expired_token`` and ``access_denied`` clear
errors); :func:`device_wait` polls at the server's interval, 5 s longer after each
``slow_down``, until the code expires.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from omni.errors import InvalidInputError
from omni.oauth.specs import Endpoints, Spec
from omni.oauth.tokens import EndpointError, UnreachableError, call, token_call

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP_S = 5.0


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class PkceStart:
    """A started authorization-code sign-in: what to open, and what proves it is ours."""

    url: str
    state: str
    verifier: str
    redirect_uri: str


def pkce_start(spec: Spec, ends: Endpoints, redirect_uri: str) -> PkceStart:
    if ends.auth_url is None:
        raise InvalidInputError(f"{spec.name} has no authorization URL")
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(24)
    params = {
        "response_type": "code",
        "client_id": spec.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(spec.scopes),
        "code_challenge": _challenge(verifier),
        "code_challenge_method": "S256",
        "state": state,
        **dict(spec.auth_params),
    }
    sep = "&" if "?" in ends.auth_url else "?"
    return PkceStart(f"{ends.auth_url}{sep}{urlencode(params)}", state, verifier, redirect_uri)


def parse_pasted(text: str) -> tuple[str, str | None]:
    """``(code, state)`` from what a user pasted: the redirected URL, ``code#state`` (the
    code page of some vendors) or the bare code."""
    text = text.strip()
    if not text:
        raise InvalidInputError("nothing was pasted: paste the code the sign-in page showed")
    if "://" in text or text.startswith("?") or "code=" in text:
        query = parse_qs(urlsplit(text).query or text.lstrip("?"))
        if query.get("error"):
            detail = (query.get("error_description") or query["error"])[0]
            raise InvalidInputError(f"the sign-in was not completed: {detail}")
        codes = query.get("code")
        if not codes:
            raise InvalidInputError("the pasted URL holds no 'code'")
        states = query.get("state")
        return codes[0], states[0] if states else None
    code, _, state = text.partition("#")
    return code, state or None


def pkce_exchange(
    spec: Spec, ends: Endpoints, start: PkceStart, code: str, state: str | None
) -> dict[str, Any]:
    """Trade an authorization code for tokens (the raw token endpoint answer)."""
    if state is not None and not secrets.compare_digest(state, start.state):
        raise InvalidInputError(
            "the code belongs to another sign-in (its state does not match); start again"
        )
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": start.redirect_uri,
        "client_id": spec.client_id,
        "code_verifier": start.verifier,
    }
    if spec.client_secret:
        fields["client_secret"] = spec.client_secret
    if spec.body_format == "json":
        fields["state"] = start.state
    try:
        return token_call(spec, ends.token_url, fields)
    except EndpointError as exc:
        raise InvalidInputError(
            f"{spec.name} did not accept the code ({exc})",
            hint="codes are single-use and short-lived: start the sign-in again",
        ) from None
    except UnreachableError as exc:
        raise InvalidInputError(f"{spec.name} sign-in failed: {exc}") from None


# -- device code ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceStart:
    """A started device sign-in: the code to show, where to enter it, how to poll."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    interval: float
    expires_at: float  # monotonic time
    verifier: str | None = None  # Qwen's PKCE verifier


@dataclass(frozen=True, slots=True)
class Pending:
    """Not approved yet; poll again after ``interval`` seconds."""

    interval: float
    slow_down: bool = False


def device_start(
    spec: Spec, ends: Endpoints, now: Callable[[], float] = time.monotonic
) -> DeviceStart:
    if ends.device_url is None:
        raise InvalidInputError(f"{spec.name} has no device authorization URL")
    fields = {"client_id": spec.client_id, "scope": " ".join(spec.scopes)}
    verifier = None
    if spec.device_pkce:
        verifier = secrets.token_urlsafe(48)
        fields |= {"code_challenge": _challenge(verifier), "code_challenge_method": "S256"}
    try:
        data = call("POST", ends.device_url, form=fields)
    except (EndpointError, UnreachableError) as exc:
        raise InvalidInputError(f"{spec.name} did not start a device sign-in: {exc}") from None
    device_code, user_code = data.get("device_code"), data.get("user_code")
    uri = data.get("verification_uri") or data.get("verification_url")
    if not (isinstance(device_code, str) and isinstance(user_code, str) and isinstance(uri, str)):
        raise InvalidInputError(f"{spec.name} sent an incomplete device authorization")
    interval = data.get("interval")
    expires_in = data.get("expires_in")
    complete = data.get("verification_uri_complete")
    return DeviceStart(
        device_code=device_code,
        user_code=user_code,
        verification_uri=uri,
        verification_uri_complete=complete if isinstance(complete, str) else None,
        interval=float(interval) if isinstance(interval, int | float) and interval >= 0 else 5.0,
        expires_at=now() + (float(expires_in) if isinstance(expires_in, int | float) else 900.0),
        verifier=verifier,
    )


def device_poll(
    spec: Spec, ends: Endpoints, start: DeviceStart, interval: float
) -> dict[str, Any] | Pending:
    """Ask once: the tokens when approved, :class:`Pending` when not yet; a clear error
    when the code expired or the user said no."""
    fields = {"grant_type": DEVICE_GRANT, "client_id": spec.client_id,
              "device_code": start.device_code}  # fmt: skip
    if start.verifier is not None:
        fields["code_verifier"] = start.verifier
    try:
        return call("POST", ends.token_url, form=fields)
    except UnreachableError as exc:
        raise InvalidInputError(f"{spec.name} sign-in failed: {exc}") from None
    except EndpointError as exc:
        if exc.error == "authorization_pending":
            return Pending(interval)
        if exc.error == "slow_down":
            return Pending(interval + SLOW_DOWN_STEP_S, slow_down=True)
        if exc.error == "expired_token":
            raise InvalidInputError(
                f"the {spec.name} code {start.user_code} expired before it was approved",
                hint=f"start again with 'omni providers login {spec.id}'",
            ) from None
        if exc.error == "access_denied":
            raise InvalidInputError(
                f"the {spec.name} sign-in was denied on the approval page",
                hint=f"start again with 'omni providers login {spec.id}' and approve it",
            ) from None
        raise InvalidInputError(f"{spec.name} sign-in failed: {exc}") from None


def device_wait(
    spec: Spec,
    ends: Endpoints,
    start: DeviceStart,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Poll until approved, at the server's interval (longer after each ``slow_down``)."""
    interval = start.interval
    while True:
        if now() >= start.expires_at:
            raise InvalidInputError(
                f"the {spec.name} code {start.user_code} expired before it was approved",
                hint=f"start again with 'omni providers login {spec.id}'",
            )
        sleep(interval)
        answer = device_poll(spec, ends, start, interval)
        if not isinstance(answer, Pending):
            return answer
        interval = answer.interval


# -- the callback listener ----------------------------------------------------------------

_DONE_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>omni</title>"
    b"<p>Signed in. You can close this tab and go back to the terminal.</p>"
)


class CallbackListener:
    """A one-shot HTTP listener on 127.0.0.1 that receives the authorization redirect.

    ``with CallbackListener(port, path) as listener:`` then give ``listener.redirect_uri``
    to the provider and :meth:`wait` for ``(code, state)``."""

    def __init__(self, port: int = 0, path: str = "/callback", host: str = "localhost") -> None:
        self.path = path
        self._result: tuple[str, str | None] | None = None
        self._error: str | None = None
        self._done = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != outer.path:
                    self.send_error(404)
                    return
                query = parse_qs(parts.query)
                if query.get("code"):
                    states = query.get("state")
                    outer._result = (query["code"][0], states[0] if states else None)
                else:
                    error = (query.get("error_description") or query.get("error") or ["?"])[0]
                    outer._error = error
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(_DONE_PAGE)
                outer._done.set()

            def log_message(self, *args: Any) -> None:  # no access log on the terminal
                pass

        try:
            self._server = HTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise InvalidInputError(
                f"cannot listen on 127.0.0.1:{port} for the sign-in redirect: {exc.strerror}",
                hint="free the port, or use --paste to paste the code instead",
            ) from None
        self.port = int(self._server.server_address[1])
        self.redirect_uri = f"http://{host}:{self.port}{path}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> CallbackListener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout: float) -> tuple[str, str | None]:
        """The code and state the browser brought back (a clear error after ``timeout``)."""
        if not self._done.wait(timeout):
            raise InvalidInputError(
                f"no sign-in arrived at {self.redirect_uri} within {timeout:g} s",
                hint="start again, or use --paste on a machine without a browser",
            )
        if self._result is None:
            raise InvalidInputError(f"the sign-in was not completed: {self._error}")
        return self._result
