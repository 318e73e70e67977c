"""The request-body middleware hands a body on in large blocks, whole and in order, and still
cuts it off past the limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

from app.core.body_limit import BodySizeLimitMiddleware

PIECE = 64 * 1024


def pieces(body: bytes, size: int = PIECE) -> Iterator[Message]:
    for start in range(0, len(body), size):
        end = start + size
        yield {"type": "http.request", "body": body[start:end], "more_body": end < len(body)}


async def run(
    messages: list[Message], *, max_bytes: int = 10 * 1024 * 1024, block_bytes: int = 256 * 1024
) -> list[Message]:
    """The messages the app behind the middleware receives until the body ends or it is told of
    a disconnect."""
    feed = iter(messages)
    seen: list[Message] = []

    async def receive() -> Message:
        return next(feed)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            seen.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                return

    async def send(message: Message) -> None:  # pragma: no cover - the app sends nothing
        raise AssertionError(message)

    middleware = BodySizeLimitMiddleware(app, max_bytes=max_bytes, block_bytes=block_bytes)
    scope: Scope = {"type": "http", "headers": [], "method": "POST", "path": "/"}
    await middleware(scope, receive, send)
    return seen


async def test_small_pieces_arrive_as_large_blocks_in_order() -> None:
    body = bytes(range(256)) * (2 * 1024 * 1024 // 256 + 7)  # a little over 2 MB
    seen = await run(list(pieces(body)))
    assert b"".join(m["body"] for m in seen) == body
    assert [m["more_body"] for m in seen] == [True] * (len(seen) - 1) + [False]
    assert all(len(m["body"]) >= 256 * 1024 for m in seen[:-1])
    assert len(seen) == 9  # 33 pieces of 64 KB in blocks of four, the last short


async def test_a_body_in_one_piece_is_handed_on_as_it_is() -> None:
    seen = await run([{"type": "http.request", "body": b"abc", "more_body": False}])
    assert seen == [{"type": "http.request", "body": b"abc", "more_body": False}]


async def test_a_disconnect_in_the_middle_of_a_block_follows_the_data_before_it() -> None:
    messages = [*list(pieces(b"x" * (3 * PIECE)))[:2], {"type": "http.disconnect"}]
    seen = await run(messages)
    assert seen[0] == {"type": "http.request", "body": b"x" * (2 * PIECE), "more_body": True}
    assert seen[1] == {"type": "http.disconnect"}


async def test_a_body_growing_past_the_limit_is_cut_off() -> None:
    with pytest.raises(HTTPException) as raised:
        await run(list(pieces(b"x" * (5 * PIECE))), max_bytes=3 * PIECE)
    assert raised.value.status_code == 413
