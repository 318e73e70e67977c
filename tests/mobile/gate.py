"""A gate in front of the test's server: it holds back the answers to requests of a kind, so
that a test can show the page a request in flight, and lose its answer, at a moment of its
choosing."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

UPLOADS = ("POST", "/api/v1/uploads")
FILINGS = ("POST", "/api/v1/reports")


class Gate:
    """Holds the server's answers to the phone's requests of a kind (method and path) while the
    test says so: the server has done what was asked, the page sees its request in flight (no
    answer yet), as on a slow link, for as long as the test needs. A page that gives up
    meanwhile never gets the answer: what a lost connection does."""

    def __init__(self) -> None:
        self.open: dict[tuple[str, str], asyncio.Event] = {}

    def _event(self, kind: tuple[str, str]) -> asyncio.Event:
        if kind not in self.open:
            self.open[kind] = asyncio.Event()
            self.open[kind].set()
        return self.open[kind]

    def hold(self, kind: tuple[str, str]) -> None:
        self._event(kind).clear()

    def release(self, kind: tuple[str, str]) -> None:
        self._event(kind).set()

    def release_all(self) -> None:
        for event in self.open.values():
            event.set()


class GatedAnswers:
    """The middleware that keeps the gate's answers."""

    def __init__(self, app: ASGIApp, gate: Gate) -> None:
        self.app, self.gate = app, gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = (scope.get("method", ""), scope.get("path", ""))
        opened = self.gate.open.get(kind)
        if scope["type"] != "http" or opened is None:
            await self.app(scope, receive, send)
            return

        async def answer_when_open(message: Message) -> None:
            if message["type"] == "http.response.start":
                await opened.wait()
            await send(message)

        await self.app(scope, receive, answer_when_open)
