"""System state for a first run: is an admin password set, how many providers, where data lives.

``/api/init`` answers this so a client (the TUI, a setup wizard) knows whether to offer
first-run setup.
"""

from __future__ import annotations

from typing import Any

from omni import __version__
from omni.admin import AdminContext
from omni.store import settings as settings_repo

PASSWORD_SETTING = "password_hash"  # noqa: S105 - a settings key, not a password
"""The settings key holding the admin password hash (written by the login work)."""


class SystemService:
    """Read-only facts about this installation."""

    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    def init_state(self) -> dict[str, Any]:
        with self.ctx.db.session() as conn:
            providers = int(conn.execute("SELECT COUNT(*) FROM providers").fetchone()[0])
            combos = int(conn.execute("SELECT COUNT(*) FROM combos").fetchone()[0])
            stored_password = settings_repo.get_setting(conn, PASSWORD_SETTING) is not None
        has_password = stored_password or bool(self.ctx.settings.initial_password)
        return {
            "version": __version__,
            "data_dir": str(self.ctx.settings.paths.data_dir),
            "has_password": has_password,
            "providers": providers,
            "combos": combos,
            "first_run": providers == 0 and not has_password,
        }
