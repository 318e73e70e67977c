"""What a photo's EXIF says about where, when and which way up it was taken.

EXIF comes from the phone, from editing apps and from whoever crafted the upload, so every field
is optional and may be malformed: anything unreadable is reported as absent, never raised.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from PIL import ExifTags, Image

# A time without an offset was most likely taken by a courier in China; China has one time zone
# and no daylight saving time, so a fixed offset is exact.
CHINA_TIME = timezone(timedelta(hours=8), "China")

_DATETIME = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")
_UPRIGHT = 1


class GpsPosition(NamedTuple):
    lat: float
    lng: float


@dataclass(frozen=True, slots=True)
class PhotoMetadata:
    orientation: int
    gps: GpsPosition | None
    taken_at: datetime | None


def read_metadata(image: Image.Image) -> PhotoMetadata:
    try:
        exif = image.getexif()
        gps_ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
        exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
    except Exception:
        # Pillow's TIFF parser raises many unrelated types on broken EXIF; none of them may
        # refuse an otherwise good photo.
        return PhotoMetadata(orientation=_UPRIGHT, gps=None, taken_at=None)
    return PhotoMetadata(
        orientation=_orientation(exif.get(ExifTags.Base.Orientation)),
        gps=_gps_position(gps_ifd),
        taken_at=_taken_at(exif_ifd),
    )


def _orientation(value: Any) -> int:
    return value if isinstance(value, int) and 1 <= value <= 8 else _UPRIGHT


def _gps_position(gps: Mapping[int, Any]) -> GpsPosition | None:
    # "V" (void) means the receiver had no fix and the numbers are stale or made up.
    if _text(gps.get(ExifTags.GPS.GPSStatus)) == "V":
        return None
    lat = _signed_degrees(
        gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "N", "S"
    )
    lng = _signed_degrees(
        gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "E", "W"
    )
    if lat is None or lng is None or abs(lat) > 90 or abs(lng) > 180:
        return None
    # Cameras without a fix often write zeros rather than leaving the tags out.
    if lat == 0 and lng == 0:
        return None
    return GpsPosition(lat=lat, lng=lng)


def _signed_degrees(value: Any, ref: Any, positive: str, negative: str) -> float | None:
    degrees = _sexagesimal(value)
    if degrees is None:
        return None
    # A missing reference is read as north/east: some writers omit it, and all of China is.
    direction = _text(ref) or positive
    if direction == positive:
        return degrees
    if direction == negative:
        return -degrees
    return None


def _sexagesimal(value: Any) -> float | None:
    """Degrees from EXIF's (degrees, minutes, seconds) rationals; some writers put decimal
    degrees in the first value and leave the others out or zero."""
    parts = value if isinstance(value, tuple) else (value,)
    if not 1 <= len(parts) <= 3:
        return None
    try:
        numbers = [float(part) for part in parts]
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    # Pillow reads a rational with a zero denominator as NaN.
    if not all(math.isfinite(number) and number >= 0 for number in numbers):
        return None
    return sum(number / 60.0**index for index, number in enumerate(numbers))


def _taken_at(exif_ifd: Mapping[int, Any]) -> datetime | None:
    match = _DATETIME.fullmatch(_text(exif_ifd.get(ExifTags.Base.DateTimeOriginal)))
    if match is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(group) for group in match.groups())
        naive = datetime(year, month, day, hour, minute, second)
    except ValueError:  # "0000:00:00 00:00:00" and other placeholders
        return None
    subseconds = _text(exif_ifd.get(ExifTags.Base.SubsecTimeOriginal))
    if subseconds.isdigit():
        naive = naive.replace(microsecond=int(subseconds[:6].ljust(6, "0")))
    return naive.replace(tzinfo=_utc_offset(exif_ifd.get(ExifTags.Base.OffsetTimeOriginal)))


def _utc_offset(value: Any) -> timezone:
    match = _OFFSET.fullmatch(_text(value))
    if match is None:
        return CHINA_TIME
    sign, hours, minutes = match.groups()
    offset = timedelta(hours=int(hours), minutes=int(minutes))
    if offset >= timedelta(hours=24):
        return CHINA_TIME
    return timezone(-offset if sign == "-" else offset)


def _text(value: Any) -> str:
    """An EXIF ASCII value as text; writers pad with NULs and spaces, and Pillow hands out
    bytes for values it could not decode."""
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    if not isinstance(value, str):
        return ""
    return value.strip("\x00 ").upper()
