"""Coordinates from Chinese map SDKs, distances on the Earth, and boundaries given as GeoJSON.

Phones report positions in the system of the map SDK they embed: AMap and Tencent use GCJ-02,
Baidu uses BD-09, bare GPS is WGS-84. Everything is stored in WGS-84, so positions are converted
on the way in. All functions take and return ``(lat, lng)`` in degrees; GeoJSON and shapely use
``(lng, lat)`` order, and the conversion between the two happens only in this module and in the
locator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from shapely import MultiPolygon, Polygon
from shapely.validation import explain_validity


class CoordSystem(StrEnum):
    wgs84 = "wgs84"
    gcj02 = "gcj02"
    bd09 = "bd09"


class InvalidCoordinates(ValueError):
    """A latitude/longitude pair that is not a position on the Earth."""


class InvalidGeometry(ValueError):
    """A GeoJSON boundary that cannot be used; the message tells the person who drew it why."""


# GCJ-02 is defined on the Krasovsky 1940 ellipsoid, not on WGS-84's.
_KRASOVSKY_SEMI_MAJOR_AXIS_M = 6378245.0
_KRASOVSKY_ECCENTRICITY_SQUARED = 0.00669342162296594323

# The published algorithm leaves positions outside this box untouched.
_CHINA_MIN_LNG, _CHINA_MAX_LNG = 72.004, 137.8347
_CHINA_MIN_LAT, _CHINA_MAX_LAT = 0.8293, 55.8271

_BD09_X_PI = math.pi * 3000.0 / 180.0
_BD09_LNG_OFFSET = 0.0065
_BD09_LAT_OFFSET = 0.006

# About 0.01 mm. Near the edge of the China box the GCJ-02 shift switches off, so a solution may
# not exist there; the iteration cap keeps that case finite.
_INVERSE_TOLERANCE_DEG = 1e-10
_INVERSE_MAX_ITERATIONS = 20

EARTH_MEAN_RADIUS_M = 6_371_008.8


def is_outside_china(lat: float, lng: float) -> bool:
    return not (_CHINA_MIN_LNG <= lng <= _CHINA_MAX_LNG and _CHINA_MIN_LAT <= lat <= _CHINA_MAX_LAT)


def _gcj02_lat_offset_raw(x: float, y: float) -> float:
    offset = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    offset += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    offset += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    offset += (
        (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )
    return offset


def _gcj02_lng_offset_raw(x: float, y: float) -> float:
    offset = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    offset += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    offset += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    offset += (
        (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    return offset


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    if is_outside_china(lat, lng):
        return lat, lng
    # The raw offsets are polynomials in degrees relative to a point in central China.
    x, y = lng - 105.0, lat - 35.0
    lat_offset = _gcj02_lat_offset_raw(x, y)
    lng_offset = _gcj02_lng_offset_raw(x, y)
    rad_lat = math.radians(lat)
    w = 1.0 - _KRASOVSKY_ECCENTRICITY_SQUARED * math.sin(rad_lat) ** 2
    sqrt_w = math.sqrt(w)
    meridian_radius = (
        _KRASOVSKY_SEMI_MAJOR_AXIS_M * (1.0 - _KRASOVSKY_ECCENTRICITY_SQUARED) / (w * sqrt_w)
    )
    parallel_radius = _KRASOVSKY_SEMI_MAJOR_AXIS_M / sqrt_w * math.cos(rad_lat)
    lat_offset = (lat_offset * 180.0) / (meridian_radius * math.pi)
    lng_offset = (lng_offset * 180.0) / (parallel_radius * math.pi)
    return lat + lat_offset, lng + lng_offset


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """Invert GCJ-02 exactly; the common one-step inverse is off by up to 5 m."""
    if is_outside_china(lat, lng):
        return lat, lng
    return _invert(wgs84_to_gcj02, lat, lng)


def gcj02_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    radius = math.hypot(lng, lat) + 0.00002 * math.sin(lat * _BD09_X_PI)
    angle = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _BD09_X_PI)
    return (
        radius * math.sin(angle) + _BD09_LAT_OFFSET,
        radius * math.cos(angle) + _BD09_LNG_OFFSET,
    )


def bd09_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """Invert BD-09 exactly; Baidu's published one-step inverse is off by up to 0.25 m."""
    return _invert(gcj02_to_bd09, lat, lng)


def _invert(
    forward: Callable[[float, float], tuple[float, float]], lat: float, lng: float
) -> tuple[float, float]:
    # Both shifts change by only a few thousandths of a degree per degree moved, so stepping back
    # by the residual is a contraction that gains two to three digits per round.
    source_lat, source_lng = lat, lng
    for _ in range(_INVERSE_MAX_ITERATIONS):
        shifted_lat, shifted_lng = forward(source_lat, source_lng)
        error_lat, error_lng = shifted_lat - lat, shifted_lng - lng
        source_lat -= error_lat
        source_lng -= error_lng
        if max(abs(error_lat), abs(error_lng)) < _INVERSE_TOLERANCE_DEG:
            break
    return source_lat, source_lng


def wgs84_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lng))


def bd09_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lng))


