"""Routing targets of OAuth accounts: the stored credential as headers and a wire adapter.

Used by the routing snapshot (:func:`omni.gateway.registry.provider_targets`) when it is
built, and by the token keeper when a refresh replaces a target's credential; never per
request.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from omni.errors import SecretKeyError
from omni.oauth.specs import SPECS, api_base, api_headers, wire_data
from omni.oauth.tokens import Credential
from omni.providers.executor import Target
from omni.store.secrets import SecretBox

log = logging.getLogger("omni.oauth")


def oauth_target(
    target: Target,
    provider_id: str,
    sealed: str | None,
    secrets: SecretBox,
    pinned_url: bool = False,
) -> Target | None:
    """``target`` carrying the decrypted credential ``sealed``; None when it is unusable.

    ``pinned_url``: the operator set the API root (config, environment or the account),
    so a root the credential names for itself (Copilot, Qwen) is not used."""
    spec = SPECS.get(provider_id)
    if spec is None or not sealed:
        return None
    try:
        cred = Credential.loads(secrets.decrypt(sealed))
    except (ValueError, SecretKeyError):
        log.warning("an OAuth account of provider '%s' has an unreadable credential", provider_id)
        return None
    return with_credential(target, provider_id, cred, pinned_url)


def with_credential(
    target: Target, provider_id: str, cred: Credential, pinned_url: bool = True
) -> Target:
    """``target`` with the headers (and wire data) of ``cred``."""
    base = target.base_url if pinned_url else api_base(provider_id, cred) or target.base_url
    return replace(
        target,
        headers={**target.headers, **api_headers(provider_id, cred)},
        base_url=base,
        breaker="oauth",
        wire=SPECS[provider_id].wire,
        wire_data=wire_data(provider_id, cred),
    )


def bearer_of(target: Target) -> str:
    """The token a target sends (to tell a stale target from a fresh one)."""
    return target.headers.get("Authorization", "").removeprefix("Bearer ")


def needing_login(target: Target, reason: str) -> Target:
    """``target`` marked so that sending fails at once with ``reason`` (no upstream call)."""
    return replace(target, wire_data={**target.wire_data, "needs_login": reason})
