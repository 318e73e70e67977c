"""Open311's dates: W3C date-times that carry their zone, to the second (written in China time)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.core.workcalendar import CHINA_TZ
from app.open311.errors import Open311Error


def w3c(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(CHINA_TZ).replace(microsecond=0).isoformat()


def read_w3c(name: str, text: str | None) -> datetime | None:
    """A date-time parameter: absent or empty is None; one without a zone is refused (400)."""
    if text is None or not text.strip():
        return None
    # An unencoded "+" of an offset arrives as a space.
    value = text.strip().replace(" ", "+")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name}: not a W3C date-time ({text!r})") from None
    if moment.tzinfo is None:
        raise Open311Error(400, f"{name}: a date-time needs its zone (Z or ±hh:mm)")
    return moment
