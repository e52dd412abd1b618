"""Run-time settings and the audit log."""

from __future__ import annotations

from pathlib import Path

from omni.store import audit, settings
from omni.store.db import open_database


def test_a_setting_round_trips_as_json_and_bumps_the_config_version(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    with db.session() as conn:
        before = db.config_version(conn)
        settings.set_setting(conn, "ip_filter", {"allow": ["10.0.0.0/8"]})
        settings.set_setting(conn, "require_login", True)
        assert settings.get_setting(conn, "ip_filter") == {"allow": ["10.0.0.0/8"]}
        assert settings.get_setting(conn, "missing", 7) == 7
        assert settings.all_settings(conn) == {
            "ip_filter": {"allow": ["10.0.0.0/8"]},
            "require_login": True,
        }
        assert db.config_version(conn) > before
        assert settings.delete_setting(conn, "require_login")
        assert settings.get_setting(conn, "require_login") is None


def test_audit_entries_are_newest_first_and_filter_by_action_prefix(tmp_path: Path) -> None:
    db = open_database(tmp_path / "omni.sqlite")
    with db.session() as conn:
        audit.record(conn, "admin", "login", ip="127.0.0.1")
        audit.record(conn, "admin", "key.create", target="ci", detail={"prefix": "sk-ab12"})
        audit.record(conn, "anonymous", "login", ip="10.0.0.9", outcome="failed")
        newest = audit.entries(conn)
        assert [e.action for e in newest] == ["login", "key.create", "login"]
        assert newest[0].outcome == "failed" and newest[0].ip == "10.0.0.9"
        keys = audit.entries(conn, action="key.")
        assert [(e.target, e.detail) for e in keys] == [("ci", {"prefix": "sk-ab12"})]
        assert [e.id for e in audit.entries(conn, before_id=newest[0].id, limit=1)] == [
            newest[1].id
        ]


def test_old_usage_rolls_up_into_daily_sums(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from omni.store import usage
    from omni.store.usage import UsageRecord

    db = open_database(tmp_path / "omni.sqlite")
    day = datetime(2026, 1, 5, 12, tzinfo=UTC).timestamp()
    old = [
        UsageRecord(ts=day + i, request_id=f"r{i}", endpoint="/v1/chat/completions",
                    client_dialect="openai", provider_id="p", model="m",
                    status=200 if i else 502, input_tokens=10, output_tokens=2, cost_usd=0.5)
        for i in range(3)
    ]  # fmt: skip
    new = UsageRecord(ts=day + 86400 * 40, request_id="new", endpoint="/v1/chat/completions",
                      client_dialect="openai", provider_id="p", model="m", status=200)  # fmt: skip
    with db.session() as conn:
        usage.insert_many(conn, [*old, new])
        assert usage.roll_up(conn, day + 86400 * 30) == 3
        assert [r["request_id"] for r in usage.recent(conn)] == ["new"]
        (summary,) = usage.daily(conn)
        picked = {k: summary[k] for k in ("day", "requests", "errors", "input_tokens", "cost_usd")}
        assert picked == {
            "day": "2026-01-05", "requests": 3, "errors": 1, "input_tokens": 30, "cost_usd": 1.5,
        }  # fmt: skip
        usage.insert_many(conn, [old[0]])
        usage.roll_up(conn, day + 86400 * 30)  # a second pass adds to the same day
        assert usage.daily(conn)[0]["requests"] == 4
