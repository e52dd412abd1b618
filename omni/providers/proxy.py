"""Outbound proxy URLs: which are accepted, and how they are shown without their password.

omni sends upstream traffic through an HTTP proxy when one is set for the account, else
for the provider, else globally (the setting ``proxy``). aiohttp speaks to HTTP proxies
(``http://`` and ``https://``, with ``user:password@`` for basic auth) and tunnels TLS
through them with CONNECT. SOCKS proxies would need another connector per proxy and are
refused with a message that says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from omni.errors import InvalidInputError

if TYPE_CHECKING:
    from omni.store.secrets import SecretBox


def check_proxy_url(url: object) -> str:
    """A usable proxy URL, or a 400 saying what is wrong with it."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInputError("a proxy must be a URL such as http://127.0.0.1:3128")
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise InvalidInputError(f"proxy {mask_url(url)!r} is not a valid URL") from None
    if parts.scheme.startswith("socks"):
        raise InvalidInputError(
            "SOCKS proxies are not supported yet; use an HTTP proxy (http://host:port), "
            "e.g. one that forwards to your SOCKS server"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(
            f"proxy {mask_url(url)!r} must be an http:// or https:// URL with a host"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidInputError(f"proxy {mask_url(url)!r} must not have a path or query")
    return url.rstrip("/")


def mask_url(url: str | None) -> str | None:
    """``url`` with any password replaced by ``***`` (for output and errors)."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<invalid URL>"
    if not password:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def has_password(url: str) -> bool:
    try:
        return bool(urlsplit(url).password)
    except ValueError:
        return False


def open_sealed(value: Any, secrets: SecretBox) -> str | None:
    """A stored proxy URL (encrypted when it holds a password) in clear."""
    if not isinstance(value, str) or not value:
        return None
    return secrets.decrypt(value) if value.startswith("enc:") else value
