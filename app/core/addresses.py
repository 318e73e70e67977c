"""Client addresses and lists of trusted networks, as settings give them and requests carry them."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_settings import NoDecode

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)


def parse_networks(value: object) -> object:
    """``10.0.0.0/8, 192.168.1.7`` (commas, as uvicorn and most proxies write them) or a JSON
    list; an address alone is a network of one. Host bits are forgiven (``10.1.2.3/8``)."""
    if isinstance(value, str):
        text = value.strip()
        entries: Iterable[object] = json.loads(text) if text.startswith("[") else text.split(",")
    elif isinstance(value, Iterable):
        entries = value
    else:
        return value
    networks: list[IPNetwork] = []
    for entry in entries:
        if isinstance(entry, ipaddress.IPv4Network | ipaddress.IPv6Network):
            networks.append(entry)
            continue
        text = str(entry).strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise ValueError(f"{text!r} is not an IP address or network ({exc})") from None
    return networks


# A settings field: a list of networks from an environment variable, written with commas.
NetworkList = Annotated[list[IPNetwork], NoDecode, BeforeValidator(parse_networks)]


def parse_address(text: str | None) -> IPAddress | None:
    """An address as a connection or a proxy reports it (``203.0.113.9``, ``203.0.113.9:5123``,
    ``[2001:db8::1]:443``, ``::ffff:203.0.113.9`` from a dual-stack socket); None for anything
    else (a unix socket, a name, garbage)."""
    if not text:
        return None
    candidate = text.strip()
    if candidate.startswith("[") and "]" in candidate:
        candidate = candidate[1 : candidate.index("]")]
    elif candidate.count(":") == 1:
        candidate = candidate.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def in_networks(address: IPAddress | None, networks: Iterable[IPNetwork]) -> bool:
    if address is None:
        return False
    return any(address.version == network.version and address in network for network in networks)
