"""Management operations shared by the HTTP admin API and the CLI's in-process client.

Each service method takes and returns plain JSON-ready values, so
``HttpAdminClient`` (through the server) and ``LocalAdminClient`` (straight on the store)
give identical answers. Services are synchronous: the server runs them on a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from omni.config import Settings
from omni.store.db import Database, open_database
from omni.store.secrets import SecretBox, load_secret_box


@dataclass(frozen=True, slots=True)
class Actor:
    """Who performs a management action, for the audit log: ``cli`` for the in-process
    client, ``admin`` (or ``key:<prefix>``) over HTTP, with the caller's address if known."""

    name: str = "cli"
    ip: str | None = None


CLI = Actor()


@dataclass
class AdminContext:
    """What services need: settings, the database and (lazily) the secret box."""

    settings: Settings
    db: Database

    @classmethod
    def open(cls, settings: Settings) -> AdminContext:
        return cls(settings=settings, db=open_database(settings.paths.database))

    @cached_property
    def secrets(self) -> SecretBox:
        return load_secret_box(self.db, self.settings.paths.secret_key_file)
