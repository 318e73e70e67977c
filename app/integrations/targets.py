"""Where webhooks may be sent: public internet addresses only, unless an administrator listed a
host or an address range in ``SSP_WEBHOOK_ALLOWED_HOSTS``.

A webhook URL is chosen by its registrant and fetched by our servers, from inside our network:
without this rule anyone allowed to register one could make the worker POST to the metadata
service (169.254.169.254), the database's admin port or anything else on the intranet. The rule
is checked twice:

- at registration (and when the URL changes), so that the registrant hears about it at once;
- at delivery, on the addresses the name resolves to *then*, and the connection is made to an
  address that was checked (``GuardedNetworkBackend`` in app/integrations/transport.py), so a
  name that answers a public address to the check and a private one to the connection (DNS
  rebinding) gains nothing.

An address is public when it is global unicast: not loopback, "this network" (0.0.0.0/8), the
private ranges, shared address space (100.64.0.0/10), link-local, multicast, reserved,
benchmarking or documentation ranges, nor an IPv6 form of one of those (IPv4-mapped, NAT64,
6to4). IPv6 must be global unicast (2000::/3), which leaves out unique-local (fc00::/7),
site-local and link-local addresses; Teredo and the other protocol assignments in 2001::/23
are refused whole. Host names are compared after lower-casing and dropping a final dot;
``localhost`` and names under ``.localhost`` are loopback by definition (RFC 6761) and are not
looked up."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import httpx

from app.core.config import Settings

log = logging.getLogger("app.integrations.targets")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port → every address the name resolves to; raises TargetUnresolvable.
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

# How long registration waits for a name to resolve; delivery is bounded by the attempt's
# own timeout.
RESOLVE_TIMEOUT_SECONDS = 5.0

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
NON_PUBLIC_IPV4 = (
    _V4("0.0.0.0/8"),  # "this network"; 0.0.0.0 reaches the host itself
    _V4("10.0.0.0/8"),
    _V4("100.64.0.0/10"),  # shared address space (carrier-grade NAT)
    _V4("127.0.0.0/8"),
    _V4("169.254.0.0/16"),  # link-local, where cloud metadata services answer
    _V4("172.16.0.0/12"),
    _V4("192.0.0.0/24"),  # IETF protocol assignments
    _V4("192.0.2.0/24"),  # documentation
    _V4("192.88.99.0/24"),  # the former 6to4 relay anycast
    _V4("192.168.0.0/16"),
    _V4("198.18.0.0/15"),  # benchmarking
    _V4("198.51.100.0/24"),  # documentation
    _V4("203.0.113.0/24"),  # documentation
    _V4("224.0.0.0/4"),  # multicast
    _V4("240.0.0.0/4"),  # reserved, and the broadcast address
)
GLOBAL_UNICAST_IPV6 = _V6("2000::/3")
NON_PUBLIC_IPV6 = (
    _V6("2001::/23"),  # IETF protocol assignments: Teredo, benchmarking, ORCHID, …
    _V6("2001:db8::/32"),  # documentation
    _V6("3fff::/20"),  # documentation
)
# Forms that carry an IPv4 address, judged by it (a DNS64 resolver answers these for every
# IPv4-only name on an IPv6-only network).
NAT64_WELL_KNOWN = _V6("64:ff9b::/96")

_HEX_PART = re.compile(r"0[xX][0-9a-fA-F]*")
_OCT_PART = re.compile(r"0[0-7]*")
_DEC_PART = re.compile(r"[1-9][0-9]*")
_INET_ATON_CHARS = re.compile(r"[0-9a-fA-FxX.]+")


class TargetRefused(Exception):
    """A webhook target the rules refuse. ``public`` is what its registrant may be told;
    the exception's own text (with resolved addresses) is for the server's log only."""

    def __init__(self, public: str, detail: str) -> None:
        super().__init__(detail)
        self.public = public


class TargetNotAllowed(TargetRefused):
    """The URL's form, or an address the host is or resolves to, is not allowed."""


class TargetUnresolvable(TargetRefused):
    """The host name did not resolve (no such name, no answer in time)."""


def normalise_host(host: str) -> str:
    """A URL's host as the rules compare it: without IPv6 brackets, lower case, no final dot."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host.lower().rstrip(".")


def _inet_aton_part(text: str) -> int | None:
    if _HEX_PART.fullmatch(text):
        return int(text[2:] or "0", 16)
    if _OCT_PART.fullmatch(text):
        return int(text, 8)
    if _DEC_PART.fullmatch(text):
        return int(text)
    return None


def _parse_inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address of the shorthand forms resolvers accept (``127.1``, ``2130706433``,
    ``0x7f.1``, ``017700000001``): one to four parts, each decimal, octal (a leading 0) or
    hexadecimal (0x), the last filling the bytes that remain."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = [_inet_aton_part(part) for part in parts]
    if any(value is None for value in values):
        return None
    *leading, last = [v for v in values if v is not None]
    if any(value > 255 for value in leading) or last >= 256 ** (5 - len(parts)):
        return None
    number = last
    for index, value in enumerate(leading):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host written as an IP address in any form the system resolver would take
    means; ``None`` for a host name."""
    host = normalise_host(host)
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not _INET_ATON_CHARS.fullmatch(host):
        return None
    address = _parse_inet_aton(host)
    if address is not None:
        return address
    # The C library's own reading, should it accept a form the parser above does not.
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, NAT64, 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def is_public(address: IPAddress) -> bool:
    """Whether an address is global unicast, reachable on the public internet."""
    if isinstance(address, ipaddress.IPv6Address):
        carried = embedded_ipv4(address)
        if carried is not None:
            return is_public(carried)
        if address not in GLOBAL_UNICAST_IPV6:
            return False
        return not any(address in network for network in NON_PUBLIC_IPV6)
    return not any(address in network for network in NON_PUBLIC_IPV4)


