"""Finding the server the dashboard watches, before the app starts.

Without ``--url``: the server this installation runs (its ``server.json``), started in
the background when none runs (and the user is told, since it outlives the dashboard),
with the local admin token read from its 0600 file. With ``--url``: the local token if
that server accepts it (it is this installation's own), else a login with the admin
password, which is kept in memory only, to log in again if the server restarts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from omni.config import Settings
from omni.errors import AuthError, ServerNotRunningError
from omni.tui.client import HttpAdminApi, login


@dataclass(frozen=True)
class Connection:
    """Where the dashboard connects and how it proves who it is."""

    url: str
    token: str | None
    password: str | None = None
    note: str | None = None
    local: bool = True

    def api(self) -> HttpAdminApi:
        relogin = None
        if self.password is not None:
            url, password = self.url, self.password

            async def relogin_now() -> str | None:
                try:
                    return await login(url, password)
                except (AuthError, ServerNotRunningError):
                    return None

            relogin = relogin_now
        return HttpAdminApi(self.url, self.token, relogin)


def local_token(settings: Settings) -> str | None:
    """The local admin token, if this installation has one."""
    try:
        token = settings.paths.admin_token_file.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token or None


def _accepts(url: str, token: str | None) -> bool:
    """Whether the server at ``url`` lets ``token`` (or no token) manage it."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.get(f"{url}/api/providers", headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        raise ServerNotRunningError(
            f"cannot reach the omni server at {url}: {type(exc).__name__}"
        ) from None
    return response.status_code < 400


def _login(url: str, password: str) -> str:
    try:
        response = httpx.post(f"{url}/api/auth/login", json={"password": password}, timeout=15)
    except httpx.HTTPError as exc:
        raise ServerNotRunningError(
            f"cannot reach the omni server at {url}: {type(exc).__name__}"
        ) from None
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code >= 400 or not isinstance(data.get("token"), str):
        message = (data.get("error") or {}).get("message") or f"HTTP {response.status_code}"
        raise AuthError(f"login to {url} failed: {message}")
    token: str = data["token"]
    return token


def attach(
    settings: Settings,
    url: str | None = None,
    password: str | None = None,
    ask_password: Callable[[], str] | None = None,
    start: bool = True,
) -> Connection:
    """The connection to use; starts a local server when none runs (and ``start``)."""
    if url:
        url = url.rstrip("/")
        token = local_token(settings)
        if password is None and _accepts(url, token):
            return Connection(url, token, local=False)
        if password is None:
            if ask_password is None:
                raise AuthError(f"the server at {url} needs the admin password")
            password = ask_password()
        return Connection(url, _login(url, password), password=password, local=False)

    from omni.process import find_server, start_detached

    info = find_server(settings)
    note = None
    if info is None:
        if not start:
            raise ServerNotRunningError("no omni server is running", hint="'omni start'")
        info = start_detached(settings)
        note = (
            f"no server was running, so one was started at {info.url} (pid {info.pid}); "
            "it keeps running after you quit ('omni stop' stops it)"
        )
    return Connection(info.url, local_token(settings), note=note)
