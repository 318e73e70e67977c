"""Importing community boundaries from a GeoJSON FeatureCollection, all or nothing.

Boundaries usually arrive as one file per township or banner, drawn in a GIS tool. A file with
one bad feature is a file to fix and send again, so every feature is checked first and the
errors name each bad feature (by index and name) with its reason; nothing is written unless
all are good. A community that already exists (same name, same region) gets the new boundary.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from shapely import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import FieldError, ValidationFailed
from app.core.geo import InvalidGeometry, boundary_centroid, parse_boundary
from app.models import Community, Region
from app.models.enums import CommunityKind, RegionLevel
from app.org.communities.boundaries import (
    BOUNDARY,
    grids_outside,
    store_boundary,
    stored_boundary,
)
from app.org.communities.schemas import CommunityImport, ImportResult
from app.org.exceptions import NameTaken
from app.org.locator_versions import record_locator_change
from app.org.persistence import flush_or_raise
from app.org.schemas import NAME_MAX, Ref

# The first of these present in a feature's properties says which region it belongs to.
REGION_KEYS = ("region_id", "region_code", "region_name")
_REGION_COLUMNS = {"region_id": Region.id, "region_code": Region.code, "region_name": Region.name}
_OPTIONAL_TEXT_MAX = {"address": 200, "phone": 40}
_KINDS = {kind.value for kind in CommunityKind}


@dataclass(frozen=True, slots=True)
class _Feature:
    """A feature whose own content is valid; its region is still to be found."""

    index: int
    name: str
    region_key: str
    region_value: str
    properties: dict[str, Any]  # the optional ones given: kind, address, phone
    geojson: dict[str, Any]
    geometry: Polygon | MultiPolygon
    center: tuple[float, float]


class _Errors:
    def __init__(self) -> None:
        self.items: list[tuple[int, FieldError]] = []

    def add(self, index: int, name: str | None, path: Iterable[str | int], reason: str) -> None:
        label = f"feature {index} ({name})" if name else f"feature {index}"
        loc: list[str | int] = ["body", "features", index, *path]
        self.items.append((index, FieldError(loc=loc, msg=f"{label}: {reason}")))


def _check_feature(index: int, feature: Mapping[str, Any], errors: _Errors) -> _Feature | None:
    """Everything about a feature that needs no database; runs in a worker thread."""
    before = len(errors.items)
    if feature.get("type") != "Feature":
        errors.add(index, None, ["type"], f"type must be 'Feature', got {feature.get('type')!r}")
    properties = feature.get("properties")
    if not isinstance(properties, dict):
        errors.add(index, None, ["properties"], "properties must be an object with a name")
        properties = {}

    name = _check_name(index, properties, errors)
    label = name or None
    region_key, region_value = _check_region(index, label, properties, errors)
    optional = _check_optional(index, label, properties, errors)

    geojson = feature.get("geometry")
    stored: dict[str, Any] | None = None
    geometry: Polygon | MultiPolygon | None = None
    if not isinstance(geojson, dict):
        errors.add(index, label, ["geometry"], "a Polygon or MultiPolygon geometry is required")
    else:
        # The same two checks as a boundary sent to the communities' endpoints: the models'
        # (with the error's place in the geometry), then the parser's.
        try:
            stored = stored_boundary(BOUNDARY.validate_python(geojson))
        except ValidationError as exc:
            # The first mistake only: the others mostly repeat it (a position that fits neither
            # a 2D nor a 3D one is reported for each), and a feature is named once per reason.
            first = exc.errors()[0]
            errors.add(index, label, ["geometry", *first["loc"]], first["msg"])
        else:
            try:
                geometry = parse_boundary(stored)
            except InvalidGeometry as exc:
                errors.add(index, label, ["geometry"], str(exc))

    if len(errors.items) > before or stored is None or geometry is None or region_key is None:
        return None
    return _Feature(
        index=index,
        name=name,
        region_key=region_key,
        region_value=region_value,
        properties=optional,
        geojson=stored,
        geometry=geometry,
        center=boundary_centroid(geometry),
    )


def _check_name(index: int, properties: Mapping[str, Any], errors: _Errors) -> str:
    """The feature's name, trimmed ("" when it has none)."""
    raw_name = properties.get("name")
    name = raw_name.strip() if isinstance(raw_name, str) else ""
    if not name:
        errors.add(index, None, ["properties", "name"], "name is required")
    elif len(name) > NAME_MAX:
        errors.add(index, name, ["properties", "name"], f"name is longer than {NAME_MAX}")
    return name


def _check_region(
    index: int, label: str | None, properties: Mapping[str, Any], errors: _Errors
) -> tuple[str | None, str]:
    """Which of REGION_KEYS names the feature's region, and its value."""
    region_key = next((k for k in REGION_KEYS if properties.get(k) not in (None, "")), None)
    region_value = str(properties[region_key]).strip() if region_key else ""
    if region_key is None:
        errors.add(
            index, label, ["properties"], "one of region_id, region_code or region_name is required"
        )
    elif region_key == "region_id":
        try:
            region_value = str(uuid.UUID(region_value))  # the spelling ids are compared in
        except ValueError:
            errors.add(index, label, ["properties", "region_id"], f"{region_value!r} is not an id")
    return region_key, region_value


def _check_optional(
    index: int, label: str | None, properties: Mapping[str, Any], errors: _Errors
) -> dict[str, Any]:
    """The optional properties given (kind, address, phone), those that are valid."""
    optional: dict[str, Any] = {}
    kind = properties.get("kind")
    if kind is not None:
        if isinstance(kind, str) and kind in _KINDS:
            optional["kind"] = CommunityKind(kind)
        else:
            allowed = ", ".join(sorted(_KINDS))
            errors.add(index, label, ["properties", "kind"], f"kind must be one of {allowed}")
    for key, limit in _OPTIONAL_TEXT_MAX.items():
        value = properties.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > limit:
            errors.add(
                index,
                label,
                ["properties", key],
                f"{key} must be text of at most {limit} characters",
            )
        else:
            optional[key] = value
    return optional


