"""The names a cancelled account leaves behind: a tombstone in its row, and the hash of the name
it had, which keeps that name from being taken again."""

from __future__ import annotations

import hashlib
import uuid

# Readable in every answer that names a person (a case's reporter, a timeline's actor).
CANCELLED_DISPLAY_NAME = "已注销用户"
# Not an argon2 hash: no password verifies against it.
UNUSABLE_PASSWORD_HASH = "!cancelled"


def tombstone_username(user_id: uuid.UUID) -> str:
    """Unique, and impossible to sign up with or create: ``#`` is outside the usernames
    people may choose."""
    return f"cancelled#{user_id.hex}"


def retired_username_hash(username: str) -> str:
    """The mark a cancelled account's former username leaves, compared in lower case so that
    ``Zhang.San`` cannot pass for ``zhang.san`` either. A plain hash rather than one keyed with
    the secret: the reservation must outlive a change of the secret key."""
    normalised = username.strip().lower()
    return hashlib.sha256(f"suishoupai retired username\n{normalised}".encode()).hexdigest()
