"""Signing subscription accounts in: OAuth flows and credential imports, as services.

A sign-in is a few calls (``/api/oauth/{provider}/{action}`` or the in-process client):

- PKCE: :meth:`OAuthService.authorize` returns the URL to open and a flow id (the
  verifier stays here); :meth:`OAuthService.exchange` takes the code that came back;
- device code: :meth:`OAuthService.device_code` returns the user code and page;
  :meth:`OAuthService.poll` asks once whether it was approved (the caller waits the
  interval it is told between polls);
- :meth:`OAuthService.import_credentials` takes the contents of a vendor CLI's file.

Each finishes by storing the account (``auth_type`` 'oauth', the credential encrypted) on
the catalog provider, created if needed. Flows in progress live in :class:`PendingFlows`
(memory, 15 minutes, single use). Nothing returned or logged holds a token.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from omni.admin import CLI, Actor, AdminContext
from omni.errors import InvalidInputError, NotFoundError
from omni.oauth import flows, importers
from omni.oauth.specs import SPECS, TOOLS, Spec, endpoints, spec_for
from omni.oauth.tokens import Credential, code_assist_project, finish_login
from omni.providers.catalog import load_catalog
from omni.store import audit
from omni.store import oauth as oauth_repo
from omni.store import providers as repo

FLOW_TTL_S = 900.0
_ACCOUNT = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(slots=True)
class Flow:
    """One sign-in in progress."""

    provider: str
    account: str
    created: float
    pkce: flows.PkceStart | None = None
    device: flows.DeviceStart | None = None
    interval: float = 5.0
    project: str | None = None
    expires: float = field(default=0.0)


class PendingFlows:
    """Sign-ins in progress, by flow id (thread-safe: services run on worker threads)."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._flows: dict[str, Flow] = {}
        self._lock = threading.Lock()
        self.clock = clock

    def add(self, flow: Flow) -> str:
        flow_id = secrets.token_urlsafe(16)
        with self._lock:
            now = self.clock()
            for key in [k for k, f in self._flows.items() if f.expires <= now]:
                del self._flows[key]
            self._flows[flow_id] = flow
        return flow_id

    def get(self, flow_id: str, provider: str, *, take: bool = False) -> Flow:
        with self._lock:
            flow = self._flows.get(flow_id)
            if flow is None or flow.provider != provider or flow.expires <= self.clock():
                self._flows.pop(flow_id, None)
                raise NotFoundError(
                    f"no {provider} sign-in in progress with that id (it expired or was used)",
                    hint=f"start again with 'omni providers login {provider}'",
                )
            if take:
                del self._flows[flow_id]
            return flow

    def drop(self, flow_id: str) -> None:
        with self._lock:
            self._flows.pop(flow_id, None)


def _account_name(account: str) -> str:
    if not _ACCOUNT.match(account or ""):
        raise InvalidInputError(f"invalid account name {account!r}")
    return account


