"""Row identifiers: UUIDv7 (RFC 9562), time-ordered.

A random UUIDv4 scatters consecutive rows across every page of a primary-key index (and, once
tables are partitioned by time, across every partition); a UUIDv7 starts with the Unix time in
milliseconds, so rows written together sit together and an index grows at its right edge. The
12 bits after the version count up within a millisecond, so the ids one process makes are
strictly increasing; the last 62 bits are random, so ids made by several processes in the same
millisecond do not collide."""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

_VERSION = 0x7
_VARIANT = 0b10
_MAX_SEQUENCE = 0xFFF
_lock = threading.Lock()
_last_ms = 0
_sequence = 0


def new_id() -> uuid.UUID:
    """A fresh UUIDv7, greater than every one this process made before."""
    global _last_ms, _sequence
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            # A random start within the lower half leaves room to count up in this millisecond.
            _sequence = int.from_bytes(os.urandom(2), "big") & (_MAX_SEQUENCE >> 1)
        else:
            # The same millisecond (or a clock stepped back): count on from the last id.
            ms = _last_ms
            _sequence += 1
            if _sequence > _MAX_SEQUENCE:
                ms, _sequence = ms + 1, 0
        _last_ms = ms
        sequence = _sequence
    random_bits = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms << 80) | (_VERSION << 76) | (sequence << 64) | (_VARIANT << 62) | random_bits
    return uuid.UUID(int=value)


def id_time_ms(value: uuid.UUID) -> int:
    """The Unix time in milliseconds a UUIDv7 was made at."""
    return value.int >> 80


def id_at(moment: datetime) -> uuid.UUID:
    """A UUIDv7 of ``moment`` (to the millisecond), random in the rest: the id of a row whose
    time is given (a case filed at ``moment``), so that it sorts and partitions with the rows
    made then."""
    ms = _ms(moment)
    random_bits = int.from_bytes(os.urandom(10), "big")
    sequence = random_bits >> 68 & _MAX_SEQUENCE
    rest = random_bits & ((1 << 62) - 1)
    return uuid.UUID(int=(ms << 80) | (_VERSION << 76) | (sequence << 64) | (_VARIANT << 62) | rest)


def id_floor(moment: datetime, *, milliseconds_later: int = 0) -> uuid.UUID:
    """The least UUIDv7 of ``moment``'s millisecond (or of the one ``milliseconds_later``):
    every id made then or later is greater or equal, every one made earlier is less (a range
    bound on an id column). Moments outside what a UUIDv7 can hold (before 1970, after the
    year 10889) give the least or the greatest bound."""
    ms = min(max(_ms(moment) + milliseconds_later, 0), _MAX_MS + 1)
    return uuid.UUID(int=min(ms << 80, _MAX_UUID))


def id_moment(value: uuid.UUID) -> datetime:
    """The moment (to the millisecond, UTC) a UUIDv7 was made at."""
    return _EPOCH + timedelta(milliseconds=id_time_ms(value))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_MS = (1 << 48) - 1
_MAX_UUID = (1 << 128) - 1


def _ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given for an id")
    return (moment - _EPOCH) // timedelta(milliseconds=1)
