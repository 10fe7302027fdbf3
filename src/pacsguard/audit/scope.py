"""The scope guard: the audit only touches loopback and private addresses unless told otherwise.

Checked on resolved addresses before any connection is made, so a refused target
is never contacted.
"""

from __future__ import annotations

import ipaddress

from pacsguard.errors import ScopeError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def in_default_scope(ip: IPAddress) -> bool:
    """True for loopback and private (RFC 1918, ULA, link-local) unicast addresses."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return in_default_scope(ip.ipv4_mapped)
    if ip.is_loopback:
        return True  # ::1 lies inside the reserved ::/8, so test it first
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return False
    return ip.is_private or ip.is_link_local


def check_scope(ip: IPAddress, label: str, allow_public: bool) -> None:
    """Raise :class:`ScopeError` unless ``ip`` may be audited.

    ``label`` is what the user typed, so the message points at their input.
    """
    if ip.is_unspecified or ip.is_multicast:
        raise ScopeError(f"target {label!r} ({ip}) is not a unicast address")
    if not allow_public and not in_default_scope(ip):
        raise ScopeError(
            f"target {label!r} resolves to {ip}, outside loopback and private ranges; "
            "audit only what you are responsible for, and pass --allow-public to confirm"
        )
