"""Opening, migrating and versioning the database."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from omni.errors import StoreError
from omni.store import migrations
from omni.store import providers as repo
from omni.store.db import open_database


def test_new_database_is_private_wal_and_migrated(tmp_path: Path) -> None:
    db = open_database(tmp_path / "data" / "omni.sqlite")
    assert stat.S_IMODE(db.path.stat().st_mode) == 0o600
    with db.session() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        names = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY id")]
    assert names == [m.name for m in migrations.MIGRATIONS]


def test_migrating_twice_applies_nothing_and_keeps_data(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    with db.transaction() as conn:
        repo.upsert_provider(conn, "p", catalog_id=None, format="openai", base_url="http://x")
    assert db.migrate() == []
    with db.session() as conn:
        assert [p.id for p in repo.list_providers(conn)] == ["p"]


def test_database_from_a_newer_omni_is_refused_untouched(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    with db.session() as conn:
        conn.execute(
            "INSERT INTO schema_migrations (id, name, applied_at) VALUES (999, 'm999_future', '')"
        )
    with pytest.raises(StoreError, match="newer"):
        db.migrate()
    with db.session() as conn:
        count = conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0]
        assert count == len(migrations.MIGRATIONS) + 1


def test_config_version_changes_with_providers_accounts_and_models(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    with db.session() as conn:
        seen = [db.config_version(conn)]
        repo.upsert_provider(conn, "p", catalog_id=None, format="openai", base_url="http://x")
        seen.append(db.config_version(conn))
        repo.upsert_account(
            conn, "p", "a", auth_type="none", secret=None, secret_env=None, base_url=None
        )
        seen.append(db.config_version(conn))
        repo.replace_models(conn, "p", ["m1"], "user")
        seen.append(db.config_version(conn))
        conn.execute(
            "INSERT INTO usage_log (ts, request_id, endpoint, client_dialect, status) "
            "VALUES (0, 'r', '/v1/x', 'openai', 200)"
        )
        seen.append(db.config_version(conn))
    assert seen[0] < seen[1] < seen[2] < seen[3]
    assert seen[4] == seen[3], "usage rows must not invalidate the routing snapshot"