def to_wgs84(lat: float, lng: float, system: CoordSystem) -> tuple[float, float]:
    match system:
        case CoordSystem.wgs84:
            return lat, lng
        case CoordSystem.gcj02:
            return gcj02_to_wgs84(lat, lng)
        case CoordSystem.bd09:
            return bd09_to_wgs84(lat, lng)


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance on a sphere of mean radius; within 0.5% of the ellipsoidal distance."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_chord = (
        math.sin((phi2 - phi1) / 2.0) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lng2 - lng1) / 2.0) ** 2
    )
    return 2.0 * EARTH_MEAN_RADIUS_M * math.asin(min(1.0, math.sqrt(half_chord)))


def validate_coordinates(lat: float, lng: float) -> None:
    if not math.isfinite(lat):
        raise InvalidCoordinates(f"latitude must be a finite number, got {lat}")
    if not math.isfinite(lng):
        raise InvalidCoordinates(f"longitude must be a finite number, got {lng}")
    if not -90.0 <= lat <= 90.0:
        raise InvalidCoordinates(f"latitude {lat} is out of range [-90, 90]")
    if not -180.0 <= lng <= 180.0:
        raise InvalidCoordinates(f"longitude {lng} is out of range [-180, 180]")


_BOUNDARY_TYPES = ("Polygon", "MultiPolygon")
_MIN_RING_POSITIONS = 4

_Position = tuple[float, float]
_Ring = list[_Position]


def parse_boundary(obj: Mapping[str, Any]) -> Polygon | MultiPolygon:
    """Turn a GeoJSON Polygon or MultiPolygon geometry (not a Feature) into a valid shapely one."""
    if not isinstance(obj, Mapping):
        raise InvalidGeometry(f"a GeoJSON geometry must be an object, got {type(obj).__name__}")
    if "type" not in obj:
        raise InvalidGeometry("missing type: expected 'Polygon' or 'MultiPolygon'")
    geometry_type = obj["type"]
    if geometry_type not in _BOUNDARY_TYPES:
        raise InvalidGeometry(f"wrong type {geometry_type!r}: expected 'Polygon' or 'MultiPolygon'")
    if "coordinates" not in obj:
        raise InvalidGeometry(f"missing coordinates in {geometry_type}")
    coordinates = obj["coordinates"]

    geometry: Polygon | MultiPolygon
    if geometry_type == "Polygon":
        shell, holes = _parse_polygon(coordinates, "coordinates")
        geometry = Polygon(shell, holes)
    else:
        polygons = _expect_list(coordinates, "coordinates", "a list of polygons")
        if not polygons:
            raise InvalidGeometry("empty geometry: MultiPolygon has no polygons")
        geometry = MultiPolygon(
            [_parse_polygon(polygon, f"coordinates[{i}]") for i, polygon in enumerate(polygons)]
        )

    if not geometry.is_valid:
        raise InvalidGeometry(f"geometry not valid: {explain_validity(geometry)}")
    return geometry


def boundary_centroid(geom: Polygon | MultiPolygon) -> tuple[float, float]:
    """A point guaranteed inside the boundary, as ``(lat, lng)``.

    The true centroid of a crescent- or L-shaped community can fall outside it.
    """
    point = geom.representative_point()
    return point.y, point.x


def _expect_list(value: object, path: str, expected: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise InvalidGeometry(
            f"malformed coordinates at {path}: expected {expected}, got {value!r} (wrong nesting?)"
        )
    return list(value)


def _parse_polygon(value: object, path: str) -> tuple[_Ring, list[_Ring]]:
    rings = _expect_list(value, path, "a list of rings")
    if not rings:
        raise InvalidGeometry(f"empty geometry: polygon at {path} has no rings")
    parsed = [_parse_ring(ring, f"{path}[{i}]") for i, ring in enumerate(rings)]
    return parsed[0], parsed[1:]


def _parse_ring(value: object, path: str) -> _Ring:
    positions = [
        _parse_position(position, f"{path}[{i}]")
        for i, position in enumerate(_expect_list(value, path, "a list of positions"))
    ]
    if len(positions) < _MIN_RING_POSITIONS:
        raise InvalidGeometry(
            f"ring at {path} has fewer than {_MIN_RING_POSITIONS} positions ({len(positions)})"
        )
    if positions[0] != positions[-1]:
        raise InvalidGeometry(
            f"ring at {path} is not closed: first position {list(positions[0])} "
            f"differs from last {list(positions[-1])}"
        )
    return positions


def _parse_position(value: object, path: str) -> _Position:
    # GeoJSON allows an altitude after longitude and latitude; boundaries are flat, so it is
    # ignored.
    numbers = _expect_list(value, path, "a position [longitude, latitude]")
    if len(numbers) < 2:
        raise InvalidGeometry(
            f"malformed coordinates at {path}: a position needs longitude and latitude, "
            f"got {numbers!r}"
        )
    parsed = [_parse_number(number, f"{path}[{i}]") for i, number in enumerate(numbers)]
    lng, lat = parsed[0], parsed[1]
    if not -180.0 <= lng <= 180.0:
        raise InvalidGeometry(f"longitude out of range at {path}: {lng} is not in [-180, 180]")
    if not -90.0 <= lat <= 90.0:
        raise InvalidGeometry(f"latitude out of range at {path}: {lat} is not in [-90, 90]")
    return lng, lat


def _parse_number(value: object, path: str) -> float:
    if isinstance(value, list | tuple):
        raise InvalidGeometry(
            f"malformed coordinates at {path}: expected a number, got a list (wrong nesting?)"
        )
    # bool is an int subclass, but `true` in a boundary is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidGeometry(f"non-numeric coordinate at {path}: {value!r}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise InvalidGeometry(f"non-finite coordinate at {path}: {value}")
    return number
