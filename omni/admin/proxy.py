"""The global outbound proxy (setting ``proxy``): show, set, clear and test it.

Stored encrypted when it holds a password, shown with the password masked. Per-provider
and per-account proxies are fields of those (``omni providers edit --proxy``); the most
specific one wins. The test sends one GET through the proxy to a target URL (checked by
the SSRF guard) and reports whether an answer came back through it.
"""

from __future__ import annotations

from typing import Any

from omni.admin import AdminContext
from omni.admin import upstream as calls
from omni.admin.providers import guard_url, seal_proxy, shown_proxy
from omni.errors import InvalidInputError
from omni.providers.proxy import check_proxy_url, mask_url, open_sealed
from omni.store import settings as settings_repo

DEFAULT_TEST_URL = "https://api.openai.com/v1/models"


class ProxyService:
    def __init__(self, ctx: AdminContext) -> None:
        self.ctx = ctx

    def get(self) -> dict[str, Any]:
        with self.ctx.db.session() as conn:
            stored = settings_repo.get_setting(conn, "proxy")
        return {"url": shown_proxy(self.ctx, stored if isinstance(stored, str) else None)}

    def set(self, url: str | None) -> dict[str, Any]:
        """Set the global proxy, or clear it with None or an empty string."""
        sealed = seal_proxy(self.ctx, url) if url else None
        with self.ctx.db.transaction() as conn:
            if sealed is None:
                settings_repo.delete_setting(conn, "proxy")
            else:
                settings_repo.set_setting(conn, "proxy", sealed)
        return self.get()

    def test(self, url: str | None = None, target: str | None = None) -> dict[str, Any]:
        """Send one GET to ``target`` through ``url`` (default: the configured proxy)."""
        proxy: str | None
        if url:
            proxy = check_proxy_url(url)
        else:
            with self.ctx.db.session() as conn:
                proxy = open_sealed(settings_repo.get_setting(conn, "proxy"), self.ctx.secrets)
            if not proxy:
                raise InvalidInputError("no proxy is set; give one to test with 'url'")
        aimed = guard_url(self.ctx, target or DEFAULT_TEST_URL, "test target")
        outcome = calls.request("GET", aimed, {}, proxy=proxy, timeout=15.0)
        reached = outcome.status is not None  # any HTTP answer came back through the proxy
        return {
            "proxy": mask_url(proxy),
            "target": aimed,
            "ok": reached,
            "status": outcome.status,
            "latency_ms": round(outcome.latency_ms, 1),
            "error": None if reached else outcome.error,
        }
