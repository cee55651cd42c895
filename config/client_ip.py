"""The client's address: the proxy's header is believed only from a trusted proxy.

A header such as X-Real-IP can be sent by anyone; taken blindly it lets a client pick its own
rate-limit key (and its own lock-out address). So it is read only when the connection comes
from an address in LINEUP_TRUSTED_PROXIES; otherwise the connection's own address counts.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies)


def is_trusted_proxy(address: str) -> bool:
    return in_networks(address, settings.LINEUP_TRUSTED_PROXIES)


def in_networks(address: str, networks: list[str] | tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(networks)))


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address the trusted proxy reports. For a list (X-Forwarded-For) the
    rightmost address that is not itself a trusted proxy is the client: entries left of it
    were written by the client and prove nothing."""
    remote = request.META.get("REMOTE_ADDR", "")
    header = settings.LINEUP_CLIENT_IP_HEADER
    if not header or not is_trusted_proxy(remote):
        return remote
    for candidate in reversed(request.META.get(header, "").split(",")):
        candidate = candidate.strip()
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            return remote  # a malformed header: fall back to what we know
        if not is_trusted_proxy(candidate):
            return candidate
    return remote
