"""The server's token keeper: OAuth credentials stay fresh without anyone noticing.

- **Proactive**: :meth:`TokenKeeper.run` sweeps every ``interval`` seconds and refreshes
  each account whose access token expires within ``lead_s`` (5 minutes).
- **One at a time**: every refresh of an account goes through :meth:`TokenKeeper.refresh`,
  which runs at most one per account; whoever asks meanwhile awaits the same result.
- **One process at a time**: several server processes (workers) share the accounts, and a
  rotating refresh token works only once. A refresh holds the account's lock file
  (``flock`` under the runtime dir) and first reads the stored credential again: if
  another process renewed it meanwhile, that one is taken and the token endpoint is not
  called; a 'needs login' mark found there is taken as well. So every worker may run the
  sweep: the first renews, the others pick up its result.
- **On a 401**: :meth:`TokenKeeper.refresher` is the gateway's ``refresher`` hook. A target
  whose token is older than the keeper's gets the current one without a refresh; otherwise
  the account is refreshed (once, shared) and the request retried with the new token.
- **Needs login**: a refresh token the provider refuses marks the account ``needs_login``
  in the store (out of routing, shown by ``omni providers list``); the request that found
  out fails over to the next account with a message saying what to run.

A refreshed credential is stored encrypted (and written back to the vendor's file when the
account was imported with ``--write-back``), then the routing snapshot is rebuilt, so the
request path only ever reads the snapshot. Token endpoint calls run on a worker thread.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from omni.config import Settings
from omni.errors import OmniError, SecretKeyError
from omni.oauth import importers
from omni.oauth.specs import SPECS, endpoints
from omni.oauth.targets import bearer_of, needing_login, with_credential
from omni.oauth.tokens import Credential, RefreshFailed, RevokedError, refresh
from omni.paths import ensure_dir
from omni.providers.executor import Target
from omni.store import oauth as repo
from omni.store.db import Database
from omni.store.secrets import SecretBox

log = logging.getLogger("omni.oauth")

LEAD_S = 300.0  # refresh this long before the access token expires
SWEEP_S = 30.0
RETRY_S = 60.0  # after a refresh that failed for a passing reason


@dataclass(slots=True)
class _Account:
    id: int
    provider: str  # the spec id (catalog id)
    provider_id: str  # the configured provider's id
    name: str
    cred: Credential
    enabled: bool
    dead: str | None = None  # why it needs a new sign-in
    retry_at: float = 0.0


class TokenKeeper:
    """Keeps the OAuth accounts of one server fresh (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        secrets: SecretBox,
        settings: Settings,
        *,
        version: Callable[[], int],
        on_change: Callable[[], None],
        clock: Callable[[], float] = time.time,
        lead_s: float = LEAD_S,
    ) -> None:
        self._db = db
        self._secrets = secrets
        self._settings = settings
        self._version_now = version  # the routing snapshot's config version
        self._on_change = on_change  # rebuild the routing snapshot
        self.clock = clock
        self.lead_s = lead_s
        self.accounts: dict[int, _Account] = {}
        self._version: int | None = None
        self._loading = asyncio.Lock()
        self._inflight: dict[int, asyncio.Task[Credential | None]] = {}

    # -- the credentials in memory ----------------------------------------------------------

    def _load(self) -> tuple[int, list[_Account]]:
        with self._db.session() as conn:
            version = self._db.config_version(conn)
            rows = repo.list_oauth_accounts(conn)
        found = []
        for row in rows:
            provider = row.catalog_id or row.provider_id
            if provider not in SPECS or not row.secret:
                continue
            try:
                cred = Credential.loads(self._secrets.decrypt(row.secret))
            except (ValueError, SecretKeyError):
                continue
            dead = None
            if row.login_state == repo.NEEDS_LOGIN:
                dead = row.login_error or _reason(
                    provider, row.provider_id, row.name, "its refresh token was refused"
                )
            found.append(
                _Account(row.id, provider, row.provider_id, row.name, cred, row.enabled, dead)
            )
        return version, found

    async def sync(self) -> None:
        """Read the accounts again when the configuration changed since the last read."""
        if self._version is not None and self._version == self._version_now():
            return
        async with self._loading:
            if self._version is not None and self._version == self._version_now():
                return
            version, found = await asyncio.to_thread(self._load)
            fresh = {}
            for account in found:
                known = self.accounts.get(account.id)
                if known is not None and account.dead is None and _newer(known.cred, account.cred):
                    account.cred = known.cred  # a refresh finished after the read began
                if known is not None:
                    account.retry_at = known.retry_at
                fresh[account.id] = account
            self.accounts, self._version = fresh, version

    # -- refreshing -------------------------------------------------------------------------

    async def refresh(self, account_id: int) -> Credential | None:
        """Renew one account's credential; at most one refresh per account runs at a time
        (later callers await the one in flight). None: it could not be renewed."""
        task = self._inflight.get(account_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._refresh(account_id))
            self._inflight[account_id] = task
            task.add_done_callback(lambda _: self._inflight.pop(account_id, None))
        return await asyncio.shield(task)

    async def _refresh(self, account_id: int) -> Credential | None:
        account = self.accounts.get(account_id)
        if account is None or account.dead is not None:
            return None
        try:
            fresh = await asyncio.to_thread(self._refresh_shared, account)
        except RevokedError as exc:
            account.dead = str(exc)
            log.warning("%s", account.dead)
            self._changed()
            return None
        except RefreshFailed as exc:
            account.retry_at = self.clock() + RETRY_S
            log.warning(
                "could not refresh account '%s' of provider '%s' (will retry): %s",
                account.name, account.provider_id, exc,
            )  # fmt: skip
            return None
        if fresh is None:  # the account was removed meanwhile
            return None
        account.cred, account.retry_at = fresh, 0.0
        self._changed()
        return fresh

    def _refresh_shared(self, account: _Account) -> Credential | None:
        """Renew ``account`` holding its lock file, so one process at a time refreshes it
        (a rotating refresh token works once). Under the lock the stored credential is read
        again: when another process renewed it meanwhile, that one is used and the token
        endpoint is not called. Runs on a worker thread; the new credential is stored
        before the lock is let go. None: the account is gone; raises :class:`RevokedError`
        (the account is marked 'needs login') or :class:`RefreshFailed`."""
        with _account_lock(self._settings.paths.runtime_dir, account.id):
            with self._db.session() as conn:
                row = repo.get_oauth_account(conn, account.id)
            if row is None:
                return None
            if row.login_state == repo.NEEDS_LOGIN:
                raise RevokedError(row.login_error or self._dead(account, "its sign-in ended"))
            now, held = self.clock(), account.cred
            stored = self._decrypt(row.secret)
            if stored is not None and stored != held:
                left = stored.seconds_left(now)
                if left is None or left > self.lead_s:
                    return stored  # another process renewed it
                held = stored  # renew the newest one: its refresh token is the live one
            spec = SPECS[account.provider]
            try:
                fresh = refresh(spec, endpoints(spec, self._settings), held, now)
            except RevokedError as exc:
                reason = self._dead(account, str(exc))
                self._mark(account.id, reason)
                raise RevokedError(reason) from None
            self._save(account, fresh)
            return fresh

    def _decrypt(self, secret: str | None) -> Credential | None:
        if not secret:
            return None
        try:
            return Credential.loads(self._secrets.decrypt(secret))
        except (ValueError, SecretKeyError):
            return None

    @staticmethod
    def _dead(account: _Account, why: str) -> str:
        return _reason(account.provider, account.provider_id, account.name, why)

    def _save(self, account: _Account, cred: Credential) -> None:
        with self._db.transaction() as conn:
            repo.update_credential(
                conn, account.id, self._secrets.encrypt(cred.dumps()), cred.expires_at
            )
        path, tool = cred.data.get("write_back"), SPECS[account.provider].tool
        if path and tool:
            try:
                importers.write_back(tool, Path(path), cred)
            except (OSError, OmniError) as exc:
                log.warning("could not write the refreshed sign-in back to %s: %s", path, exc)

    def _mark(self, account_id: int, reason: str) -> None:
        with self._db.transaction() as conn:
            repo.mark_needs_login(conn, account_id, reason)

    def _changed(self) -> None:
        try:
            self._on_change()
        except OmniError:
            log.exception("could not rebuild the routes after an OAuth change")

    async def sweep(self) -> int:
        """Refresh every account that expires within ``lead_s``; how many were renewed."""
        await self.sync()
        now = self.clock()
        due = [
            a.id
            for a in self.accounts.values()
            if a.enabled and a.dead is None and a.retry_at <= now
            and a.cred.expires_at is not None and a.cred.expires_at - now <= self.lead_s
        ]  # fmt: skip
        renewed = 0
        for account_id in due:
            if await self.refresh(account_id) is not None:
                renewed += 1
        return renewed

    async def run(self, interval: float = SWEEP_S) -> None:
        """Sweep forever (a background task of the server)."""
        while True:
            try:
                await self.sweep()
            except Exception:  # one bad sweep must not end the keeper
                log.exception("the OAuth token sweep failed")
            await asyncio.sleep(interval)

    # -- the gateway's hook ------------------------------------------------------------------

    async def refresher(self, target: Target) -> Target | None:
        """The target to retry with after an upstream 401 (see the module docstring)."""
        if target.wire is None:
            return None
        await self.sync()
        account = self.accounts.get(target.account_id)
        if account is None:
            return None
        if account.dead is not None:
            return needing_login(target, account.dead)
        current = account.cred
        left = current.seconds_left(self.clock())
        if bearer_of(target) != current.access_token and (left is None or left > 0):
            return with_credential(target, account.provider, current)  # already renewed
        fresh = await self.refresh(account.id)
        if fresh is None:
            return needing_login(target, account.dead) if account.dead else None
        return with_credential(target, account.provider, fresh)


@contextmanager
def _account_lock(runtime_dir: Path, account_id: int) -> Iterator[None]:
    """Hold the OS lock of one account's refreshes (blocking; never on the event loop).

    A lock file per account under the runtime dir, shared by every omni process of this
    user; ``flock`` is let go by the kernel if the holder dies, so none is ever stuck."""
    folder = ensure_dir(runtime_dir / "locks")
    fd = os.open(folder / f"oauth-{account_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing lets the lock go


def _newer(mine: Credential, stored: Credential) -> bool:
    return (mine.expires_at or 0.0) > (stored.expires_at or 0.0)


def _reason(provider: str, provider_id: str, account: str, why: str) -> str:
    name = SPECS[provider].name
    return (
        f"the {name} account '{account}' of provider '{provider_id}' needs a new sign-in "
        f"({why}); run 'omni providers login {provider_id} --account {account}'"
    )
