"""Who may read the Prometheus metrics: the API's ``/metrics`` and the worker's metrics port.

Metrics tell an outsider the traffic, the routes, the backlog and the failure rates; they are for
the operator's scraper. A scrape is let in when it comes from an address of
``SSP_METRICS_ALLOWED_IPS`` (default: this machine, loopback only) or carries
``Authorization: Bearer`` with ``SSP_METRICS_TOKEN`` (when set). An empty address list and a
token: only the token. Behind a reverse proxy the address is the client's (app/core/proxies.py),
and a request that came through a proxy that is not configured is never taken for a local one."""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from app.core.addresses import IPNetwork, in_networks, parse_address
from app.core.config import Settings

log = logging.getLogger("app.metrics")

REFUSAL = (
    "Metrics are served to the addresses of SSP_METRICS_ALLOWED_IPS, or with the bearer token "
    "of SSP_METRICS_TOKEN."
)


@dataclass(frozen=True)
class MetricsAccess:
    allowed: tuple[IPNetwork, ...]
    token: str | None

    @classmethod
    def of(cls, settings: Settings) -> MetricsAccess:
        return cls(
            allowed=tuple(settings.metrics_allowed_ips), token=settings.metrics_token or None
        )

    def allows(self, address: str | None, authorization: str | None, *, proxied: bool) -> bool:
        """``proxied``: the request carries proxy headers that were not believed, so its
        peer address is a proxy's, not the scraper's."""
        if self.token is not None and authorization:
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(
                credentials.strip().encode(), self.token.encode()
            ):
                return True
        return not proxied and in_networks(parse_address(address), self.allowed)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """One line per scrape on stderr is noise."""


WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_FORWARDING_KEYS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def guarded_metrics_app(access: MetricsAccess, metrics: WSGIApp) -> WSGIApp:
    """The metrics WSGI app behind the same rule as ``/metrics``. Nothing stands in front of
    the worker's port, so proxy headers there are only a reason not to trust the address."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        proxied = any(key in environ for key in _FORWARDING_KEYS)
        if access.allows(
            environ.get("REMOTE_ADDR"), environ.get("HTTP_AUTHORIZATION"), proxied=proxied
        ):
            return metrics(environ, start_response)
        start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8")])
        return [REFUSAL.encode()]

    return app


def serve_worker_metrics(settings: Settings) -> WSGIServer:
    """The worker's metrics on ``SSP_WORKER_METRICS_PORT``, in a daemon thread."""
    app = guarded_metrics_app(MetricsAccess.of(settings), make_wsgi_app())
    server = make_server(
        "0.0.0.0",  # scraped from another machine or container; guarded above
        settings.worker_metrics_port,
        app,
        ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("worker metrics on port %d", settings.worker_metrics_port)
    return server
