"""The dashboard's arithmetic: the merged request history and the numbers it shows."""

from __future__ import annotations

from omni.tui import format as fmt
from omni.tui.live import LiveLog, percentiles
from tests.tui.fake_api import NOW, request_row


def test_rows_from_the_log_and_the_stream_merge_by_request_id() -> None:
    live = LiveLog(clock=lambda: NOW)
    live.backfill([request_row(2), request_row(1)], complete=True)
    event = {k: v for k, v in request_row(2).items() if k != "id"}
    assert live.add(event) is False  # already known from the log
    assert live.add(request_row(3)) is True
    assert [r["request_id"] for r in live.rows()] == ["req-0003", "req-0002", "req-0001"]
    assert live.rows()[1]["id"] == 2  # the log's id survives the stream's copy
    assert live.complete


def test_the_history_is_bounded_and_says_so() -> None:
    live = LiveLog(capacity=3, clock=lambda: NOW)
    for n in range(1, 6):
        live.add(request_row(n))
    assert len(live) == 3
    assert [r["id"] for r in live.rows()] == [5, 4, 3]
    assert not live.complete


def test_buckets_count_requests_per_second_and_error_rate() -> None:
    live = LiveLog(clock=lambda: NOW)
    live.add(request_row(1, ts=NOW - 1))
    live.add(request_row(2, ts=NOW - 2, status=500, error="boom"))
    live.add(request_row(3, ts=NOW - 12))
    live.add(request_row(4, ts=NOW - 100))  # outside the window
    rate, errors = live.buckets(2, 10.0)
    assert rate == [0.1, 0.2]
    assert errors == [0.0, 0.5]


def test_spend_today_and_groups() -> None:
    live = LiveLog(clock=lambda: NOW)
    live.add(request_row(1, ts=NOW - 10, cost_usd=0.5, api_key_id=7))
    live.add(request_row(2, ts=NOW - 86400, cost_usd=2.0, provider_id="anthropic"))
    assert live.spend_today() == 0.5
    days = live.group("day")
    assert [(g.name, g.requests, g.cost) for g in days] == [
        (fmt.day(NOW), 1, 0.5),
        (fmt.day(NOW - 86400), 1, 2.0),
    ]
    assert [g.name for g in live.group("provider")] == ["anthropic", "openai"]
    assert [g.name for g in live.group("key", key_names={7: "ci"})] == ["(no key)", "ci"]


def test_percentiles_are_nearest_rank() -> None:
    assert percentiles([]) == {"p50": None, "p95": None, "p99": None}
    assert percentiles(range(1, 101)) == {"p50": 50, "p95": 95, "p99": 99}
    assert percentiles([7.0]) == {"p50": 7.0, "p95": 7.0, "p99": 7.0}


def test_formats_fit_narrow_columns() -> None:
    assert [fmt.duration(s) for s in (None, 5, 185, 7380, 90000)] == [
        "—", "5s", "3m 05s", "2h 03m", "1d 1h",
    ]  # fmt: skip
    assert [fmt.ms(v) for v in (None, 850.4, 1250)] == ["—", "850 ms", "1.25 s"]
    assert [fmt.money(v) for v in (None, 0, 0.00036, 12.5, 1234)] == [
        "—", "$0", "$0.0004", "$12.50", "$1,234",
    ]  # fmt: skip
    assert [fmt.count(v) for v in (950, 1200, 3_400_000)] == ["950", "1.2k", "3.4M"]
    assert fmt.bar(0.5, 4) == "██  " and fmt.bar(1.5, 2) == "██" and fmt.bar(0.0, 3) == "   "
    assert fmt.shorten("abcdef", 4) == "abc…"
    assert fmt.middle("codex-2b9e41c7-5d0a-77a1", 12) == "codex…a-77a1"
    assert fmt.middle("conv-1", 12) == "conv-1"
    assert [fmt.dollars(v) for v in (None, 0, 0.004, 0.5, 5, 1234.5)] == [
        "—", "$0.00", "$0.0040", "$0.50", "$5.00", "$1,234.50"]  # fmt: skip