def is_localhost_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


@dataclass(frozen=True)
class TargetPolicy:
    """The rules in force: https only in production, and what the administrator allowed."""

    require_https: bool
    allowed_names: frozenset[str] = frozenset()
    allowed_suffixes: tuple[str, ...] = ()  # from "*.corp.example": ".corp.example"
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> TargetPolicy:
        return _policy(settings.env == "production", tuple(settings.webhook_allowed_hosts))

    def name_allowed(self, host: str) -> bool:
        return host in self.allowed_names or host.endswith(self.allowed_suffixes)

    def address_allowed(self, address: IPAddress) -> bool:
        if is_public(address):
            return True
        candidates: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address):
            carried = embedded_ipv4(address)
            if carried is not None:
                candidates.append(carried)
        return any(
            candidate in network
            for candidate in candidates
            for network in self.allowed_networks
            if candidate.version == network.version
        )

    def check_form(self, url: str) -> tuple[str, int]:
        """The URL's host (normalised) and port, once its scheme and form are acceptable."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise TargetNotAllowed("is not a valid URL", f"unparseable URL: {exc}") from exc
        if parsed.scheme not in ("http", "https"):
            raise TargetNotAllowed("must be an http or https URL", f"scheme {parsed.scheme!r}")
        if self.require_https and parsed.scheme != "https":
            raise TargetNotAllowed("must use https", "http refused in production")
        if parsed.userinfo:
            raise TargetNotAllowed("must not contain a user name or password", "URL with userinfo")
        host = normalise_host(parsed.raw_host.decode("ascii"))
        if not host:
            raise TargetNotAllowed("must name a host", "URL without a host")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        return host, port


@lru_cache(maxsize=8)
def _policy(require_https: bool, entries: tuple[str, ...]) -> TargetPolicy:
    names: set[str] = set()
    suffixes: list[str] = []
    networks: list[IPNetwork] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            if entry.startswith("*."):
                suffixes.append(entry[1:])
            else:
                names.add(entry)
    return TargetPolicy(require_https, frozenset(names), tuple(suffixes), tuple(networks))


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address the operating system's resolver gives for ``host``."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetUnresolvable(_NAME_REFUSED, f"{host} does not resolve: {exc}") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        # An IPv6 link-local answer carries its interface ("fe80::1%eth0").
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TargetUnresolvable(_NAME_REFUSED, f"{host} resolves to no address")
    return addresses


# One answer for a name that does not resolve and one that resolves to an internal address,
# so that registering webhooks cannot be used to learn which internal names exist.
_NAME_REFUSED = (
    "must name a host that resolves to public internet addresses only; this one does not "
    "resolve, or resolves to an address that is not public"
)


def _describe(addresses: Iterable[IPAddress]) -> str:
    return ", ".join(str(address) for address in addresses)


async def allowed_addresses(
    policy: TargetPolicy, resolver: Resolver, host: str, port: int
) -> list[IPAddress]:
    """The addresses to connect to for ``host``, every one of them allowed; refuses the host
    when any is not (one bad answer among good ones is how rebinding attacks start)."""
    host = normalise_host(host)
    literal = parse_ip_literal(host)
    if literal is not None:
        if not policy.address_allowed(literal):
            raise TargetNotAllowed(
                "is not a public internet address", f"{host} is not a public address"
            )
        return [literal]
    name_listed = policy.name_allowed(host)
    if is_localhost_name(host) and not name_listed:
        raise TargetNotAllowed(_NAME_REFUSED, f"{host} is a loopback name")
    addresses = await resolver(host, port)
    if name_listed:
        return addresses
    refused = [address for address in addresses if not policy.address_allowed(address)]
    if refused:
        raise TargetNotAllowed(
            _NAME_REFUSED,
            f"{host} resolves to {_describe(addresses)}, not public: {_describe(refused)}",
        )
    return addresses


async def check_url(policy: TargetPolicy, url: str, resolver: Resolver = system_resolver) -> None:
    """Refuse a webhook URL the rules do not allow, as its registrant gives it."""
    host, port = policy.check_form(url)
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            await allowed_addresses(policy, resolver, host, port)
    except TimeoutError as exc:
        raise TargetUnresolvable(_NAME_REFUSED, f"{host} did not resolve in time") from exc
