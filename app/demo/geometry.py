"""The demo's drawn boundaries: quadrilaterals tiled into grids, and lattices of hand-drawn-looking
cells that share their corners, so neighbouring communities tile without gap or overlap."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from typing import Any

LngLat = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Quad:
    """A convex quadrilateral, corners counter-clockwise from the south-west."""

    sw: LngLat
    se: LngLat
    ne: LngLat
    nw: LngLat

    def point(self, u: float, v: float) -> LngLat:
        """The bilinear point at fraction u from west to east and v from south to north."""
        south = _lerp(self.sw, self.se, u)
        north = _lerp(self.nw, self.ne, u)
        lng, lat = _lerp(south, north, v)
        return (round(lng, 6), round(lat, 6))

    def split(self, columns: int, rows: int) -> list[Quad]:
        """Tile the quad: lines of constant u or v are straight, so the pieces share edges."""
        return [
            Quad(
                sw=self.point(col / columns, row / rows),
                se=self.point((col + 1) / columns, row / rows),
                ne=self.point((col + 1) / columns, (row + 1) / rows),
                nw=self.point(col / columns, (row + 1) / rows),
            )
            for row in range(rows)
            for col in range(columns)
        ]

    def geojson(self) -> dict[str, Any]:
        # RFC 7946: the exterior ring runs counter-clockwise and ends where it starts.
        ring = [self.sw, self.se, self.ne, self.nw, self.sw]
        return {"type": "Polygon", "coordinates": [[[lng, lat] for lng, lat in ring]]}


def _lerp(a: LngLat, b: LngLat, t: float) -> LngLat:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


@dataclass(frozen=True, slots=True)
class Lattice:
    """Cells between meridians and parallels with every corner nudged a little, so the cells
    look drawn by hand; neighbours share their corners, so they tile without gap or overlap."""

    key: str
    lngs: tuple[float, ...]  # west to east
    lats: tuple[float, ...]  # south to north

    def cell(self, column: int, row: int) -> Quad:
        return Quad(
            sw=self._corner(column, row),
            se=self._corner(column + 1, row),
            ne=self._corner(column + 1, row + 1),
            nw=self._corner(column, row + 1),
        )

    def _corner(self, column: int, row: int) -> LngLat:
        # Within a tenth of the narrowest cell every cell stays convex.
        reach = 0.1 * min(_smallest_step(self.lngs), _smallest_step(self.lats))
        digest = hashlib.sha256(f"{self.key}:{column}:{row}".encode()).digest()
        nudge_lng = (digest[0] / 255 * 2 - 1) * reach
        nudge_lat = (digest[1] / 255 * 2 - 1) * reach
        return (round(self.lngs[column] + nudge_lng, 6), round(self.lats[row] + nudge_lat, 6))


def _smallest_step(edges: tuple[float, ...]) -> float:
    return min(b - a for a, b in itertools.pairwise(edges))
