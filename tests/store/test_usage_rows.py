"""Usage rows written in batches come back exactly as recorded."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from omni.store import usage
from omni.store.db import open_database
from omni.store.usage import UsageRecord

FULL = UsageRecord(
    ts=1795734687.123456, request_id="r-1", endpoint="/v1/messages", client_dialect="anthropic",
    requested_model="claude-sonnet", provider_id="openai", account_id=3, model="gpt-4o",
    stream=True, status=200, input_tokens=1200, output_tokens=345, cache_read_tokens=100,
    cache_write_tokens=0, reasoning_tokens=12, latency_ms=812.4375, ttft_ms=0.1 + 0.2,
    error=None, attempts=2, combo="fast", route='[["a",1,"429"],["openai",3,"ok"]]',
    cost_usd=0.000123456789, session="séance ✓", api_key_id=7,
)  # fmt: skip
BARE = UsageRecord(ts=1.5, request_id="r-2", endpoint="/v1/chat/completions",
                   client_dialect="openai", status=502, error="upstream_cut")  # fmt: skip


def _stored(tmp_path: Path, records: list[UsageRecord]) -> list[dict[str, object]]:
    db = open_database(tmp_path / "omni.sqlite")
    with db.session() as conn:
        usage.insert_many(conn, records)
        rows = usage.recent(conn, limit=len(records))
    return [{k: v for k, v in row.items() if k != "id"} for row in reversed(rows)]


def _expected(record: UsageRecord) -> dict[str, object]:
    row = asdict(record)
    row["stream"] = int(record.stream)
    return row


def test_every_field_and_type_survives_a_batch(tmp_path: Path) -> None:
    records = [FULL, BARE] * 30
    assert _stored(tmp_path, records) == [_expected(r) for r in records]
