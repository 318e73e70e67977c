"""The HTTP client that delivers webhooks, and connects only where the target rules allow.

The check sits where the connection is made, in the connection pool's network backend: it
resolves the host once, checks every address it got (app/integrations/targets.py) and opens
the socket to one of those very addresses. There is no second lookup between the check and
the connection for a rebinding name to answer differently, and every connection the client
makes, whatever path led to it, passes the check. TLS still verifies the certificate for the
URL's host name (the pool hands the name, not the address, to the TLS layer), and a kept-alive
connection serves only the origin (scheme, name, port) it was opened for.

Redirects are not followed, and proxies from the environment are not used: the address the
rules check must be the one the request goes to."""

from __future__ import annotations

from collections.abc import Iterable

import httpcore
import httpx

from app.core.config import Settings
from app.integrations.targets import (
    Resolver,
    TargetPolicy,
    allowed_addresses,
    system_resolver,
)


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Connects to the checked addresses of a host, in the order the resolver gave them."""

    def __init__(
        self,
        policy: TargetPolicy,
        resolver: Resolver = system_resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._policy = policy
        self._resolver = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await allowed_addresses(self._policy, self._resolver, host, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # allowed_addresses returns at least one address
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are delivered over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (its request and error mapping) over a pool that connects through
    ``GuardedNetworkBackend``, and refuses URLs of a form the rules do not allow."""

    def __init__(
        self,
        policy: TargetPolicy,
        resolver: Resolver = system_resolver,
        limits: httpx.Limits = httpx.Limits(),
    ) -> None:
        super().__init__(limits=limits, trust_env=False)
        # httpx builds its pool without a way to pass a network backend; replace it with the
        # same pool over ours. Checked, so that a change in httpx fails loudly here instead of
        # leaving an unguarded pool in place.
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("httpx.AsyncHTTPTransport no longer keeps its pool in _pool")
        self._pool = httpcore.AsyncConnectionPool(
            # SSL_CERT_FILE / SSL_CERT_DIR still name the trusted CAs (for an internal host
            # an administrator allowed, signed by the organisation's own CA).
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(policy, resolver),
        )
        self._policy = policy

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._policy.check_form(str(request.url))
        return await super().handle_async_request(request)


def guarded_client(
    settings: Settings, limits: httpx.Limits, resolver: Resolver = system_resolver
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=GuardedTransport(TargetPolicy.from_settings(settings), resolver, limits),
        timeout=httpx.Timeout(settings.webhook_timeout_seconds),
        follow_redirects=False,
        trust_env=False,
    )
