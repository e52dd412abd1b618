"""A fake OAuth server and subscription API: sign-in, tokens, refresh, Copilot, Code Assist.

`FakeSubscriptions` is a `FakeUpstream` (same inference routes, same scripting with `push`)
that also plays every vendor's sign-in server on 127.0.0.1, and refuses inference calls
without a bearer token it issued:

- `GET /oauth/authorize` checks a PKCE (S256) request and redirects to `redirect_uri` with a
  single-use code and the state, as the vendor's page does after the user approves;
- `POST /oauth/token` takes JSON or form bodies: `authorization_code` (the verifier must
  match the challenge, the redirect the one the code was issued for), `refresh_token`
  (rotating: the old refresh token stops working) and the device grant, which plays the
  script set in `device_script` (`pending`, `slow_down`, `ok`, `expired`, `denied`);
- `POST /oauth/device` starts a device sign-in (`device_interval` seconds between polls);
- `GET /copilot/token` trades a GitHub token (`Authorization: token …`) for a Copilot token;
- `POST /v1internal:loadCodeAssist` names `project`; `/v1internal:generateContent` and
  `:streamGenerateContent` answer like Gemini inside Code Assist's `{"response": …}`
  envelope and insist on the request envelope (`model`, `project`, `request`).

`grants` lists every token endpoint call by grant (`authorization_code`, `refresh_token`,
`device_code`, and `copilot` per Copilot token) so tests count refreshes; `revoke()` and
`expire()` turn a refresh or access token bad, as a vendor does.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.dialects_common import Ctx, dumps
from tests.fakes.dialects_others import GEMINI
from tests.fakes.upstream import FakeUpstream

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class _Code:
    challenge: str
    redirect_uri: str
    client_id: str


def s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


def _error(status: int, error: str, description: str = "") -> web.Response:
    body = {"error": error, "error_description": description or error}
    return web.Response(body=dumps(body), status=status, content_type="application/json")


class FakeSubscriptions(FakeUpstream):
    """The fake sign-in server plus subscription APIs. See the module docstring."""

    def __init__(self, models: Sequence[str] = ("m1",)) -> None:
        super().__init__(models)
        self.codes: dict[str, _Code] = {}
        self.access: set[str] = set()  # access tokens the API accepts
        self.refresh_tokens: set[str] = set()
        self.devices: dict[str, list[str]] = {}
        self.device_challenges: dict[str, str] = {}
        self.device_script: list[str] = ["ok"]
        self.device_interval = 0
        self.device_errors_with_200 = False  # GitHub answers poll errors with status 200
        self.expires_in = 3600
        self.extra: dict[str, Any] = {}  # more fields for token answers (id_token, …)
        self.copilot_expires_in = 1800
        self.copilot_api: str | None = None  # the API root a Copilot token names
        self.project = "fake-project"
        self.require_bearer = True
        self.grants: list[str] = []
        self.issued: list[tuple[str, str]] = []  # (access, refresh) in the order issued
        self.refresh_delay = 0.0  # seconds the refresh grant takes (to overlap requests)
        self._ids = itertools.count(1)

    # ---------------------------------------------------------------- test-facing API

    @property
    def refreshes(self) -> int:
        return self.grants.count("refresh_token")

    def issue(self) -> tuple[str, str]:
        """A valid access and refresh token, as if someone had signed in."""
        n = next(self._ids)
        access, refresh = f"at-{n}", f"rt-{n}"
        self.access.add(access)
        self.refresh_tokens.add(refresh)
        self.issued.append((access, refresh))
        return access, refresh

    def revoke(self, refresh_token: str) -> None:
        self.refresh_tokens.discard(refresh_token)

    def expire(self, access_token: str) -> None:
        self.access.discard(access_token)

    # ---------------------------------------------------------------- plumbing

    def _app(self) -> web.Application:
        app = super()._app()
        app.middlewares.append(self._subscriptions)
        return app

    @web.middleware
    async def _subscriptions(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path == "/oauth/authorize":
            return self._authorize(request)
        if path == "/oauth/token":
            return await self._token(request)
        if path == "/oauth/device":
            return await self._device(request)
        if path == "/copilot/token":
            return await self._copilot(request)
        if path == "/v1internal:loadCodeAssist":
            return web.json_response({"cloudaicompanionProject": self.project})
        if self.require_bearer:
            given = request.headers.get("Authorization", "")
            if given.removeprefix("Bearer ") not in self.access:
                error = {"message": "invalid or expired token", "type": "authentication_error",
                         "code": "invalid_api_key"}  # fmt: skip
                return web.Response(
                    body=dumps({"error": error}), status=401, content_type="application/json"
                )
        if path.startswith("/v1internal:"):
            return await self._code_assist(request)
        return await handler(request)

    async def _form(self, request: web.Request) -> dict[str, str]:
        raw = await request.read()
        if request.content_type == "application/json":
            data = json.loads(raw or b"{}")
            return {k: str(v) for k, v in data.items()}
        return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}

    def _authorize(self, request: web.Request) -> web.Response:
        q = request.query
        for name in ("client_id", "redirect_uri", "state", "code_challenge"):
            if not q.get(name):
                return _error(400, "invalid_request", f"missing {name}")
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256":
            return _error(400, "invalid_request", "PKCE S256 and response_type=code required")
        code = f"code-{next(self._ids)}"
        self.codes[code] = _Code(q["code_challenge"], q["redirect_uri"], q["client_id"])
        target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})
        raise web.HTTPFound(target)

    def _tokens(self) -> web.Response:
        access, refresh = self.issue()
        body = {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
                "expires_in": self.expires_in, **self.extra}  # fmt: skip
        return web.json_response(body)

    async def _token(self, request: web.Request) -> web.StreamResponse:
        form = await self._form(request)
        grant = form.get("grant_type", "")
        if grant == "authorization_code":
            self.grants.append("authorization_code")
            issued = self.codes.pop(form.get("code", ""), None)
            if issued is None:
                return _error(400, "invalid_grant", "unknown or used code")
            if form.get("redirect_uri") != issued.redirect_uri:
                return _error(400, "invalid_grant", "redirect_uri does not match")
            if s256(form.get("code_verifier", "")) != issued.challenge:
                return _error(400, "invalid_grant", "PKCE verification failed")
            return self._tokens()
        if grant == "refresh_token":
            self.grants.append("refresh_token")
            if self.refresh_delay:
                await asyncio.sleep(self.refresh_delay)
            token = form.get("refresh_token", "")
            if token not in self.refresh_tokens:
                return _error(400, "invalid_grant", "the refresh token was revoked")
            self.refresh_tokens.discard(token)
            return self._tokens()
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            self.grants.append("device_code")
            code = form.get("device_code", "")
            script = self.devices.get(code)
            if script is None:
                return _error(400, "invalid_grant", "unknown device code")
            outcome = script.pop(0) if len(script) > 1 else script[0]
            status = 200 if self.device_errors_with_200 else 400
            named = {"pending": "authorization_pending", "slow_down": "slow_down",
                     "expired": "expired_token", "denied": "access_denied"}  # fmt: skip
            if outcome in named:
                return _error(status, named[outcome])
            challenge = self.device_challenges.get(code)
            if challenge and s256(form.get("code_verifier", "")) != challenge:
                return _error(400, "invalid_grant", "PKCE verification failed")
            del self.devices[code]
            return self._tokens()
        return _error(400, "unsupported_grant_type", grant)

    async def _device(self, request: web.Request) -> web.Response:
        form = await self._form(request)
        if not form.get("client_id"):
            return _error(400, "invalid_client")
        n = next(self._ids)
        code = f"device-{n}"
        self.devices[code] = list(self.device_script)
        if form.get("code_challenge"):
            self.device_challenges[code] = form["code_challenge"]
        return web.json_response({
            "device_code": code, "user_code": f"USER-{n}",
            "verification_uri": f"{self.url}/activate",
            "verification_uri_complete": f"{self.url}/activate?user_code=USER-{n}",
            "interval": self.device_interval, "expires_in": 900,
        })  # fmt: skip

    async def _copilot(self, request: web.Request) -> web.Response:
        self.grants.append("copilot")
        given = request.headers.get("Authorization", "")
        github = given.removeprefix("token ")
        if (
            not given.startswith("token ")
            or not github.startswith("at-")
            or github not in self.access
        ):
            return web.json_response({"message": "Bad credentials"}, status=401)
        token = f"cop-{next(self._ids)}"
        self.access.add(token)
        return web.json_response({
            "token": token, "expires_at": int(time.time()) + self.copilot_expires_in,
            "refresh_in": self.copilot_expires_in - 300,
            "endpoints": {"api": self.copilot_api or f"{self.url}/v1"},
        })  # fmt: skip

    async def _code_assist(self, request: web.Request) -> web.StreamResponse:
        method = request.path.removeprefix("/v1internal:")
        body = json.loads(await request.read() or b"{}")
        if not (isinstance(body.get("request"), dict) and body.get("model")):
            return _error(400, "invalid_request", "Code Assist wants {model, project, request}")
        if body.get("project") != self.project:
            return _error(403, "permission_denied", "unknown project")
        reply = self._next_reply()
        ctx = Ctx(model=body["model"], request=body["request"], seq=next(self._ids),
                  created=int(time.time()))  # fmt: skip
        if method == "streamGenerateContent":
            frames = []
            for event in GEMINI.events(reply, ctx) if GEMINI.events else []:
                inner = json.loads(event.decode().strip().removeprefix("data: "))
                frames.append(b"data: " + dumps({"response": inner}) + b"\r\n\r\n")
            return await self._send(request, reply, "text/event-stream", frames, stream=True)
        return web.json_response({"response": GEMINI.json(reply, ctx)})
