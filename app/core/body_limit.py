"""Cut off a request body as soon as it grows past the limit, before it is parsed or stored.

A phone on a bad network may send a huge file; the declared Content-Length is refused at once,
and a body without one (chunked) is counted as it streams in."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        # An HTTPException, not a domain error: the framework's body parsing turns any other
        # exception into a 400, but passes this one through to the problem+json handler.
        too_large = HTTPException(
            413, f"The request is larger than {self.max_bytes // (1024 * 1024)} MB in all"
        )
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            # Refused before a byte of the body is read. The error is raised inside the app so
            # that the usual handler renders it as problem+json.
            async def refuse(_: Receive = receive) -> Message:
                raise too_large

            await self.app(scope, refuse, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise too_large
            return message

        await self.app(scope, counting_receive, send)
