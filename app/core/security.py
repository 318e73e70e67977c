"""Password hashing (argon2id), access tokens (JWT), opaque secrets (refresh tokens, API keys)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.core.config import (
    DEFAULT_PASSWORD_HASH_MEMORY_KIB,
    DEFAULT_PASSWORD_HASH_TIME_COST,
    Settings,
)


class _PasswordHashing:
    """The process's argon2id parameters (SSP_PASSWORD_HASH_*), and a hash made with them to
    verify against when the username does not exist, so that a wrong username and a wrong
    password take the same time and cannot be told apart."""

    def __init__(self, time_cost: int, memory_kib: int) -> None:
        self.cost = (time_cost, memory_kib)
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        self.dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))


_hashing = _PasswordHashing(DEFAULT_PASSWORD_HASH_TIME_COST, DEFAULT_PASSWORD_HASH_MEMORY_KIB)


def use_password_hash_cost(settings: Settings) -> None:
    """Hash new passwords with the settings' cost (process-wide, like the hashes' format: a
    stored hash is always checked with the parameters written in it). Idempotent."""
    global _hashing
    cost = (settings.password_hash_time_cost, settings.password_hash_memory_kib)
    if _hashing.cost != cost:
        _hashing = _PasswordHashing(*cost)


API_KEY_PREFIX = "ssp_"
# The password hash of an account nobody signs in as (an integration's): no password matches it.
NO_PASSWORD = "!"


def hash_password(password: str) -> str:
    return _hashing.hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        hashing = _hashing
        return (
            hashing.hasher.verify(password_hash or hashing.dummy_hash, password)
            and password_hash is not None
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hashing.hasher.check_needs_rehash(password_hash)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class NewApiKey:
    prefix: str
    secret: str  # shown once, never stored
    key_hash: str


def new_api_key() -> NewApiKey:
    prefix = secrets.token_hex(4)
    secret = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return NewApiKey(prefix=prefix, secret=secret, key_hash=sha256_hex(secret))


def split_api_key(token: str) -> str | None:
    """The lookup prefix of something shaped like an API key, else None."""
    if not token.startswith(API_KEY_PREFIX):
        return None
    prefix, sep, _ = token[len(API_KEY_PREFIX) :].partition("_")
    return prefix if sep and len(prefix) == 8 else None


def api_key_matches(token: str, key_hash: str) -> bool:
    return hmac.compare_digest(sha256_hex(token), key_hash)


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: datetime


def create_access_token(
    settings: Settings, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime
) -> tuple[str, int]:
    lifetime = timedelta(minutes=settings.access_token_minutes)
    payload = {
        "sub": str(user_id),
        "sid": str(session_id),
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "typ": "access",
    }
    token = jwt.encode(payload, settings.secret_key, algorithm=settings.jwt_algorithm)
    return token, int(lifetime.total_seconds())


def create_key_token(settings: Settings, key_id: uuid.UUID, now: datetime) -> tuple[str, int]:
    """A dashboard key's stand-in for a page (the big screen): the key is sent once, in the
    body of the exchange, and the page's requests carry this instead. It lives as long as an
    access token, and stops working as soon as its key is revoked (the key is looked up at
    every request, as the key itself would be)."""
    lifetime = timedelta(minutes=settings.access_token_minutes)
    payload = {
        "sub": f"key:{key_id}",
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "typ": "key",
    }
    token = jwt.encode(payload, settings.secret_key, algorithm=settings.jwt_algorithm)
    return token, int(lifetime.total_seconds())


class InvalidToken(Exception):
    pass


def _decoded(settings: Settings, token: str, grace: timedelta | None = None) -> dict[str, object]:
    try:
        payload: dict[str, object] = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[settings.jwt_algorithm],
            options={"require": ["sub", "exp", "typ"]},
            leeway=grace or timedelta(0),
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("the token has expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("the token is not valid") from exc
    return payload


def key_token_id(
    settings: Settings, token: str, grace: timedelta | None = None
) -> uuid.UUID | None:
    """The dashboard key behind a key token; None for any other token (a person's access
    token); InvalidToken for a forged one, or one expired (more than ``grace`` ago)."""
    payload = _decoded(settings, token, grace)
    if payload["typ"] != "key":
        return None
    kind, _, key_id = str(payload["sub"]).partition(":")
    try:
        if kind != "key":
            raise ValueError(kind)
        return uuid.UUID(key_id)
    except ValueError as exc:
        raise InvalidToken("the token is not valid") from exc


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    try:
        payload = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[settings.jwt_algorithm],
            options={"require": ["sub", "sid", "exp", "typ"]},
        )
        if payload["typ"] != "access":
            raise InvalidToken("not an access token")
        return AccessClaims(
            user_id=uuid.UUID(payload["sub"]),
            session_id=uuid.UUID(payload["sid"]),
            expires_at=datetime.fromtimestamp(payload["exp"]).astimezone(),
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("the token has expired") from exc
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise InvalidToken("the token is not valid") from exc
