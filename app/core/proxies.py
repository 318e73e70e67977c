"""Who the client is behind a reverse proxy (``SSP_FORWARDED_ALLOW_IPS``).

``X-Forwarded-For`` is whatever the sender wrote, unless a proxy we run wrote it. So the header
is read only when the connection comes from a configured proxy, and then from the right: each
proxy appends the address it saw, so the right-most address that is not one of our proxies is
the client (anything to its left the client may have made up). Without the setting no header is
believed and the client is the connection's peer: one forged header cannot pass for another
client (and escape the login lockout, app/auth/throttle.py), and a proxy we do not know about
shows up as one client.

This is the only place proxy headers are read: ``python -m app serve`` turns uvicorn's own
handling off (app/cli.py), so that one setting decides."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.addresses import IPNetwork, in_networks, parse_address

# Set in the scope when a request carries proxy headers that were not believed: it came
# through a proxy that is not configured (or the client forged them). Address-based rules
# (who may read /metrics) do not trust its peer address then.
UNTRUSTED_FORWARDING = "ssp.untrusted_forwarding"
FORWARDING_HEADERS = frozenset({b"x-forwarded-for", b"forwarded", b"x-real-ip"})


def client_behind_proxies(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> str | None:
    """The client's address, given the connection's peer (a trusted proxy) and the entries of
    ``X-Forwarded-For``, left to right."""
    reporter = parse_address(peer)
    for entry in reversed(forwarded_for):
        address = parse_address(entry)
        if address is None:
            # Not an address: the hop that reported it is as far as we can tell.
            break
        reporter = address
        if not in_networks(address, trusted):
            break
    return str(reporter) if reporter is not None else peer


class ForwardedHeadersMiddleware:
    def __init__(self, app: ASGIApp, trusted: Sequence[IPNetwork]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            self._resolve(scope)
        await self.app(scope, receive, send)

    def _resolve(self, scope: Scope) -> None:
        forwarded_for: list[str] = []
        forwarded_proto: str | None = None
        forwarding = False
        for name, value in scope["headers"]:
            if name in FORWARDING_HEADERS:
                forwarding = True
            if name == b"x-forwarded-for":
                forwarded_for += value.decode("latin-1").split(",")
            elif name == b"x-forwarded-proto":
                forwarded_proto = value.decode("latin-1")
        if not forwarding and forwarded_proto is None:
            return
        client = scope.get("client")
        peer = client[0] if client else None
        if not in_networks(parse_address(peer), self.trusted):
            scope[UNTRUSTED_FORWARDING] = forwarding
            return
        if forwarded_for:
            address = client_behind_proxies(peer, forwarded_for, self.trusted)
            if address is not None:
                scope["client"] = (address, 0)
        if forwarded_proto is not None:
            # The nearest proxy's word: it appended (or replaced) the value last.
            scheme = forwarded_proto.split(",")[-1].strip().lower()
            if scheme in ("http", "https"):
                scope["scheme"] = (
                    scheme if scope["type"] == "http" else scheme.replace("http", "ws")
                )
