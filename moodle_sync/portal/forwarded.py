"""Who the client is: the connection's peer, or, behind a trusted reverse proxy, the address it forwards.

``X-Forwarded-For`` is believed only from the proxies ``[portal] trusted_proxies`` names (none by default),
so that nobody can choose the address the login limit counts and the audit log shows. Behind trusted
proxies the client is the first address, read from the right of the header (each proxy appends the one
it got the request from), that is not itself a trusted proxy; if all are, the leftmost. This is uvicorn's
``forwarded_allow_ips`` rule; uvicorn's own is switched off (``serve``) and this middleware is the only
place that applies it, so ``request.client`` means the same under any server and in tests.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """IP addresses and CIDR ranges as networks (a ValueError names an entry that is neither)."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _host(hop: str) -> str:
    """A hop's address without a port (``1.2.3.4:80``, ``[::1]:80``); anything else as it stands."""
    hop = hop.strip()
    if hop.startswith("[") and "]" in hop:
        return hop[1:hop.index("]")]
    if hop.count(":") == 1:
        return hop.split(":", 1)[0]
    return hop


def _trusted(host: str, trusted: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in trusted)


def client_address(peer: str, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str:
    """The client's address, given the peer's and the ``X-Forwarded-For`` headers (in order)."""
    if not trusted or not forwarded_for or not _trusted(peer, trusted):
        return peer
    hops = [_host(hop) for header in forwarded_for for hop in header.split(",")]
    hops = [hop for hop in hops if hop]
    if not hops:
        return peer
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop[:64]
    return hops[0][:64]


class ForwardedFor:
    """ASGI middleware: sets the scope's client to :func:`client_address` (port 0 when it came forwarded)."""

    def __init__(self, app: ASGIApp, trusted: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted and scope.get("client"):
            peer = str(scope["client"][0])
            forwarded = [value.decode("latin-1") for name, value in scope["headers"] if name == b"x-forwarded-for"]
            host = client_address(peer, forwarded, self.trusted)
            if host != peer:
                scope = dict(scope, client=(host, 0))
        await self.app(scope, receive, send)