def _check_features(features: list[dict[str, Any]]) -> tuple[list[_Feature], _Errors]:
    errors = _Errors()
    checked = [_check_feature(i, feature, errors) for i, feature in enumerate(features)]
    return [f for f in checked if f is not None], errors


async def _find_regions(
    session: AsyncSession, features: list[_Feature]
) -> dict[tuple[str, str], Region | str]:
    """Each region reference of the file → its township, or why there is none."""
    wanted: dict[str, set[str]] = {key: set() for key in REGION_KEYS}
    for feature in features:
        wanted[feature.region_key].add(feature.region_value)
    found: dict[tuple[str, str], list[Region]] = {}
    for key, values in wanted.items():
        if not values:
            continue
        column = _REGION_COLUMNS[key]
        lookup = [uuid.UUID(v) for v in values] if key == "region_id" else list(values)
        for region in await session.scalars(select(Region).where(column.in_(lookup))):
            found.setdefault((key, _reference(region, key)), []).append(region)
    return {
        (key, value): _township(key, value, found.get((key, value), []))
        for key, values in wanted.items()
        for value in values
    }


def _reference(region: Region, key: str) -> str:
    """How a feature refers to ``region`` with the property ``key``."""
    if key == "region_id":
        return str(region.id)
    return (region.code if key == "region_code" else region.name) or ""


def _township(key: str, value: str, regions: list[Region]) -> Region | str:
    if not regions:
        return f"no region with {key.removeprefix('region_')} {value!r}"
    townships = [r for r in regions if r.level == RegionLevel.township]
    if not townships:
        region = regions[0]
        return f"{region.name} is a {region.level}: communities belong to a township (苏木镇/街道)"
    if len(townships) > 1:
        return f"several townships are named {value!r}: give region_code or region_id instead"
    return townships[0]


async def import_communities(
    session: AsyncSession,
    collection: CommunityImport,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Validate every feature, then create or update them all; flushes, the caller commits.
    ``on_progress(done, total)`` is told as features are written (for the CLI's progress bar).

    Raises ValidationFailed listing every bad feature, having written nothing."""
    if not collection.features:
        raise ValidationFailed.at(["body", "features"], "the FeatureCollection has no features")
    # Validating thousands of polygons takes a while: keep the event loop serving others.
    features, errors = await asyncio.to_thread(_check_features, collection.features)

    regions = await _find_regions(session, features)
    placed: list[tuple[_Feature, Region]] = []
    first_of: dict[tuple[uuid.UUID, str], int] = {}
    for feature in features:
        region = regions[(feature.region_key, feature.region_value)]
        if isinstance(region, str):
            errors.add(feature.index, feature.name, ["properties", feature.region_key], region)
            continue
        key = (region.id, feature.name)
        if key in first_of:
            errors.add(
                feature.index,
                feature.name,
                ["properties", "name"],
                f"the same name in the same region as feature {first_of[key]}",
            )
            continue
        first_of[key] = feature.index
        placed.append((feature, region))

    existing = await _existing(session, placed)
    new_boundaries: dict[uuid.UUID, BaseGeometry] = {}
    for feature, region in placed:
        if (community := existing.get((region.id, feature.name))) is not None:
            new_boundaries[community.id] = feature.geometry
    outside = await grids_outside(session, new_boundaries)
    for feature, region in placed:
        community = existing.get((region.id, feature.name))
        if community is not None and community.id in outside:
            errors.add(
                feature.index,
                feature.name,
                ["geometry"],
                f"the grids {', '.join(outside[community.id])} would lie outside the new "
                "boundary; change or delete them first",
            )

    if errors.items:
        bad = len({index for index, _ in errors.items})
        raise ValidationFailed(
            f"{bad} of {len(collection.features)} features are invalid; nothing was imported",
            errors=[error for _, error in sorted(errors.items, key=lambda item: item[0])],
        )
    return await _write(session, placed, existing, on_progress)


async def _existing(
    session: AsyncSession, placed: list[tuple[_Feature, Region]]
) -> dict[tuple[uuid.UUID, str], Community]:
    if not placed:
        return {}
    region_ids = {region.id for _, region in placed}
    names = {feature.name for feature, _ in placed}
    rows = await session.scalars(
        select(Community).where(Community.region_id.in_(region_ids), Community.name.in_(names))
    )
    return {(c.region_id, c.name): c for c in rows}


async def _write(
    session: AsyncSession,
    placed: list[tuple[_Feature, Region]],
    existing: dict[tuple[uuid.UUID, str], Community],
    on_progress: Callable[[int, int], None] | None,
) -> ImportResult:
    communities: list[Community] = []
    created = 0
    for done, (feature, region) in enumerate(placed, start=1):
        community = existing.get((region.id, feature.name))
        if community is None:
            community = Community(name=feature.name, region_id=region.id)
            session.add(community)
            created += 1
        store_boundary(community, feature.geojson, feature.geometry)
        community.center_lat, community.center_lng = feature.center
        for key, value in feature.properties.items():
            setattr(community, key, value)
        communities.append(community)
        if on_progress is not None:
            on_progress(done, len(placed))
    await flush_or_raise(
        session, NameTaken("Another request created one of these communities meanwhile")
    )
    await record_locator_change(session, [c.id for c in communities])
    return ImportResult(
        created=created,
        updated=len(communities) - created,
        communities=[Ref(id=c.id, name=c.name) for c in communities],
    )
