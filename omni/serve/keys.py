"""Typed application keys: everything the handlers share lives here, not in globals."""

from __future__ import annotations

from aiohttp import web

from omni.admin import AdminContext
from omni.admin.access import Access
from omni.admin.ipfilter import IpFilter
from omni.config import Settings
from omni.gateway.pipeline import Gateway
from omni.gateway.shared import SharedState
from omni.oauth.keeper import TokenKeeper
from omni.serve.lifecycle import Lifecycle

SETTINGS = web.AppKey("settings", Settings)
GATEWAY = web.AppKey("gateway", Gateway)
ADMIN = web.AppKey("admin", AdminContext)
ADMIN_TOKEN = web.AppKey("admin_token", str)
ACCESS = web.AppKey("access", Access)
STARTED_AT = web.AppKey("started_at", float)
IP_FILTER = web.AppKey("ip_filter", IpFilter)
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
OAUTH = web.AppKey("oauth", TokenKeeper)
SHARED = web.AppKey("shared", SharedState)
