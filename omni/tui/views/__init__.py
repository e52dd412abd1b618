"""The dashboard's views, in the order of their number keys."""

from __future__ import annotations

from omni.tui.views.base import View
from omni.tui.views.combos import CombosView
from omni.tui.views.keys import KeysView
from omni.tui.views.limits import LimitsView
from omni.tui.views.overview import OverviewView
from omni.tui.views.providers import ProvidersView
from omni.tui.views.requests import RequestsView
from omni.tui.views.sessions import SessionsView
from omni.tui.views.telemetry import TelemetryView
from omni.tui.views.usage import UsageView

VIEWS: list[type[View]] = [
    OverviewView,
    ProvidersView,
    SessionsView,
    LimitsView,
    TelemetryView,
    RequestsView,
    UsageView,
    CombosView,
    KeysView,
]
