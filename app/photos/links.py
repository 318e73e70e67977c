"""Photo links that need no bearer token: a signed, expiring URL, for what cannot send an
``Authorization`` header — an ``<img>`` on a phone's page, a mini-program's ``<image>``, an
Open311 client reading ``media_url``. Every photo URL the API answers with is one.

The signature (HMAC-SHA256 with a key derived from the secret key, so that it can never pass for
anything else the server signs) covers the photo, the size and the expiry: a link opens that one
image at that size until it expires, and nothing else. Whoever the server gave the link to
could see the photo already; the link lets them hand it to their image loader.

The signer of a request is the app's (``SignedPhotoLinks`` sets it for every request), so that
the presenters that write photo URLs deep inside a case need no secret passed down to them."""

from __future__ import annotations

import functools
import hashlib
import hmac
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from starlette.types import ASGIApp, Receive, Scope, Send

PhotoSize = Literal["display", "thumbnail"]
PHOTO_URL: Final = "/api/v1/photos/{id}"
# Expiries are rounded up to a quarter of an hour, so that the links of one photo made within
# it are the same URL and an image cache keeps one copy.
_ROUND_SECONDS: Final = 900


def link_signing_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"suishoupai photo link v1", hashlib.sha256).digest()


# Every photo of every case a list shows is signed twice (two sizes); the expiries are rounded,
# so the same page read again within the quarter hour signs nothing anew.
@functools.lru_cache(maxsize=65_536)
def _signature(key: bytes, photo_id: uuid.UUID, size: PhotoSize, expires: int) -> str:
    message = f"{photo_id}:{size}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class PhotoSigner:
    key: bytes
    lifetime: timedelta

    @classmethod
    def of(cls, secret_key: str, lifetime_minutes: float) -> PhotoSigner:
        return cls(link_signing_key(secret_key), timedelta(minutes=lifetime_minutes))

    def signature(self, photo_id: uuid.UUID, size: PhotoSize, expires: int) -> str:
        return _signature(self.key, photo_id, size, expires)

    def path(self, photo_id: uuid.UUID, size: PhotoSize, now: datetime) -> str:
        """``/api/v1/photos/{id}?size=…&expires=…&signature=…``, valid for the lifetime or a
        little more."""
        expires = int((now + self.lifetime).timestamp())
        expires += -expires % _ROUND_SECONDS
        signature = self.signature(photo_id, size, expires)
        url = PHOTO_URL.format(id=photo_id)
        return f"{url}?size={size}&expires={expires}&signature={signature}"

    def is_valid(
        self, photo_id: uuid.UUID, size: PhotoSize, expires: int, signature: str, now: datetime
    ) -> bool:
        if expires <= now.timestamp():
            return False
        # As bytes: a signature that is not ASCII is simply wrong, not an error.
        expected = self.signature(photo_id, size, expires).encode()
        return hmac.compare_digest(expected, signature.encode())


_SIGNER: ContextVar[PhotoSigner | None] = ContextVar("photo_signer", default=None)


def photo_url(photo_id: uuid.UUID, size: PhotoSize, now: datetime) -> str:
    """The URL of a photo in an answer: signed by the request's app; outside a request (a
    script, the personal-data export's file) the bearer form."""
    signer = _SIGNER.get()
    if signer is None:
        url = PHOTO_URL.format(id=photo_id)
        return url if size == "display" else f"{url}?size={size}"
    return signer.path(photo_id, size, now)


class SignedPhotoLinks:
    """ASGI middleware: the app's signer for everything its requests present."""

    def __init__(self, app: ASGIApp, signer: PhotoSigner) -> None:
        self.app = app
        self.signer = signer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _SIGNER.set(self.signer)
        try:
            await self.app(scope, receive, send)
        finally:
            _SIGNER.reset(token)
