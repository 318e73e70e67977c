"""Request id, one structured access-log line and Prometheus metrics per request (pure ASGI)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logging import bind_request_id, reset_request_id
from app.core.metrics import REQUEST_LATENCY, REQUESTS

log = logging.getLogger("app.access")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,100}$")
UNMATCHED = "unmatched"


class RouteLabels:
    """The ``route`` label of a request: the path template it matched, as the client sees it
    (``/api/v1/reports/{report_id}``, ``/docs``, ``/docs/assets/{path}`` for a mount), so that the
    label's values are few and say which endpoint was called; ``unmatched`` for paths no route
    knows (404s).

    FastAPI records the matched API route in the scope, but the route object of an included
    router carries its path without the router's prefix, and FastAPI's own routes (the docs,
    the OpenAPI document) and mounts record nothing. So the full templates are looked up once
    per app from its route tree, and a request that recorded no route is matched against the
    app's top-level routes and mounts; the hot path stays one dictionary look-up."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        self._api_paths: dict[int, str] = {}
        self._others: list[Any] = []
        for context in iter_route_contexts(routes):
            original = context.original_route
            if context.path_format is None:
                continue
            if original is context.route and hasattr(original, "path_regex"):
                # A top-level route or mount: matched here when FastAPI records nothing.
                self._others.append(original)
            self._api_paths[id(original)] = context.path_format

    def label(self, route: Any, route_path: str) -> str:
        if route is not None:
            known = self._api_paths.get(id(route))
            return known if known is not None else str(getattr(route, "path_format", UNMATCHED))
        for candidate in self._others:
            if candidate.path_regex.match(route_path):
                path_format: str = candidate.path_format
                return path_format
        return UNMATCHED


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._route_labels: RouteLabels | None = None

    def _route_label(self, scope: Scope, root_path: str) -> str:
        if self._route_labels is None:
            # Built on the first request, when every router has been included.
            self._route_labels = RouteLabels(scope["app"].routes)
        path: str = scope["path"]
        route_path = path[len(root_path) :] if root_path and path.startswith(root_path) else path
        return self._route_labels.label(scope.get("route"), route_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        # A client's id is kept (to trace a phone's retries) only if it is harmless in a log.
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        # Kept in the scope too: the 500 handler runs outside this middleware, after the reset.
        scope["request_id"] = request_id
        token = bind_request_id(request_id)
        started = time.perf_counter()
        status_code = 500
        # A mount rewrites root_path in the scope as it routes; the label needs the original.
        root_path = scope.get("root_path", "")

        async def send_with_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            path_template = self._route_label(scope, root_path)
            REQUESTS.labels(scope["method"], path_template, str(status_code)).inc()
            REQUEST_LATENCY.labels(scope["method"], path_template).observe(elapsed)
            log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status_code,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status_code,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            reset_request_id(token)
