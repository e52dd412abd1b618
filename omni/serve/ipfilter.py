"""The IP filter's snapshot: callers the rule refuses get a 403 in their dialect.

The check runs on every route, client API and management (in
:func:`omni.serve.middlewares.admin_auth`). The rule is an in-memory snapshot
(:class:`~omni.admin.ipfilter.IpFilter`): the settings endpoint replaces it at once, and a
change made elsewhere is noticed when the routing snapshot's config version moves (the
gateway polls it), so no request reads the database. With the filter off, a request costs
one attribute comparison here. The rule itself (loopback always served, IPv4-mapped IPv6
matched as IPv4) is documented in :mod:`omni.admin.ipfilter`.
"""

from __future__ import annotations

import logging

from aiohttp import web

from omni.admin.ipfilter import IpFilter
from omni.admin.settings import read_ip_rules
from omni.errors import OmniError
from omni.serve import keys
from omni.store.driver import Error

log = logging.getLogger("omni.serve")


def refresh(app: web.Application) -> IpFilter:
    """Read the rule from the store into the app's snapshot (on config changes only)."""
    state = app[keys.IP_FILTER]
    version = app[keys.GATEWAY].registry.version
    try:
        with app[keys.ADMIN].db.session() as conn:
            state.rules = read_ip_rules(conn)
    except (OmniError, Error):
        log.exception("could not read the IP filter; keeping the previous rule")
    state.version = version
    return state
