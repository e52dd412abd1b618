"""``omni doctor``: is this installation healthy, and if not, what to do about it.

Each check gives ``ok``, ``warn`` or ``fail``, a message and (when something is wrong)
the command or step that fixes it: the config file parses; the data folder and its files
are private (0700 / 0600; ``fix=True`` repairs them); the database passes
``PRAGMA quick_check`` and has every migration this omni knows; the encryption key is
there and opens the stored secrets; the port is free or our own server answers on it;
each enabled provider answers a model-list request within a short time (all at once, on
threads); the coding tools on ``PATH`` and whether they point at this omni.

Nothing here changes the installation (no key is created, no migration applied) except
the permission repair asked for with ``fix``.
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omni.config import Settings, load_settings
from omni.errors import OmniError
from omni.paths import resolve_paths

Progress = Callable[[str, int, int], None]
"""Told (what is being checked, checks done, checks in all)."""

OK, WARN, FAIL = "ok", "warn", "fail"
TOOLS = ("claude", "codex", "opencode", "gemini")


@dataclass(slots=True)
class Check:
    """The outcome of one check."""

    name: str
    status: str
    message: str
    fix: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "fix": self.fix,
            "detail": self.detail,
        }


def _loose(path: Path, private: int) -> bool:
    """Whether ``path`` lets anyone but its owner in (beyond ``private``)."""
    return bool(stat.S_IMODE(path.stat().st_mode) & ~private & 0o777)


class Doctor:
    """Runs the checks; ``fix`` repairs file permissions on the way."""

    def __init__(self, timeout: float = 3.0, fix: bool = False) -> None:
        self.timeout = timeout
        self.fix = fix
        self.settings: Settings | None = None
        self.box: Any = None
        self.store_ok = False
        self.store_readable = False
        self.key_ok = False

    def run(self, progress: Progress | None = None) -> list[Check]:
        checks = [self.config()]
        settings = self.settings or Settings(paths=resolve_paths())
        for step in (self.permissions, self.store, self.key, self.server):
            checks.append(step(settings))
        checks += self.providers(settings, progress)
        checks += self.tools(settings)
        return checks

    # -- config, files, store, key -------------------------------------------------------

    def config(self) -> Check:
        paths = resolve_paths()
        try:
            self.settings = load_settings()
        except OmniError as exc:
            return Check(
                "config",
                FAIL,
                exc.message,
                fix=f"fix it: omni config edit ({exc.hint})"
                if exc.hint
                else "fix it with 'omni config edit'",
            )
        where = paths.config_file
        state = "parses" if where.exists() else "does not exist (defaults apply)"
        return Check("config", OK, f"{where} {state}", detail={"file": str(where)})

    def permissions(self, settings: Settings) -> Check:
        data = settings.paths.data_dir
        if not data.exists():
            return Check("permissions", OK, f"no data folder yet ({data}); omni creates it 0700")
        folders = [data] + [p for p in (data / "backups", data / "tool-backups") if p.is_dir()]
        files = [p for folder in folders for p in folder.iterdir() if p.is_file()]
        loose_dirs = [p for p in folders if _loose(p, 0o700)]
        loose_files = [p for p in files if _loose(p, 0o600)]
        if self.fix and (loose_dirs or loose_files):
            for path in loose_dirs:
                path.chmod(0o700)
            for path in loose_files:
                path.chmod(0o600)
            fixed = len(loose_dirs) + len(loose_files)
            return Check("permissions", OK, f"made {fixed} file(s) and folder(s) private again")
        if loose_dirs or loose_files:
            names = [str(p) for p in [*loose_dirs, *loose_files]]
            shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
            commands = [f"chmod 700 {p}" for p in loose_dirs][:2] + [
                f"chmod 600 {p}" for p in loose_files
            ][:2]
            return Check(
                "permissions",
                FAIL,
                f"others can read omni's private data: {shown}",
                fix="run 'omni doctor --fix' (or " + "; ".join(commands) + ")",
                detail={"loose": names},
            )
        return Check("permissions", OK, f"{data} and its {len(files)} file(s) are private")

    def store(self, settings: Settings) -> Check:
        from omni.store import migrations
        from omni.store.db import Database

        path = settings.paths.database
        if not path.exists():
            return Check("store", OK, f"no database yet ({path}); created on first use")
        try:
            with Database(path).session() as conn:
                verdict = [str(r[0]) for r in conn.execute("PRAGMA quick_check")]
                tracked = conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'"
                ).fetchone()
                done = (
                    {int(r[0]) for r in conn.execute("SELECT id FROM schema_migrations")}
                    if tracked
                    else set()
                )
        except Exception as exc:  # noqa: BLE001 - any failure to read it is the finding
            reason = exc.message if isinstance(exc, OmniError) else f"{path}: {exc}"
            return Check(
                "store",
                FAIL,
                reason,
                fix="restore a backup: 'omni backup list', 'omni backup restore NAME'",
            )
        self.store_readable = True
        if verdict != ["ok"]:
            return Check(
                "store",
                FAIL,
                f"the database is damaged: {'; '.join(verdict[:3])}",
                fix="restore a backup: 'omni backup list', then 'omni backup restore NAME'",
            )
        known = {m.id for m in migrations.MIGRATIONS}
        if done and max(done) > migrations.LATEST:
            return Check(
                "store",
                FAIL,
                f"the database has schema version {max(done)}, newer than this omni "
                f"({migrations.LATEST})",
                fix="upgrade omni",
            )
        pending = sorted(known - done)
        if pending:
            return Check(
                "store",
                WARN,
                f"{len(pending)} migration(s) not applied yet: {pending}",
                fix="start omni ('omni start'); it backs the database up, then migrates",
            )
        self.store_ok = True
        return Check("store", OK, f"{path} passes quick_check; schema {migrations.LATEST}")

    def key(self, settings: Settings) -> Check:
        from omni.errors import SecretKeyError
        from omni.store import providers as repo
        from omni.store.db import Database
        from omni.store.secrets import verify_key

        key_file = settings.paths.secret_key_file
        if not settings.paths.database.exists():
            state = "present" if key_file.exists() else "not created yet"
            self.key_ok = True
            return Check("encryption key", OK, f"{key_file} {state}")
        if not self.store_readable:
            return Check("encryption key", WARN, "not checked: the database cannot be read")
        db = Database(settings.paths.database)
        try:
            box, source = verify_key(db, key_file)
        except SecretKeyError as exc:
            return Check("encryption key", FAIL, exc.message, fix=exc.hint)
        except OmniError as exc:
            return Check("encryption key", FAIL, exc.message, fix=exc.hint)
        self.box, self.key_ok = box, True
        if box is None:
            return Check("encryption key", OK, "no key yet (made when the first secret is saved)")
        if not self.store_ok:
            return Check("encryption key", OK, f"the key from {source} matches the database")
        sealed: list[str] = []
        with db.session() as conn:
            for account in repo.list_accounts(conn):
                for value in (account.secret, account.proxy):
                    if value and value.startswith("enc:"):
                        sealed.append(value)
        broken = 0
        for value in sealed:
            try:
                box.decrypt(value)
            except SecretKeyError:
                broken += 1
        if broken:
            self.key_ok = False
            return Check(
                "encryption key",
                FAIL,
                f"{broken} of {len(sealed)} stored secrets cannot be decrypted with the key "
                f"from {source}",
                fix="restore the original key file, or add those accounts again",
            )
        return Check(
            "encryption key", OK, f"the key from {source} opens all {len(sealed)} stored secrets"
        )

    def server(self, settings: Settings) -> Check:
        from omni.process import find_server, health

        info = find_server(settings)
        if info is not None:
            state = health(info.url, timeout=min(self.timeout, 2.0))
            if state is None:
                return Check(
                    "server",
                    WARN,
                    f"omni (pid {info.pid}) at {info.url} does not answer",
                    fix="'omni restart'",
                )
            return Check(
                "server",
                OK,
                f"omni is running at {info.url} (pid {info.pid})",
                detail={"url": info.url, "pid": info.pid},
            )
        family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((settings.host, settings.port))
            except OSError as exc:
                return Check(
                    "server",
                    FAIL,
                    f"port {settings.port} on {settings.host} is taken by another program "
                    f"({exc.strerror})",
                    fix="stop that program, or 'omni config set server.port N'",
                )
        return Check("server", OK, f"not running; port {settings.port} on {settings.host} is free")

    # -- providers and tools -------------------------------------------------------------

    def providers(self, settings: Settings, progress: Progress | None) -> list[Check]:
        if not settings.paths.database.exists():
            return [Check("providers", WARN, "no provider is configured yet",
                          fix="add one: 'omni providers add NAME --api-key …'")]  # fmt: skip
        if not (self.store_ok and self.key_ok):
            return []
        from omni.admin import AdminContext
        from omni.admin.checks import ProviderCheckService
        from omni.store import providers as repo
        from omni.store.db import Database
        from omni.store.secrets import SecretBox

        ctx = AdminContext(settings, Database(settings.paths.database))
        ctx.__dict__["secrets"] = self.box or SecretBox(os.urandom(32))  # never a new key file
        with ctx.db.session() as conn:
            rows = [r for r in repo.list_providers(conn) if r.enabled]
        if not rows:
            return [
                Check(
                    "providers",
                    WARN,
                    "no provider is configured (or enabled)",
                    fix="add one: 'omni providers add NAME --api-key …'",
                )
            ]
        service = ProviderCheckService(ctx)
        results: list[Check] = []
        with ThreadPoolExecutor(max_workers=min(8, len(rows))) as pool:
            futures = {pool.submit(self._reach, service, row.id): row.id for row in rows}
            for done, future in enumerate(as_completed(futures), 1):
                results.append(future.result())
                if progress is not None:
                    progress(f"provider {futures[future]}", done, len(rows))
        return sorted(results, key=lambda c: c.name)

    def _reach(self, service: Any, provider_id: str) -> Check:
        from omni.admin import upstream as calls

        name = f"provider {provider_id}"
        try:
            row, targets = service.targets(provider_id)
        except OmniError as exc:
            return Check(name, FAIL, exc.message, fix=exc.hint)
        if not targets:
            return Check(
                name,
                WARN,
                "no enabled account",
                fix=f"'omni accounts add {provider_id} NAME --api-key …'",
            )
        target = targets[0]
        url = calls.models_url(row.format, target.base_url, row.models_path)
        outcome = calls.request(
            "GET", url, target.headers, proxy=target.proxy, timeout=self.timeout
        )
        detail = {"url": url, "status": outcome.status, "latency_ms": round(outcome.latency_ms)}
        if outcome.ok:
            return Check(name, OK, f"reachable ({outcome.latency_ms:.0f} ms)", detail=detail)
        if outcome.status in (401, 403):
            return Check(
                name,
                FAIL,
                f"refuses account '{target.account_name}': {outcome.error}",
                fix=f"check its key: 'omni providers test {provider_id}'",
                detail=detail,
            )
        if outcome.status in (404, 405, 429):
            return Check(name, WARN, f"answers, but: {outcome.error}", detail=detail)
        return Check(
            name,
            FAIL,
            outcome.error or "no answer",
            fix=f"check its base URL ('omni providers show {provider_id}'), the network "
            "and the proxy",
            detail=detail,
        )

    def tools(self, settings: Settings) -> list[Check]:
        from omni.process import find_server
        from omni.tools import runtime
        from omni.tools.setup import inspect, local_url
        from omni.tools.writers import Places

        info = find_server(settings)
        here = info.url if info else local_url(settings.host, settings.port)
        places = Places.current()
        ready, unset, missing, checks = [], [], [], []
        for tool_id in TOOLS:
            _, path, _ = runtime.locate(runtime.TOOLS[tool_id])
            if path is None:
                missing.append(tool_id)
                continue
            configured = inspect(tool_id, places)["configured"]
            if configured is None:
                unset.append(tool_id)
            elif configured.get("url") != here:
                unset.append(tool_id)
                checks.append(
                    Check(
                        f"tool {tool_id}",
                        WARN,
                        f"{tool_id} points at {configured.get('url')}, not at this omni ({here})",
                        fix=f"'omni tools setup {tool_id}' (or 'omni tools reset {tool_id}')",
                    )
                )
            else:
                ready.append(tool_id)
        if not ready and not unset:
            checks.insert(0, Check("coding tools", WARN, f"none of {', '.join(TOOLS)} is on PATH",
                                   fix="install one, then 'omni tools setup TOOL'"))  # fmt: skip
            return checks
        parts = [f"set up for omni: {', '.join(ready)}"] if ready else []
        if unset:
            parts.append(f"not set up: {', '.join(unset)} ('omni tools setup TOOL')")
        if missing:
            parts.append(f"not found: {', '.join(missing)}")
        checks.insert(0, Check("coding tools", OK, "; ".join(parts)))
        return checks
