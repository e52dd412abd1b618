"""Every view and every action of the dashboard, driven by keys against the in-memory API.

Each test presses what a user presses and checks what the user would see (table rows,
notes, dialogs) and what reached the server (the fake's recorded calls).
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Input, Select, Static

from omni.tui.app import OmniApp
from omni.tui.widgets.chrome import Banner, TitleBar
from omni.tui.widgets.dialogs import ConfirmDialog, FormDialog, OrderDialog, TextDialog
from omni.tui.widgets.tables import LiveTable
from tests.tui.conftest import make_app, press, settle
from tests.tui.fake_api import NOW, FakeApi, iso, request_row


def text(app: OmniApp, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


def rows(app: OmniApp, table: str) -> list[str]:
    found = app.query_one(f"#{table}", LiveTable)
    return [" | ".join(str(cell) for cell in found.get_row_at(i)) for i in range(found.row_count)]


def dialog_text(app: OmniApp) -> str:
    assert isinstance(app.screen, TextDialog)
    return str(app.screen.query_one("#body", Static).render())


async def test_overview_shows_health_traffic_latency_spend_and_alerts(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        stats = text(app, "#ov-stats")
        assert "omni 0.1.0" in stats and "up 2h 03m" in stats and "3 providers" in stats
        assert "12 requests today" in stats
        assert "spend today $0.0117" in stats  # 10 x $0.00036 + $0.0081
        latency = text(app, "#ov-latency")
        assert "p50 460 ms" in latency and "p99 1.90 s" in latency
        assert "cache 8.3%" in latency  # 1 of 12 read from the prompt cache
        assert rows(app, "ov-models")[0].startswith("openai/gpt-4o-mini | 11 | 1")
        alerts = text(app, "#ov-alerts")
        assert "breaker open anthropic (retry in 25s)" in alerts
        assert "cooling openai/work (42s)" in alerts
        assert "disabled openai/home" in alerts
        assert "needs login claude/team" in alerts
        assert "budget used up ci ($0.50/day)" in alerts
        assert "budget 86% laptop ($5.00/month)" in alerts
        assert text(app, "#ov-alerts-heading") == "Alerts (6)"
        assert "Response cache: 20.0% hits (3 of 15) · saved $0.0042" in latency
        assert app.query_one(TitleBar).state == "live"


async def test_overview_says_all_clear_and_when_the_response_cache_is_off(
    api: FakeApi,
) -> None:
    api.breakers, api.cooldowns, api.budget_list = {}, [], []
    api.provider_list = api.provider_list[:1]
    api.provider_list[0]["accounts"] = api.provider_list[0]["accounts"][:1]
    api.cache["exact"]["enabled"] = False
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert text(app, "#ov-alerts") == "✓ all clear"
        assert text(app, "#ov-alerts-heading") == "Alerts"
        assert "Response cache: off" in text(app, "#ov-latency")


async def test_number_keys_switch_views_and_the_title_follows(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key, title in [("2", "Providers"), ("3", "Sessions"), ("4", "Limits"),
                           ("5", "Telemetry"), ("6", "Requests"), ("7", "Usage"),
                           ("8", "Combos"), ("9", "Keys"), ("1", "Overview")]:  # fmt: skip
            await press(pilot, key)
            assert title == app.view.TITLE
            assert app.query_one(TitleBar).view_title == title


async def test_providers_list_accounts_with_their_state(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "2")
        shown = rows(app, "pv-table")
        assert shown[0].startswith("[b]openai[/b] (openai) | ok | 11 | 1 | 450 ms | 520 ms")
        assert shown[1].startswith("  └ work | cooling 42s")
        assert shown[2].startswith("  └ home | disabled")
        assert shown[3].startswith("[b]anthropic[/b] (anthropic) | breaker open 25s")
        assert shown[4].startswith("  └ main | ready")
        assert shown[6].startswith("  └ personal | token expiring 4m 00s")
        assert shown[7].startswith("  └ team | needs login")


async def test_oauth_accounts_show_their_login_and_token(api: FakeApi) -> None:
    clock = [NOW]
    app = OmniApp(api, clock=lambda: clock[0], poll_interval=3600)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "2", *["down"] * 6)  # claude/personal
        assert "the access token runs until 08:04:00 (4m 00s)" in text(app, "#pv-detail")
        clock[0] += 60
        app.tick()
        await pilot.pause()
        assert rows(app, "pv-table")[6].startswith("  └ personal | token expiring 3m 00s")
        clock[0] += 180
        app.tick()
        await pilot.pause()
        assert rows(app, "pv-table")[6].startswith("  └ personal | token expired")
        await press(pilot, "down")
        detail = text(app, "#pv-detail")
        assert "needs login: the refresh token was revoked" in detail
        assert "omni providers login claude --account team" in detail
        api.provider_list[2]["accounts"][0]["expires_at"] = iso(clock[0] + 3600)
        await press(pilot, "r")
        assert rows(app, "pv-table")[6].startswith("  └ personal | ready")


async def test_provider_test_switch_reset_and_add_account(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "2", "down", "t")  # the 'work' account of openai
        assert api.called("test_provider") == [("openai", "work", None)]
        assert "last test: ok openai/work gpt-4o in 210 ms" in text(app, "#pv-detail")

        await press(pilot, "down", "e")  # switch 'home' on
        assert api.called("edit_account") == [("openai", "home", {"enabled": True})]
        assert rows(app, "pv-table")[2].startswith("  └ home | ready")

        await press(pilot, "up", "up", "e")  # switch the whole openai provider off
        assert api.called("edit_provider") == [("openai", {"enabled": False})]
        assert rows(app, "pv-table")[0].startswith("[b]openai[/b] (openai) | disabled")

        await press(pilot, "b")
        assert isinstance(app.screen, ConfirmDialog)
        await press(pilot, "y")
        assert api.called("reset_resilience") == [()]
        assert rows(app, "pv-table")[3].startswith("[b]anthropic[/b] (anthropic) | ok")

        await press(pilot, "a")
        assert isinstance(app.screen, FormDialog)
        assert app.screen.query_one("#f-provider", Input).value == "openai"
        await pilot.click("#f-account")
        await pilot.press(*"spare")
        await pilot.click("#f-api_key")
        await pilot.press(*"sk-123")
        await press(pilot, "enter")
        assert api.called("add_account") == [
            ("openai", {"account": "spare", "api_key": "sk-123", "base_url": None,
                        "format": None, "sync_models": False})
        ]  # fmt: skip
        assert any(r.startswith("  └ spare") for r in rows(app, "pv-table"))


async def test_a_refused_action_shows_the_servers_message(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "2", "a")
        form = app.screen
        assert isinstance(form, FormDialog)
        form.query_one("#f-provider", Input).value = "mystery"
        form.query_one("#f-account", Input).value = "main"
        await press(pilot, "enter")
        assert [n.message for n in app._notifications] == [
            "Adding failed: 'mystery' is not in the catalog, so it needs --base-url"
        ]


async def test_sessions_show_key_model_use_and_pinned_account(api: FakeApi) -> None:
    clock = [NOW]
    app = OmniApp(api, clock=lambda: clock[0], poll_interval=3600)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "3")
        assert rows(app, "ss-table") == [
            "conv-7f3a | laptop | openai/gpt-4o… | 6 | 9.0k | 1m 05s | openai/work",
            "codex…b-77a1 | (no key) | best | 2 | 3.0k | 5m 00s | not pinned",
        ]
        assert "2 active conversations (last 30 min), 1 pinned" in text(app, "#ss-note")
        detail = text(app, "#ss-detail")
        assert "conv-7f3a · key laptop · openai/gpt-4o-mini · 6 requests, 9.0k tokens" in detail
        assert "since 07:35:00 · pinned to openai/work for 25m 00s" in detail
        clock[0] += 65
        app.tick()
        await pilot.pause()
        assert rows(app, "ss-table")[0].split(" | ")[5] == "2m 10s"
        assert "pinned to openai/work for 23m 55s" in text(app, "#ss-detail")
        await press(pilot, "down")
        assert "key (no key) · best · 2 requests" in text(app, "#ss-detail")
        assert "not pinned to an account" in text(app, "#ss-detail")


async def test_sessions_on_a_wide_terminal_and_when_there_are_none(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(120, 40)) as pilot:
        await press(pilot, "3")
        assert rows(app, "ss-table")[0] == (
            "conv-7f3a | laptop | openai/gpt-4o-mini | 6 | 9.0k | 1m 05s ago | openai/work | "
            "25m 00s"
        )
        api.session_list = []
        await press(pilot, "r")
        assert rows(app, "ss-table") == []
        assert "No active conversation" in text(app, "#ss-note")


async def test_limits_show_caps_queue_and_countdowns(api: FakeApi) -> None:
    clock = [NOW]
    app = OmniApp(api, clock=lambda: clock[0], poll_interval=3600)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "4")
        assert "Queue: 1 waiting (room for 64, up to 30s each)" in text(app, "#lm-queue")
        cap, key_cap = rows(app, "lm-caps")
        assert cap.startswith("provider:openai | ██████   45/60 | ████▏    52.0k/100.0k | 2/4")
        assert key_cap == "key laptop (#1) | █▋       6/30 | 9.0k (no cap) | 0"
        assert rows(app, "lm-resting") == [
            "anthropic | circuit open, 12 failures | 25s",
            "openai/work | account cooling down | 42s",
        ]
        clock[0] += 10
        app.tick()
        await pilot.pause()
        assert [r.rsplit(" | ", 1)[1] for r in rows(app, "lm-resting")] == ["15s", "32s"]
        await press(pilot, "b", "y")
        assert api.called("reset_resilience") == [()]
        assert rows(app, "lm-resting") == ["nothing is resting |  | "]


async def test_telemetry_windows(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "5")
        assert "since start" in text(app, "#tm-note")
        assert rows(app, "tm-providers")[0].startswith("openai | 11 | 1 | 450 ms | 520 ms")
        await press(pilot, "w")
        assert "5 min" in text(app, "#tm-note")
        assert "11 requests" in text(app, "#tm-note")  # one is older than five minutes
        await press(pilot, "w")
        assert "1 hour" in text(app, "#tm-note") and "12 requests" in text(app, "#tm-note")
        models = rows(app, "tm-models")
        assert models[0].startswith("openai/gpt-4o-mini | 11 | 1 | 460 ms | 520 ms")
        assert models[1].startswith("anthropic/claude-sonn… | 1 | 0 | 1.90 s")


async def test_requests_arrive_live_and_open_with_their_route(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "6")
        assert len(rows(app, "rq-table")) == 12
        api.push("request", request_row(13, ts=NOW - 1, requested_model="fast",
                                        request_id="req-live", status=200))  # fmt: skip
        await api.delivered()
        await settle(pilot)
        first = rows(app, "rq-table")[0]
        assert first.startswith("07:59:59 | fast → openai/gpt-4o-mini | 200 | 1.2k/300")
        assert "13 requests shown of 13 kept · live" in text(app, "#rq-note")

        table = app.query_one("#rq-table", LiveTable)
        table.move_cursor(row=table.get_row_index("req-0004"))
        await press(pilot, "enter")
        detail = dialog_text(app)
        assert "asked     best  (combo best)" in detail
        assert "served    anthropic/claude-sonnet-4" in detail
        assert "key       laptop" in detail
        assert "1. openai/work → 429" in detail
        assert "1. openai/main gpt-4o: ready" in detail
        assert "2. anthropic/main claude-sonnet-4: circuit open" in detail
        await press(pilot, "escape")
        assert not isinstance(app.screen, TextDialog)


async def test_requests_filter_pause_and_load_older(api: FakeApi) -> None:
    app = OmniApp(api, clock=lambda: NOW, poll_interval=3600, backfill_rows=5)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "6")
        assert api.called("request_logs") == [(1000, None)]
        await press(pilot, "f")
        assert len(rows(app, "rq-table")) == 1
        assert "502" in rows(app, "rq-table")[0]
        await press(pilot, "f", "p")
        assert "paused" in text(app, "#rq-note")
        api.push("request", request_row(20, ts=NOW, request_id="req-paused"))
        await api.delivered()
        await settle(pilot)
        assert len(rows(app, "rq-table")) == 12  # not redrawn while paused
        await press(pilot, "p")
        assert len(rows(app, "rq-table")) == 13
        await press(pilot, "m")
        assert api.called("request_logs")[-1] == (1000, 1)
        assert "no older requests" in [n.message for n in app._notifications]


async def test_usage_groups_by_day_provider_model_and_key(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "7")
        assert rows(app, "us-table")[0].startswith("2027-01-15 | 12 | 1 | 14.4k/3.3k | $0.0117")
        await press(pilot, "g")
        assert [r.split(" | ")[0] for r in rows(app, "us-table")] == ["anthropic", "openai"]
        await press(pilot, "g")
        assert rows(app, "us-table")[0].startswith("anthropic/claude-sonnet-4 | 1 | 0")
        await press(pilot, "g")
        assert [r.split(" | ")[0] for r in rows(app, "us-table")] == ["laptop", "(no key)", "ci"]
        assert "Total $0.0117" in text(app, "#us-total")


async def test_usage_shows_budgets_with_bars(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "7")
        assert rows(app, "us-budgets") == [
            "laptop | monthly | ████████▋  $4.30/$5.00  86% | $0.70 | 16d 16h",
            "ci | daily | ██████████ $0.50/$0.50 100% | $0.00 | 16h 00m",
        ]
        table = app.query_one("#us-budgets", LiveTable)
        warning, exhausted = (table.get_row_at(i)[2].style for i in (0, 1))
        assert warning == app.theme_variables["warning"]
        assert exhausted == app.theme_variables["error"]
        assert not app.query_one("#us-budgets-note", Static).display

        api.budget_list = []
        await press(pilot, "r")
        assert not table.display
        note = app.query_one("#us-budgets-note", Static)
        assert note.display and "No budgets" in text(app, "#us-budgets-note")


async def test_combos_create_reorder_test_and_delete(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "8")
        assert rows(app, "cb-table") == [
            "best | priority | openai/gpt-4o → anthropic/claude-sonnet-4"
        ]
        await press(pilot, "t")
        detail = text(app, "#cb-detail")
        assert "ok openai/gpt-4o in 210 ms" in detail
        assert "skip anthropic/claude-sonnet-4: circuit open" in detail
        assert api.called("test_provider") == [("openai", "main", "gpt-4o")]

        await press(pilot, "e")
        assert isinstance(app.screen, OrderDialog)
        await press(pilot, "J", "enter")
        assert api.called("edit_combo") == [
            ("best", {"steps": ["anthropic/claude-sonnet-4", "openai/gpt-4o"]})
        ]
        assert "anthropic/claude-sonnet-4 → openai/gpt-4o" in rows(app, "cb-table")[0]

        await press(pilot, "n")
        form = app.screen
        assert isinstance(form, FormDialog)
        form.query_one("#f-name", Input).value = "cheap"
        form.query_one("#f-strategy", Select).value = "round-robin"
        form.query_one("#f-steps", Input).value = "openai/gpt-4o-mini, anthropic/claude-haiku"
        await press(pilot, "enter")
        assert api.called("create_combo") == [
            ("cheap", ["openai/gpt-4o-mini", "anthropic/claude-haiku"], "round-robin")
        ]
        assert len(rows(app, "cb-table")) == 2

        await press(pilot, "d")
        assert isinstance(app.screen, ConfirmDialog)
        await press(pilot, "n")  # said no: nothing deleted
        assert api.called("remove_combo") == []
        await press(pilot, "d", "y")
        assert api.called("remove_combo") == [("best",)]
        assert [r.split(" | ")[0] for r in rows(app, "cb-table")] == ["cheap"]


async def test_a_form_says_what_is_missing(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "8", "n", "enter")
        form = app.screen
        assert isinstance(form, FormDialog)
        assert "Required:" in str(form.query_one("#form-error", Static).render())
        await press(pilot, "escape")
        assert api.called("create_combo") == []


async def test_keys_create_shows_the_secret_once_switch_and_revoke(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "9")
        assert rows(app, "ky-table")[0] == "1 | laptop | sk-AbCdEfGh | active | never | 2027-01-15"
        assert "laptop · scopes chat · every model" in text(app, "#ky-note")
        assert "Budget $5.00 monthly: $4.30 spent (86%), resets in 16d 16h." in text(
            app, "#ky-note"
        )
        await press(pilot, "n")
        form = app.screen
        assert isinstance(form, FormDialog)
        form.query_one("#f-name", Input).value = "script"
        form.query_one("#f-models", Input).value = "openai/gpt-4o-mini"
        await press(pilot, "enter")
        assert api.called("create_key") == [
            ("script", {"scopes": ["chat"], "models": ["openai/gpt-4o-mini"],
                        "expires_at": None})
        ]  # fmt: skip
        assert "sk-NewKey12-the-whole-secret" in dialog_text(app)
        await press(pilot, "escape")
        assert len(rows(app, "ky-table")) == 3

        await press(pilot, "e")  # the cursor is on key 1
        assert api.called("edit_key") == [(1, {"enabled": False})]
        assert "disabled" in rows(app, "ky-table")[0]
        await press(pilot, "down", "d", "y")
        assert api.called("revoke_key") == [(2,)]
        assert "revoked" in rows(app, "ky-table")[1]


async def test_keys_set_change_and_remove_a_budget(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "9", "down", "b")  # key 2, 'ci': $0.50 a day
        form = app.screen
        assert isinstance(form, FormDialog)
        assert form.query_one("#f-limit", Input).value == "0.5"
        assert form.query_one("#f-period", Select).value == "daily"
        assert form.query_one("#f-warn", Input).value == "80"
        form.query_one("#f-limit", Input).value = "$2"
        form.query_one("#f-period", Select).value = "weekly"
        form.query_one("#f-warn", Input).value = "90"
        await press(pilot, "enter")
        assert api.called("set_budget") == [(2, 2.0, "weekly", 0.9)]
        assert "key ci: $2.00 per weekly period" in [n.message for n in app._notifications]
        assert "Budget $2.00 weekly: $0.50 spent (25%)" in text(app, "#ky-note")

        await press(pilot, "up", "b")  # key 1: no limit any more
        app.screen.query_one("#f-limit", Input).value = ""
        await press(pilot, "enter")
        assert api.called("remove_budget") == [(1,)]
        assert "No budget (b sets one)." in text(app, "#ky-note")

        await press(pilot, "b")
        form = app.screen
        assert isinstance(form, FormDialog)
        assert form.query_one("#f-limit", Input).value == ""
        assert form.query_one("#f-period", Select).value == "monthly"
        form.query_one("#f-limit", Input).value = "five"
        await press(pilot, "enter")
        assert len(api.called("set_budget")) == 1
        assert "The limit and the warning share must be numbers." in [
            n.message for n in app._notifications
        ]
        await press(pilot, "b")
        app.screen.query_one("#f-limit", Input).value = "-1"
        await press(pilot, "enter")
        assert "Setting the budget failed: 'limit' must be a number of US dollars, 0 or more" in [
            n.message for n in app._notifications
        ]


async def test_a_lost_server_shows_the_banner_and_reconnects(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        banner = app.query_one(Banner)
        assert not banner.shown
        api.go_down()
        await settle(pilot)
        assert banner.shown
        assert "Server not answering" in str(banner.render())
        assert app.query_one(TitleBar).state == "lost"
        app.poll()  # still down: the banner stays
        await settle(pilot)
        assert banner.shown

        api.down = False
        api.logs.insert(0, request_row(30, ts=NOW - 2, request_id="req-gap"))
        app.poll()
        await settle(pilot)
        await api.delivered()
        await settle(pilot)
        assert not banner.shown
        assert app.query_one(TitleBar).state == "live"
        assert len(api.called("events")) == 2  # the stream was followed again
        assert any(r["request_id"] == "req-gap" for r in app.live.rows())  # the gap filled
        assert "The server answers again; live updates resumed." in [
            n.message for n in app._notifications
        ]


async def test_help_lists_the_keys_of_the_view_and_everywhere(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await press(pilot, "2", "question_mark")
        body = dialog_text(app)
        assert "Providers: providers and accounts" in body
        assert "t          Test" in body and "a          Add" in body
        assert "q          Quit" in body and "ctrl+p" in body
        assert "9 Keys" in body
        await press(pilot, "escape")
        assert not isinstance(app.screen, TextDialog)


async def test_the_command_palette_reaches_views_and_actions(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Show Telemetry" in titles and "Reset circuit breakers and cooldowns" in titles
        await press(pilot, "ctrl+p")
        await pilot.press(*"Show Combos")
        await settle(pilot)
        await press(pilot, "enter")
        assert app.view.TITLE == "Combos"


async def test_the_theme_toggles_between_dark_and_light(api: FakeApi) -> None:
    app = make_app(api)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dark = app.current_theme.dark
        await press(pilot, "ctrl+t")
        assert app.current_theme.dark is not dark


def test_the_strategies_offered_are_the_servers() -> None:
    from omni.admin.combos import STRATEGIES
    from omni.tui.views.combos import STRATEGIES as OFFERED

    assert tuple(OFFERED) == STRATEGIES


async def test_a_note_is_shown_when_the_server_was_started_for_the_dashboard(
    api: FakeApi,
) -> None:
    app = make_app(api, note="no server was running, so one was started")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        notes: list[Any] = [n.message for n in app._notifications]
        assert "no server was running, so one was started" in notes
