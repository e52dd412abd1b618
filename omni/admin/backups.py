"""Backup management: list, create, restore, export, import and the full export.

Restoring and importing never touch the live data until the file has passed
:func:`omni.store.backup.check_candidate` (a sound omni database of a schema this omni
knows) and its secrets can be read with this installation's key. Then a backup of the
current state is taken, an older schema is migrated on a private copy, and the copy is
written into the live database with SQLite's backup API, so a running server (and its
open connections) sees the restored data at once. The config version is bumped past both
the old and the restored value, so every process reloads its routes. Everything comes
back as it was in the file except the audit log, which is a trail and only grows: entries
newer than the file's are written back after the restore, followed by the restore itself;
and the login sessions, which are live state: the ones open before the restore stay open,
and the file's (perhaps long logged out) do not come back.

The full export (``exportAll``) is a ``.tar.gz`` with a snapshot whose secrets (and login
sessions) are removed, the settings, combos and providers as JSON (no secrets) and
``metadata.json``.
"""

from __future__ import annotations

import io
import json
import tarfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from omni import __version__
from omni.admin import AdminContext
from omni.admin.combos import ComboService
from omni.admin.providers import ProviderService
from omni.errors import InvalidInputError, NotFoundError, OmniError, SecretKeyError
from omni.store import audit, migrations
from omni.store import backup as store
from omni.store import login_sessions as sessions_repo
from omni.store.db import Database
from omni.store.secrets import _CHECK_KEY, _CHECK_PLAIN

FULL_FORMAT = "omni-full-backup-v1"
_REPLACE_LOCK = threading.Lock()  # one restore or import at a time in this process


def stamp(now: float | None = None) -> str:
    return datetime.fromtimestamp(time.time() if now is None else now, UTC).strftime(
        "%Y%m%d-%H%M%S"
    )


