"""The IP filter rule: which client addresses may talk to the server at all.

``{"mode": "off" | "allow" | "deny", "allow": [CIDR…], "deny": [CIDR…]}``:

- ``off``: every address is served (the default);
- ``allow``: only addresses in ``allow`` are served;
- ``deny``: every address but those in ``deny`` is served;
- in both active modes an address in ``deny`` is refused, even if ``allow`` lists it.

Loopback addresses (127.0.0.0/8, ::1 and their IPv4-mapped forms) are always served: the
local CLI and TUI manage the server through loopback, so no rule can lock the owner out
of their own server. IPv4-mapped IPv6 addresses (``::ffff:10.0.0.1``, what a dual-stack
socket reports for an IPv4 client) are matched as the IPv4 address they carry, and mapped
networks in a rule (``::ffff:10.0.0.0/104``) as the IPv4 network. The address checked is
the socket's peer: forwarding headers are not trusted, since any client can send them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from omni.errors import InvalidInputError

MODES = ("off", "allow", "deny")
MAX_ENTRIES = 1000
SETTING_KEY = "ip_filter"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _unmap_network(net: Network) -> Network:
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96:
        mapped = net.network_address.ipv4_mapped
        if mapped is not None:
            return ipaddress.IPv4Network(f"{mapped}/{net.prefixlen - 96}")
    return net


def _unmap(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _networks(field: str, value: Any) -> tuple[Network, ...]:
    if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
        raise InvalidInputError(f"field '{field}' must be a list of addresses or CIDR networks")
    if len(value) > MAX_ENTRIES:
        raise InvalidInputError(f"field '{field}' holds more than {MAX_ENTRIES} entries")
    networks: list[Network] = []
    for entry in value:
        try:
            net = ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            raise InvalidInputError(
                f"'{entry}' in '{field}' is not an IP address or CIDR network "
                "(such as 10.0.0.0/8 or 2001:db8::/32)"
            ) from None
        unmapped = _unmap_network(net)
        if unmapped not in networks:
            networks.append(unmapped)
    return tuple(networks)


@dataclass(frozen=True, slots=True)
class IpRules:
    """A parsed, validated filter; :meth:`allows` is what the middleware asks."""

    mode: str = "off"
    allow: tuple[Network, ...] = ()
    deny: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> IpRules:
        """Validate a JSON object (unknown fields and bad entries are refused)."""
        unknown = sorted(set(data) - {"mode", "allow", "deny"})
        if unknown:
            raise InvalidInputError(
                f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                "(known: mode, allow, deny)"
            )
        mode = data.get("mode", "off")
        if mode not in MODES:
            raise InvalidInputError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        allow = _networks("allow", data.get("allow", []))
        rules = cls(mode, allow, _networks("deny", data.get("deny", [])))
        if mode == "allow" and not rules.allow:
            raise InvalidInputError(
                "mode 'allow' needs at least one entry in 'allow' (only loopback would be served)"
            )
        return rules

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "allow": [str(n) for n in self.allow],
            "deny": [str(n) for n in self.deny],
        }

    def allows(self, peer: str | None) -> bool:
        """Whether a client at ``peer`` (the socket's address) is served."""
        if self.mode == "off" or peer is None:  # None: a Unix socket, i.e. this machine
            return True
        try:
            address = _unmap(ipaddress.ip_address(peer))
        except ValueError:
            return False
        if address.is_loopback:
            return True
        if any(address in net for net in self.deny):
            return False
        if self.mode == "allow":
            return any(address in net for net in self.allow)
        return True


@dataclass(slots=True)
class IpFilter:
    """The server's in-memory copy of the rule and the config version it was read at."""

    rules: IpRules
    version: int = -1
