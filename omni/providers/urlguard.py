"""The SSRF guard for URLs a user gives omni to call: provider base URLs, node URLs, the
target of a proxy test.

The host is resolved once, when the URL is checked, and every address it resolves to must
be allowed. Never allowed: link-local addresses (``169.254.0.0/16``, ``fe80::/10``) and the
cloud metadata endpoints (``169.254.169.254``, ``fd00:ec2::254``), nor unspecified,
multicast or reserved ones. Private ranges (``10/8``, ``172.16/12``, ``192.168/16``,
``100.64/10``, ``fc00::/7``) only when the ``allow_private_urls`` setting is on. Loopback
(``127/8``, ``::1``, ``localhost``) is allowed: local servers (Ollama, LM Studio, vLLM,
llama.cpp, a custom node) live there. A host that does not resolve now is let through: it
cannot reach anything until it does, and refusing it would break offline configuration.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from omni.errors import InvalidInputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_METADATA = (ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"))
_METADATA_HOSTS = ("metadata.google.internal", "metadata.goog", "metadata")
_PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
_LINK_LOCAL = tuple(ipaddress.ip_network(n) for n in ("169.254.0.0/16", "fe80::/10"))

HINT_PRIVATE = "set allow_private_urls = true under [security] in config.toml to allow it"


def blocked_reason(address: IPAddress, allow_private: bool) -> str | None:
    """Why omni must not call ``address`` (None: it may)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in _METADATA:
        return "a cloud metadata address"
    if any(address in net for net in _LINK_LOCAL):
        return "a link-local address"
    if address.is_loopback:
        return None
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return "not a routable address"
    if any(address in net for net in _PRIVATE) or address.is_private:
        return None if allow_private else "a private network address"
    return None


def _addresses(host: str) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host.split("%", 1)[0])]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []  # does not resolve now: nothing to check against
    found: list[IPAddress] = []
    for info in infos:
        try:
            found.append(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]))
        except ValueError:
            continue
    return found


def check_url(
    url: str,
    *,
    allow_private: bool = False,
    what: str = "URL",
    schemes: tuple[str, ...] = ("http", "https"),
) -> str:
    """``url`` without a trailing slash, or a 400 saying why omni refuses to call it."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInputError(f"{what} must be a non-empty URL")
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise InvalidInputError(f"{what} {url!r} is not a valid URL") from None
    if parts.scheme not in schemes or not host:
        wanted = " or ".join(f"{s}://" for s in schemes)
        raise InvalidInputError(f"{what} {url!r} must be a {wanted} URL with a host")
    if host.lower().rstrip(".") in _METADATA_HOSTS:
        raise InvalidInputError(
            f"{what} {url!r} points at a cloud metadata service; omni will not call it"
        )
    for address in _addresses(host):
        reason = blocked_reason(address, allow_private)
        if reason is not None:
            private = reason == "a private network address"
            raise InvalidInputError(
                f"{what} {url!r} resolves to {address}, {reason}; omni will not call it",
                hint=HINT_PRIVATE if private else None,
            )
    return url.rstrip("/")
