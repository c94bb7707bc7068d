"""The address a serving command (``emulator serve``, ``gateway serve``) listens on."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """Whether ``host`` (``localhost`` or an IP address) is reachable from this machine only;
    any other name is not, since it may resolve to anything."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