class OAuthService:
    """Sign subscription accounts in (see the module docstring)."""

    def __init__(self, ctx: AdminContext, pending: PendingFlows, actor: Actor = CLI) -> None:
        self.ctx = ctx
        self.pending = pending
        self.actor = actor

    # -- PKCE ---------------------------------------------------------------------------------

    def authorize(
        self,
        provider: str,
        *,
        redirect_uri: str | None = None,
        account: str = "default",
        project: str | None = None,
    ) -> dict[str, Any]:
        """Start a PKCE sign-in: the URL to open and the flow id to exchange the code with.

        ``redirect_uri``: a listener on this machine (``http://localhost:PORT/path``);
        without one, the provider's page that shows the code to paste (or, for Codex,
        its registered local address, whose URL the user copies from the browser)."""
        spec = spec_for(provider)
        if spec.flow != "pkce":
            raise InvalidInputError(
                f"{spec.name} signs in with a device code, not a browser redirect",
                hint=f"use the device-code action ('omni providers login {spec.id}')",
            )
        name = _account_name(account)
        redirect = _check_redirect(spec, redirect_uri) if redirect_uri else _default_redirect(spec)
        start = flows.pkce_start(spec, endpoints(spec, self.ctx.settings), redirect)
        now = self.pending.clock()
        flow = Flow(spec.id, name, now, pkce=start, project=project, expires=now + FLOW_TTL_S)
        flow_id = self.pending.add(flow)
        return {
            "flow_id": flow_id,
            "provider": spec.id,
            "url": start.url,
            "redirect_uri": redirect,
            "paste": redirect_uri is None,
            "expires_in": int(FLOW_TTL_S),
        }

    def exchange(
        self, provider: str, flow_id: str, code: str, state: str | None = None
    ) -> dict[str, Any]:
        """Finish a PKCE sign-in with the code (or the pasted URL / ``code#state``)."""
        spec = spec_for(provider)
        flow = self.pending.get(flow_id, spec.id, take=True)
        assert flow.pkce is not None
        if state is None:
            code, state = flows.parse_pasted(code)
        ends = endpoints(spec, self.ctx.settings)
        data = flows.pkce_exchange(spec, ends, flow.pkce, code, state)
        cred = finish_login(spec, ends, data, time.time(), flow.project)
        return self._save(spec, flow.account, cred, "login")

    # -- device code ----------------------------------------------------------------------------

    def device_code(self, provider: str, *, account: str = "default") -> dict[str, Any]:
        """Start a device sign-in: the code to show and where to enter it."""
        spec = spec_for(provider)
        if spec.flow != "device":
            raise InvalidInputError(
                f"{spec.name} signs in through the browser (PKCE), not with a device code",
                hint="use the authorize and exchange actions",
            )
        name = _account_name(account)
        start = flows.device_start(spec, endpoints(spec, self.ctx.settings), self.pending.clock)
        now = self.pending.clock()
        flow = Flow(spec.id, name, now, device=start, interval=start.interval,
                    expires=min(start.expires_at, now + FLOW_TTL_S))  # fmt: skip
        flow_id = self.pending.add(flow)
        return {
            "flow_id": flow_id,
            "provider": spec.id,
            "user_code": start.user_code,
            "verification_uri": start.verification_uri,
            "verification_uri_complete": start.verification_uri_complete,
            "interval": start.interval,
            "expires_in": max(0, round(flow.expires - now)),
        }

    def poll(self, provider: str, flow_id: str) -> dict[str, Any]:
        """Ask once whether a device sign-in was approved: ``pending`` or ``slow_down``
        (with the interval to wait before asking again) or ``complete`` (the account)."""
        spec = spec_for(provider)
        flow = self.pending.get(flow_id, spec.id)
        assert flow.device is not None
        ends = endpoints(spec, self.ctx.settings)
        try:
            answer = flows.device_poll(spec, ends, flow.device, flow.interval)
        except InvalidInputError:
            self.pending.drop(flow_id)
            raise
        if isinstance(answer, flows.Pending):
            flow.interval = answer.interval
            status = "slow_down" if answer.slow_down else "pending"
            return {"status": status, "interval": answer.interval}
        self.pending.drop(flow_id)
        cred = finish_login(spec, ends, answer, time.time())
        return {"status": "complete", "account": self._save(spec, flow.account, cred, "login")}

    # -- imports --------------------------------------------------------------------------------

    def import_credentials(
        self,
        tool: str,
        credentials: dict[str, Any],
        *,
        account: str = "default",
        write_back: str | None = None,
        project: str | None = None,
    ) -> dict[str, Any]:
        """An account from a vendor CLI's credential file (its JSON contents)."""
        provider = TOOLS.get(tool)
        if provider is None:
            raise InvalidInputError(f"cannot import from '{tool}': choose claude, codex or gemini")
        spec = SPECS[provider]
        name = _account_name(account)
        cred = importers.parse(tool, credentials)
        if write_back:
            cred.data["write_back"] = _check_write_back(tool, write_back)
        if spec.id == "gemini-cli":
            ends = endpoints(spec, self.ctx.settings)
            cred.data["project"] = project or code_assist_project(ends, cred)
        return self._save(spec, name, cred, f"import:{tool}")

    # -- storing --------------------------------------------------------------------------------

    def _save(self, spec: Spec, account: str, cred: Credential, source: str) -> dict[str, Any]:
        catalog = load_catalog().providers[spec.id]
        sealed = self.ctx.secrets.encrypt(cred.dumps())
        with self.ctx.db.transaction() as conn:
            existing = repo.get_provider(conn, spec.id)
            if existing is None:
                repo.upsert_provider(
                    conn, spec.id, catalog_id=spec.id, format=catalog.format, base_url=None
                )
            account_id = oauth_repo.save_account(
                conn, spec.id, account, secret=sealed, expires_at=cred.expires_at, source=source
            )
            action = "provider.login" if source == "login" else "provider.import"
            audit.record(
                conn, self.actor.name, action, target=spec.id, ip=self.actor.ip,
                detail={"account": account, "source": source},
            )  # fmt: skip
        return {
            "provider": spec.id,
            "account": account,
            "account_id": account_id,
            "source": source,
            "email": cred.data.get("email"),
            "expires_at": _iso(cred.expires_at),
            "refreshable": bool(cred.refresh_token or cred.data.get("github_token")),
        }


def _iso(when: float | None) -> str | None:
    if when is None:
        return None
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds")


def _default_redirect(spec: Spec) -> str:
    if spec.paste_redirect:
        return spec.paste_redirect
    return f"http://localhost:{spec.loopback_port}{spec.loopback_path}"


def _check_redirect(spec: Spec, uri: str) -> str:
    """A redirect the caller may ask for: a listener on its own machine, or the vendor's
    code page; anything else could send the code elsewhere."""
    if uri == spec.paste_redirect:
        return uri
    parts = urlsplit(uri)
    if parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1") and parts.port:
        return uri
    raise InvalidInputError(
        "redirect_uri must be http://localhost:PORT/... (a listener on your machine)"
    )


def _check_write_back(tool: str, path: str) -> str:
    """Only the tool's own credential file (by name, existing, in its format) may be
    written: the server never writes refreshed tokens anywhere else."""
    given = Path(path)
    expected = importers.default_path(tool).name
    if not given.is_absolute() or given.name != expected or not given.is_file():
        raise InvalidInputError(
            f"write_back must be the absolute path of an existing {tool} file named {expected}"
        )
    importers.parse(tool, importers.read_file(tool, given))
    return str(given)
