"""Is an address or a host name this machine only? What the sandbox may serve.

Names, not resolution: `localhost` is the one name browsers and resolvers keep on this
machine (RFC 6761); any other name can be re-pointed by its owner (DNS rebinding).
"""

from __future__ import annotations

import ipaddress


def is_loopback_address(address: str) -> bool:
    """An IP literal of this machine (127.0.0.0/8, ::1, or IPv4 loopback mapped into IPv6)."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def is_loopback_host(host: str) -> bool:
    """A host name or IP literal (without port) that means this machine only."""
    host = host.strip().rstrip(".").lower()
    return host == "localhost" or is_loopback_address(host)
