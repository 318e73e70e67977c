"""HEAD answered wherever GET is (RFC 9110 §9.3.2).

FastAPI's API routes answer only the methods they declare, so an uptime monitor's or a proxy's
``HEAD /healthz`` was a 405. A HEAD request is served as the GET it stands for, and the body is
dropped on the way out; the headers, ``Content-Length`` and ``ETag`` included, are the GET's.
A route whose body is costly to make (a download streamed from the database) asks
``is_head`` and answers with the headers alone."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Set in the scope of a HEAD request served as a GET.
_HEAD = "ssp.head"


def is_head(request: Request) -> bool:
    """Whether the GET being served is a HEAD request's: its body will not be sent."""
    return bool(request.scope.get(_HEAD))


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        finished = False

        async def send_without_body(message: Message) -> None:
            nonlocal finished
            if message["type"] != "http.response.body":
                await send(message)
                return
            if finished:
                return  # a streamed answer goes on until the client leaves; nothing more is sent
            finished = True
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET", _HEAD: True}, receive, send_without_body)