class BackupService:
    """Backups of the store behind ``ctx``; ``actor`` and ``ip`` go into the audit log."""

    def __init__(self, ctx: AdminContext, actor: str = "cli", ip: str | None = None) -> None:
        self.ctx = ctx
        self.actor = actor
        self.ip = ip

    @property
    def folder(self) -> Path:
        return store.backup_dir(self.ctx.db)

    def list_all(self) -> list[dict[str, Any]]:
        return [info.as_dict() for info in store.list_backups(self.folder)]

    def create(self, reason: str = "manual") -> dict[str, Any]:
        info = store.create_backup(self.ctx.db, reason)
        self._audit("backup.create", info.name, {"reason": reason, "size": info.size})
        return info.as_dict()

    def restore(self, name: str) -> dict[str, Any]:
        """Replace the live data with backup ``name`` (after backing up the current state)."""
        if not isinstance(name, str) or not store.is_backup_name(name):
            raise InvalidInputError(
                f"{name!r} is not a backup name (like omni-20250101-120000-manual.sqlite)",
                hint="see 'omni backup list'",
            )
        path = self.folder / name
        if not path.is_file():
            raise NotFoundError(f"no backup named '{name}'", hint="see 'omni backup list'")
        result = self._replace(path, "pre-restore", "backup.restore", name)
        return {"restored": name, **result}

    def import_file(self, source: Path, label: str = "upload") -> dict[str, Any]:
        """Replace the live data with the ``.sqlite`` file at ``source`` once it is checked."""
        result = self._replace(source, "pre-import", "backup.import", label)
        return {"imported": label, **result}

    def export(self, target: Path) -> dict[str, Any]:
        """A consistent snapshot of the live database at ``target`` (0600)."""
        store.snapshot(self.ctx.db, target)
        size = target.stat().st_size
        self._audit("backup.export", target.name, {"size": size})
        return {"file": str(target), "size": size, "schema_version": migrations.LATEST}

    def export_all(self, target: Path) -> dict[str, Any]:
        """The ``.tar.gz`` full export at ``target``: a secret-free snapshot and JSON files."""
        with store.temp_copy_path(self.folder) as copy:
            store.snapshot(self.ctx.db, copy)
            cleared = store.scrub_secrets(copy)
            work = AdminContext(settings=self.ctx.settings, db=Database(copy))
            members: dict[str, Any] = {
                "settings.json": _public_settings(store.table_rows(copy, "settings") or []),
                "combos.json": ComboService(work).list_all(),
                "providers.json": ProviderService(work).list_all(),
            }
            keys = store.table_rows(copy, "api_keys")
            if keys is not None:
                members["api-keys.json"] = keys
            store.single_file(copy)
            members["metadata.json"] = {
                "format": FULL_FORMAT,
                "omni_version": __version__,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "schema_version": store.schema_version(copy),
                "database": "omni.sqlite",
                "secrets": "removed",
                "cleared_columns": cleared,
            }
            part = target.with_name(f".{target.name}.part")
            with tarfile.open(part, "w:gz") as archive:
                archive.add(copy, arcname="omni.sqlite")
                for name, value in members.items():
                    data = json.dumps(value, indent=2, default=str).encode("utf-8")
                    entry = tarfile.TarInfo(name)
                    entry.size, entry.mtime, entry.mode = len(data), int(time.time()), 0o600
                    archive.addfile(entry, io.BytesIO(data))
            part.chmod(0o600)
            part.replace(target)
        size = target.stat().st_size
        self._audit("backup.export-all", target.name, {"size": size})
        return {"file": str(target), "size": size, "members": ["omni.sqlite", *members]}

    # -- replacing the live data -------------------------------------------------------

    def _replace(self, source: Path, reason: str, action: str, label: str) -> dict[str, Any]:
        with _REPLACE_LOCK, store.temp_copy_path(self.folder) as copy:
            try:
                store.copy_file(source, copy)
                version = store.check_candidate(copy)
                self._check_key(copy)
            except OmniError as exc:
                verb = "restore" if action == "backup.restore" else "import"
                self._audit(action, label, {"error": exc.message}, outcome="failed")
                raise type(exc)(f"{verb} refused: {exc.message}", hint=exc.hint) from None
            migrated = store.migrate_file(copy) if version < migrations.LATEST else []
            before = store.create_backup(self.ctx.db, reason)
            with self.ctx.db.session() as conn:
                old_version = self.ctx.db.config_version(conn)
            kept_audit = store.audit_since(self.ctx.db, copy)
            with self.ctx.db.session() as conn:
                kept_sessions = sessions_repo.list_sessions(conn)
            store.restore_into(self.ctx.db, copy)
            with self.ctx.db.transaction() as conn:
                store.append_audit(conn, kept_audit)
                sessions_repo.replace_sessions(conn, kept_sessions)
                new_version = max(old_version, self.ctx.db.config_version(conn)) + 1
                self.ctx.db.set_meta(conn, "config_version", str(new_version))
                audit.record(
                    conn,
                    self.actor,
                    action,
                    target=label,
                    ip=self.ip,
                    detail={"schema_version": version, "backup_before": before.name},
                )
        return {
            "schema_version": version,
            "migrated": migrated,
            "backup_before": before.name,
        }

    def _check_key(self, copy: Path) -> None:
        """Refuse a file whose encrypted secrets this installation's key cannot read."""
        check = store.read_meta(copy, _CHECK_KEY)
        if check is None:
            return
        try:
            readable = self.ctx.secrets.decrypt(check) == _CHECK_PLAIN
        except SecretKeyError:
            readable = False
        if not readable:
            raise InvalidInputError(
                "its upstream secrets were encrypted with another installation's secret key",
                hint=f"copy that installation's secret.key into {self.ctx.settings.paths.data_dir}"
                " (or set OMNI_SECRET_KEY) first, or import the database of a full export, "
                "which carries no secrets",
            )

    def _audit(self, action: str, target: str, detail: dict[str, Any], outcome: str = "ok") -> None:
        with self.ctx.db.transaction() as conn:
            audit.record(
                conn, self.actor, action, target=target, ip=self.ip, outcome=outcome, detail=detail
            )


def _public_settings(rows: list[dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for row in rows:
        try:
            result[str(row["key"])] = json.loads(row["value"])
        except (KeyError, TypeError, ValueError):
            continue
    return result
