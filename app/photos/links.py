"""Photo links that need no bearer token: a signed, expiring URL, for what cannot send an
``Authorization`` header — an ``<img>`` on a phone's page, a mini-program, an Open311 client
reading ``media_url``.

The signature (HMAC-SHA256 with a key derived from the secret key, so that it can never pass for
anything else the server signs) covers the photo, the size and the expiry: a link opens that one
image at that size until it expires, and nothing else. Whoever the server gave the link to
could see the photo already; the link lets them hand it to their image loader."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta
from typing import Final, Literal

PhotoSize = Literal["display", "thumbnail"]

LINK_LIFETIME: Final = timedelta(hours=24)
# Expiries are rounded up to the hour, so that the links of one photo made within the hour are
# the same URL and an image cache keeps one copy.
_ROUND_SECONDS: Final = 3600


def link_signing_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"suishoupai photo link v1", hashlib.sha256).digest()


def _signature(key: bytes, photo_id: uuid.UUID, size: PhotoSize, expires: int) -> str:
    message = f"{photo_id}:{size}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def signed_photo_path(secret_key: str, photo_id: uuid.UUID, size: PhotoSize, now: datetime) -> str:
    """``/api/v1/photos/{id}?size=…&expires=…&signature=…``, valid for a day or a little more."""
    expires = int((now + LINK_LIFETIME).timestamp())
    expires += -expires % _ROUND_SECONDS
    signature = _signature(link_signing_key(secret_key), photo_id, size, expires)
    return f"/api/v1/photos/{photo_id}?size={size}&expires={expires}&signature={signature}"


def link_is_valid(
    secret_key: str,
    photo_id: uuid.UUID,
    size: PhotoSize,
    expires: int,
    signature: str,
    now: datetime,
) -> bool:
    if expires <= now.timestamp():
        return False
    expected = _signature(link_signing_key(secret_key), photo_id, size, expires)
    # As bytes: a signature that is not ASCII is simply wrong, not an error.
    return hmac.compare_digest(expected.encode(), signature.encode())
