"""Why a delivery attempt failed, in the few words the delivery log shows.

The log is read by whoever registered the webhook, so it says what kind of failure it was and
nothing of what came back: no part of the receiver's answer, no exception text (which names
addresses and ports: with it, a webhook pointed at the intranet would map which ports are
open). The whole story goes to the server's log."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from enum import StrEnum

import httpx

from app.integrations.targets import TargetNotAllowed, TargetUnresolvable


class DeliveryError(StrEnum):
    http_status = "http_status"  # an answer other than 2xx (the code is beside it)
    timeout = "timeout"  # no complete answer within the timeout
    connection_refused = "connection_refused"
    connection_error = "connection_error"  # the network failed otherwise (reset, unreachable)
    tls_error = "tls_error"  # the TLS handshake or the certificate failed
    protocol_error = "protocol_error"  # the answer was not HTTP
    dns_error = "dns_error"  # the host name did not resolve
    target_not_allowed = "target_not_allowed"  # the target rules refused the URL or address


DELIVERY_ERROR_DESCRIPTION = (
    "Why the last attempt failed: `http_status` (an answer other than 2xx, its code in "
    "`last_status_code`), `timeout`, `connection_refused`, `connection_error`, `tls_error`, "
    "`protocol_error`, `dns_error`, `target_not_allowed` (the URL or an address its host "
    "resolves to is not a public internet address, nor allowed by the administrator)"
)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it was raised from, and the members of exception groups."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                stack.append(linked)


def classify(exc: BaseException) -> DeliveryError:
    causes = list(_causes(exc))

    def any_of(*types: type[BaseException]) -> bool:
        return any(isinstance(cause, types) for cause in causes)

    if any_of(TargetNotAllowed, httpx.InvalidURL, httpx.UnsupportedProtocol):
        return DeliveryError.target_not_allowed
    if any_of(TargetUnresolvable):
        return DeliveryError.dns_error
    if any_of(TimeoutError, httpx.TimeoutException):
        return DeliveryError.timeout
    if any_of(ssl.SSLError):
        return DeliveryError.tls_error
    if any_of(ConnectionRefusedError):
        return DeliveryError.connection_refused
    if any_of(httpx.ProtocolError, httpx.DecodingError):
        return DeliveryError.protocol_error
    return DeliveryError.connection_error


def shown_error(stored: str | None, status_code: int | None) -> DeliveryError | None:
    """The error class of a stored outcome. Rows written before the log kept only classes hold
    free text (the start of the receiver's answer, exception messages): they are shown by
    their class, never as written."""
    if stored is None:
        return None
    try:
        return DeliveryError(stored)
    except ValueError:
        return DeliveryError.http_status if status_code else DeliveryError.connection_error
