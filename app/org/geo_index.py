"""Which community, or which grid inside a community, covers a point.

Built once from the boundaries in the database and queried for every report, so a lookup is a
handful of vectorised shapely calls on the few candidates an STRtree returns, never a Python
loop over all areas. Coordinates are WGS-84 ``(lat, lng)``; convert GCJ-02/BD-09 first.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from app.core.geo import EARTH_MEAN_RADIUS_M

IdT = TypeVar("IdT")

LocateMethod = Literal["boundary", "nearest"]

# An area as loaded from the database: its id, its boundary if one was drawn, and its centre
# ``(lat, lng)`` for areas known only by an address.
AreaEntry = tuple[IdT, BaseGeometry | None, tuple[float, float] | None]

DEFAULT_MAX_DISTANCE_M = 1000.0

_METRES_PER_DEGREE_LAT = EARTH_MEAN_RADIUS_M * math.pi / 180.0
_LOCAL_ORIGIN = shapely.Point(0.0, 0.0)


@dataclass(frozen=True, slots=True)
class AreaMatch(Generic[IdT]):
    area_id: IdT
    method: LocateMethod
    distance_m: float


class AreaLocator(Generic[IdT]):
    """Finds the area covering a point, or failing that the nearest one within a distance.

    Areas without a boundary and without a centre cannot be located and are left out.
    """

    def __init__(self, areas: Iterable[AreaEntry[IdT]]) -> None:
        boundary_ids: list[IdT] = []
        boundaries: list[BaseGeometry] = []
        center_ids: list[IdT] = []
        centers: list[BaseGeometry] = []
        for area_id, boundary, center in areas:
            if boundary is not None and not boundary.is_empty:
                boundary_ids.append(area_id)
                boundaries.append(boundary)
            elif center is not None:
                center_lat, center_lng = center
                center_ids.append(area_id)
                centers.append(shapely.Point(center_lng, center_lat))
        # Boundaries first, so that one index addresses the same area in both trees.
        self._ids = boundary_ids + center_ids
        self._shapes = np.array(boundaries + centers, dtype=object)
        boundary_shapes = self._shapes[: len(boundaries)]
        # Areas only compete when they overlap, hence lie at the same latitude, so square degrees
        # order them as well as square metres would.
        self._boundary_areas = shapely.area(boundary_shapes)
        # The STRtree's own predicates ignore preparation; intersects_xy on prepared boundaries
        # stays fast on boundaries with thousands of vertices.
        shapely.prepare(self._shapes)
        self._boundary_tree = shapely.STRtree(boundary_shapes)
        self._tree = shapely.STRtree(self._shapes)
        # GEOS builds a tree, and a prepared polygon's point index, on first use, and that step
        # is not thread-safe (libgeos/geos#825). Doing it here leaves locate() read-only, so
        # worker threads can share one locator.
        inside = shapely.point_on_surface(boundary_shapes)
        shapely.intersects_xy(boundary_shapes, shapely.get_x(inside), shapely.get_y(inside))
        self._boundary_tree.query(inside)
        self._tree.query(self._shapes[:1])

    def locate(
        self, lat: float, lng: float, max_distance_m: float = DEFAULT_MAX_DISTANCE_M
    ) -> AreaMatch[IdT] | None:
        """The area whose boundary covers the point (edges included; the smallest one if
        boundaries are nested), else the nearest boundary or centre within ``max_distance_m``."""
        # Queries take one-element arrays: for a scalar geometry, shapely's wrapping costs several
        # times the query itself.
        _, candidates = self._boundary_tree.query(shapely.points(np.array([[lng, lat]])))
        if candidates.size:
            # intersects, not contains: a point on a shared edge belongs to a community rather
            # than to none.
            covering = candidates[shapely.intersects_xy(self._shapes[candidates], lng, lat)]
            if covering.size == 1:
                return AreaMatch(self._ids[covering[0]], "boundary", 0.0)
            if covering.size > 1:
                smallest = covering[np.argmin(self._boundary_areas[covering])]
                return AreaMatch(self._ids[smallest], "boundary", 0.0)
        return self._nearest(lat, lng, max_distance_m)

    def _nearest(self, lat: float, lng: float, max_distance_m: float) -> AreaMatch[IdT] | None:
        metres_per_degree_lng = _METRES_PER_DEGREE_LAT * math.cos(math.radians(lat))
        half_height = max_distance_m / _METRES_PER_DEGREE_LAT
        half_width = max_distance_m / metres_per_degree_lng
        search_box = shapely.box(
            lng - half_width, lat - half_height, lng + half_width, lat + half_height
        )
        _, candidates = self._tree.query(np.array([search_box]))
        if not candidates.size:
            return None

        # A degree of longitude is shorter than a degree of latitude away from the equator, so
        # distances in degrees would pick the wrong neighbour and misstate how far it is. Measure
        # in metres on a plane tangent at the query point: at China's latitudes it agrees with
        # the great-circle distance to 0.01% within 1 km and to 0.05% within 10 km.
        origin = np.array([lng, lat])
        scale = np.array([metres_per_degree_lng, _METRES_PER_DEGREE_LAT])
        local_shapes = shapely.transform(
            self._shapes[candidates], lambda coords: (coords - origin) * scale
        )
        distances_m = shapely.distance(local_shapes, _LOCAL_ORIGIN)
        nearest = int(distances_m.argmin())
        distance_m = float(distances_m[nearest])
        if distance_m > max_distance_m:
            return None
        return AreaMatch(self._ids[candidates[nearest]], "nearest", distance_m)


GridLocator = AreaLocator[uuid.UUID]
"""Locates a grid among the grids of one community; grids may lack a boundary too."""


@dataclass(frozen=True, slots=True)
class LocateResult:
    community_id: uuid.UUID
    method: LocateMethod
    distance_m: float


class CommunityLocator:
    """Which community a report belongs to; see :meth:`AreaLocator.locate` for the rule."""

    def __init__(self, communities: Iterable[AreaEntry[uuid.UUID]]) -> None:
        self._areas = AreaLocator[uuid.UUID](communities)

    def locate(
        self, lat: float, lng: float, max_distance_m: float = DEFAULT_MAX_DISTANCE_M
    ) -> LocateResult | None:
        match = self._areas.locate(lat, lng, max_distance_m)
        if match is None:
            return None
        return LocateResult(match.area_id, match.method, match.distance_m)
