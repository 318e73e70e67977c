import math
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from app.core.geo import (
    CoordSystem,
    InvalidCoordinates,
    InvalidGeometry,
    bd09_to_gcj02,
    bd09_to_wgs84,
    boundary_centroid,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    haversine_m,
    parse_boundary,
    to_wgs84,
    validate_coordinates,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from app.org.geo_index import AreaMatch, CommunityLocator, GridLocator, LocateResult

# Published in the README of wandergis/coordtransform, the most widely used JavaScript
# implementation, for the input (lng 116.404, lat 39.915), near Tiananmen. Shown here as (lat, lng).
TIANANMEN = (39.915, 116.404)
PUBLISHED_WGS84_TO_GCJ02 = (39.91640428150164, 116.41024449916938)
PUBLISHED_GCJ02_TO_BD09 = (39.92133699351021, 116.41036949371029)
# These two come from one-step approximate inverses; ours are exact, so they differ by centimetres.
PUBLISHED_GCJ02_TO_WGS84 = (39.91359571849836, 116.39775550083061)
PUBLISHED_BD09_TO_GCJ02 = (39.90865673957631, 116.39762729119315)

METRES_PER_DEGREE_LAT = 6_371_008.8 * math.pi / 180.0

# The GCJ-02 shift stops at the edge of this box, so points within a shift's width of the edge
# may have no exact inverse; stay half a kilometre inside it.
CHINA_LAT = st.floats(min_value=0.8293 + 0.01, max_value=55.8271 - 0.01)
CHINA_LNG = st.floats(min_value=72.004 + 0.01, max_value=137.8347 - 0.01)


def assert_pair(actual: tuple[float, float], expected: tuple[float, float], tol: float) -> None:
    assert actual[0] == pytest.approx(expected[0], abs=tol)
    assert actual[1] == pytest.approx(expected[1], abs=tol)


def test_wgs84_to_gcj02_matches_published_pair() -> None:
    assert_pair(wgs84_to_gcj02(*TIANANMEN), PUBLISHED_WGS84_TO_GCJ02, 1e-9)


def test_gcj02_to_bd09_matches_published_pair() -> None:
    assert_pair(gcj02_to_bd09(*TIANANMEN), PUBLISHED_GCJ02_TO_BD09, 1e-9)


def test_gcj02_to_wgs84_is_near_published_pair_and_exactly_inverts_the_forward_shift() -> None:
    wgs = gcj02_to_wgs84(*TIANANMEN)

    assert_pair(wgs, PUBLISHED_GCJ02_TO_WGS84, 1e-5)
    assert_pair(wgs84_to_gcj02(*wgs), TIANANMEN, 1e-9)
    published_error = haversine_m(*wgs84_to_gcj02(*PUBLISHED_GCJ02_TO_WGS84), *TIANANMEN)
    assert published_error > 0.01


def test_bd09_to_gcj02_is_near_published_pair_and_exactly_inverts_the_forward_shift() -> None:
    gcj = bd09_to_gcj02(*TIANANMEN)

    assert_pair(gcj, PUBLISHED_BD09_TO_GCJ02, 1e-5)
    assert_pair(gcj02_to_bd09(*gcj), TIANANMEN, 1e-9)


def test_shift_is_hundreds_of_metres_inside_china() -> None:
    assert 100 < haversine_m(*TIANANMEN, *wgs84_to_gcj02(*TIANANMEN)) < 1000
    assert 100 < haversine_m(*TIANANMEN, *wgs84_to_bd09(*TIANANMEN)) < 2000


@pytest.mark.parametrize(
    ("lat", "lng"),
    [(35.6895, 139.6917), (51.5074, -0.1278), (-33.8688, 151.2093), (60.0, 100.0)],
    ids=["tokyo", "london", "sydney", "north-of-box"],
)
def test_points_outside_china_are_not_shifted_by_gcj02(lat: float, lng: float) -> None:
    assert wgs84_to_gcj02(lat, lng) == (lat, lng)
    assert gcj02_to_wgs84(lat, lng) == (lat, lng)
    assert to_wgs84(lat, lng, CoordSystem.gcj02) == (lat, lng)


def test_to_wgs84_dispatches_on_coordinate_system() -> None:
    assert to_wgs84(*TIANANMEN, CoordSystem.wgs84) == TIANANMEN
    assert to_wgs84(*TIANANMEN, CoordSystem("gcj02")) == gcj02_to_wgs84(*TIANANMEN)
    assert to_wgs84(*TIANANMEN, CoordSystem("bd09")) == bd09_to_wgs84(*TIANANMEN)


@given(lat=CHINA_LAT, lng=CHINA_LNG)
def test_gcj02_round_trip_is_within_half_a_metre(lat: float, lng: float) -> None:
    assert haversine_m(lat, lng, *gcj02_to_wgs84(*wgs84_to_gcj02(lat, lng))) < 0.5
    assert haversine_m(lat, lng, *wgs84_to_gcj02(*gcj02_to_wgs84(lat, lng))) < 0.5


@given(lat=CHINA_LAT, lng=CHINA_LNG)
def test_bd09_round_trip_is_within_half_a_metre(lat: float, lng: float) -> None:
    assert haversine_m(lat, lng, *bd09_to_wgs84(*wgs84_to_bd09(lat, lng))) < 0.5
    assert haversine_m(lat, lng, *bd09_to_gcj02(*gcj02_to_bd09(lat, lng))) < 0.5


def test_haversine_known_distances() -> None:
    assert haversine_m(40.0, 107.0, 40.0, 107.0) == 0.0
    assert haversine_m(40.0, 107.0, 41.0, 107.0) == pytest.approx(METRES_PER_DEGREE_LAT)
    assert haversine_m(0.0, 0.0, 0.0, 90.0) == pytest.approx(6_371_008.8 * math.pi / 2)
    assert haversine_m(39.9, 116.4, 31.2, 121.5) == haversine_m(31.2, 121.5, 39.9, 116.4)


@pytest.mark.parametrize(("lat", "lng"), [(90.0, 180.0), (-90.0, -180.0), (0.0, 0.0)])
def test_validate_coordinates_accepts_the_whole_range(lat: float, lng: float) -> None:
    validate_coordinates(lat, lng)


@pytest.mark.parametrize(
    ("lat", "lng", "reason"),
    [
        (math.nan, 107.0, "latitude must be a finite number"),
        (40.0, math.inf, "longitude must be a finite number"),
        (90.0001, 107.0, "latitude 90.0001 is out of range"),
        (40.0, -180.5, "longitude -180.5 is out of range"),
    ],
)
def test_validate_coordinates_rejects_with_reason(lat: float, lng: float, reason: str) -> None:
    with pytest.raises(InvalidCoordinates, match=reason):
        validate_coordinates(lat, lng)
    assert issubclass(InvalidCoordinates, ValueError)


def square(lng: float, lat: float, size: float) -> list[list[float]]:
    return [
        [lng, lat],
        [lng + size, lat],
        [lng + size, lat + size],
        [lng, lat + size],
        [lng, lat],
    ]


def test_parse_boundary_accepts_polygon_with_hole_and_altitude() -> None:
    outer = [[*position, 1050.0] for position in square(107.0, 40.0, 0.01)]
    geometry = parse_boundary(
        {"type": "Polygon", "coordinates": [outer, square(107.004, 40.004, 0.002)]}
    )

    assert isinstance(geometry, shapely.Polygon)
    assert len(geometry.interiors) == 1
    assert geometry.area == pytest.approx(0.01**2 - 0.002**2)


def test_parse_boundary_accepts_multipolygon() -> None:
    geometry = parse_boundary(
        {
            "type": "MultiPolygon",
            "coordinates": [[square(107.0, 40.0, 0.01)], [square(107.02, 40.0, 0.01)]],
        }
    )

    assert isinstance(geometry, shapely.MultiPolygon)
    assert len(geometry.geoms) == 2


RING = square(107.0, 40.0, 0.01)


@pytest.mark.parametrize(
    ("geojson", "reason"),
    [
        ([], "must be an object"),
        ({"coordinates": [RING]}, "missing type"),
        ({"type": "Point", "coordinates": [107.0, 40.0]}, "wrong type 'Point'"),
        (
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [RING]}},
            "wrong type 'Feature'",
        ),
        ({"type": "Polygon"}, "missing coordinates"),
        (
            {"type": "Polygon", "coordinates": RING},
            r"malformed coordinates at coordinates\[0\]\[0\]",
        ),
        ({"type": "Polygon", "coordinates": [[RING]]}, "wrong nesting"),
        ({"type": "MultiPolygon", "coordinates": [RING]}, "wrong nesting"),
        ({"type": "Polygon", "coordinates": "107,40"}, "malformed coordinates"),
        (
            {"type": "Polygon", "coordinates": [[[107.0], *RING[1:]]]},
            "needs longitude and latitude",
        ),
        (
            {"type": "Polygon", "coordinates": [[["107.0", 40.0], *RING[1:]]]},
            r"non-numeric coordinate at coordinates\[0\]\[0\]\[0\]: '107.0'",
        ),
        ({"type": "Polygon", "coordinates": [[[True, 40.0], *RING[1:]]]}, "non-numeric"),
        ({"type": "Polygon", "coordinates": [[[107.0, math.nan], *RING[1:]]]}, "non-finite"),
        ({"type": "Polygon", "coordinates": [[[math.inf, 40.0], *RING[1:]]]}, "non-finite"),
        ({"type": "Polygon", "coordinates": [RING[:3]]}, "fewer than 4 positions"),
        ({"type": "Polygon", "coordinates": [RING[:4]]}, "not closed"),
        (
            {"type": "Polygon", "coordinates": [[[187.0, 40.0], *RING[1:]]]},
            r"longitude out of range at coordinates\[0\]\[0\]",
        ),
        (
            {"type": "Polygon", "coordinates": [square(107.0, 89.995, 0.01)]},
            "latitude out of range",
        ),
        ({"type": "Polygon", "coordinates": []}, "empty geometry"),
        ({"type": "MultiPolygon", "coordinates": []}, "empty geometry"),
        ({"type": "MultiPolygon", "coordinates": [[]]}, "empty geometry"),
    ],
)
def test_parse_boundary_names_the_reason(geojson: Any, reason: str) -> None:
    with pytest.raises(InvalidGeometry, match=reason):
        parse_boundary(geojson)


def test_parse_boundary_explains_self_intersection_and_where() -> None:
    bow_tie = [[107.0, 40.0], [107.01, 40.01], [107.01, 40.0], [107.0, 40.01], [107.0, 40.0]]

    with pytest.raises(InvalidGeometry, match=r"not valid: Self-intersection\[107.005 40.005\]"):
        parse_boundary({"type": "Polygon", "coordinates": [bow_tie]})


def test_parse_boundary_rejects_overlapping_multipolygon_parts() -> None:
    overlapping = [[square(107.0, 40.0, 0.01)], [square(107.005, 40.0, 0.01)]]

    with pytest.raises(InvalidGeometry, match="not valid"):
        parse_boundary({"type": "MultiPolygon", "coordinates": overlapping})


def test_boundary_centroid_lies_inside_a_u_shaped_boundary_and_is_lat_lng() -> None:
    u_shape = parse_boundary(
        {
            "type": "Polygon",
            "coordinates": [
                [
                    [107.0, 40.0],
                    [107.03, 40.0],
                    [107.03, 40.03],
                    [107.02, 40.03],
                    [107.02, 40.01],
                    [107.01, 40.01],
                    [107.01, 40.03],
                    [107.0, 40.03],
                    [107.0, 40.0],
                ]
            ],
        }
    )
    assert not u_shape.contains(u_shape.centroid)

    lat, lng = boundary_centroid(u_shape)

    assert 40.0 < lat < 40.03
    assert 107.0 < lng < 107.03
    assert u_shape.contains(shapely.Point(lng, lat))


LAT0, LNG0 = 40.85, 107.14
METRES_PER_DEGREE_LNG = METRES_PER_DEGREE_LAT * math.cos(math.radians(LAT0))


def offset(north_m: float, east_m: float) -> tuple[float, float]:
    """(lat, lng) a given number of metres north and east of (LAT0, LNG0)."""
    return LAT0 + north_m / METRES_PER_DEGREE_LAT, LNG0 + east_m / METRES_PER_DEGREE_LNG


def box_m(south_m: float, west_m: float, north_m: float, east_m: float) -> shapely.Polygon:
    south, west = offset(south_m, west_m)
    north, east = offset(north_m, east_m)
    return shapely.box(west, south, east, north)


WEST, EAST, OUTER, INNER, CENTER_ONLY = (uuid.uuid4() for _ in range(5))


def neighbourhood() -> CommunityLocator:
    """Two 500 m squares sharing an edge, a 2 km square with a 200 m square nested in it further
    east, and a community known only by its centre far to the north."""
    return CommunityLocator(
        [
            (WEST, box_m(0, 0, 500, 500), None),
            (EAST, box_m(0, 500, 500, 1000), None),
            (OUTER, box_m(0, 3000, 2000, 5000), None),
            (INNER, box_m(900, 3900, 1100, 4100), None),
            (CENTER_ONLY, None, offset(6000, 0)),
            (uuid.uuid4(), None, None),
        ]
    )


def test_locate_inside_a_boundary() -> None:
    assert neighbourhood().locate(*offset(250, 250)) == LocateResult(WEST, "boundary", 0.0)


def test_locate_on_an_outer_edge_or_corner_counts_as_inside() -> None:
    locator = neighbourhood()
    south, west = offset(0, 0)

    on_west_edge = locator.locate(LAT0 + 0.001, west)
    on_corner = locator.locate(south, west)

    assert on_west_edge == LocateResult(WEST, "boundary", 0.0)
    assert on_corner == LocateResult(WEST, "boundary", 0.0)


def test_locate_on_a_shared_edge_picks_one_of_the_neighbours() -> None:
    _, shared_lng = offset(0, 500)

    result = neighbourhood().locate(LAT0 + 0.001, shared_lng)

    assert result is not None
    assert result.community_id in {WEST, EAST}
    assert result.method == "boundary"


def test_locate_nested_boundaries_prefers_the_smallest() -> None:
    locator = neighbourhood()

    inner = locator.locate(*offset(1000, 4000))
    outer = locator.locate(*offset(1500, 3500))

    assert inner == LocateResult(INNER, "boundary", 0.0)
    assert outer == LocateResult(OUTER, "boundary", 0.0)


def test_locate_near_a_boundary_returns_it_with_the_distance_in_metres() -> None:
    lat, lng = offset(250, 1300)

    result = neighbourhood().locate(lat, lng)

    assert result is not None
    assert (result.community_id, result.method) == (EAST, "nearest")
    _, edge_lng = offset(0, 1000)
    assert result.distance_m == pytest.approx(haversine_m(lat, lng, lat, edge_lng), rel=0.01)
    assert result.distance_m == pytest.approx(300, rel=0.01)


def test_locate_nearest_compares_metres_not_degrees() -> None:
    # At 40.85°N a degree of longitude is 24% shorter than a degree of latitude, so the area
    # 300 m north is closer in degrees than the one 250 m east.
    north, east = uuid.uuid4(), uuid.uuid4()
    locator = CommunityLocator(
        [(north, box_m(300, -500, 800, 0), None), (east, box_m(-500, 250, 0, 750), None)]
    )

    result = locator.locate(LAT0, LNG0)

    assert result is not None
    assert result.community_id == east
    assert result.distance_m == pytest.approx(250, rel=0.01)


def test_locate_far_from_everything_is_none_unless_the_limit_allows_it() -> None:
    locator = neighbourhood()
    lat, lng = offset(-3000, 500)

    assert locator.locate(lat, lng) is None
    farther = locator.locate(lat, lng, max_distance_m=5000)
    assert farther is not None
    assert farther.community_id in {WEST, EAST}
    assert farther.distance_m == pytest.approx(3000, rel=0.01)


def test_locate_community_without_boundary_by_its_centre() -> None:
    lat, lng = offset(6400, 300)

    result = neighbourhood().locate(lat, lng)

    assert result is not None
    assert (result.community_id, result.method) == (CENTER_ONLY, "nearest")
    assert result.distance_m == pytest.approx(500, rel=0.01)


def test_locate_with_no_communities_is_none() -> None:
    assert CommunityLocator([]).locate(LAT0, LNG0) is None


def test_locate_in_a_hole_finds_the_community_filling_it() -> None:
    donut = box_m(0, 0, 1000, 1000).difference(box_m(400, 400, 600, 600))
    ring_community, hole_community = uuid.uuid4(), uuid.uuid4()
    locator = CommunityLocator(
        [(ring_community, donut, None), (hole_community, box_m(400, 400, 600, 600), None)]
    )

    in_hole = locator.locate(*offset(500, 500))
    in_ring = locator.locate(*offset(200, 200))

    assert in_hole == LocateResult(hole_community, "boundary", 0.0)
    assert in_ring == LocateResult(ring_community, "boundary", 0.0)


def test_locate_on_a_boundary_with_thousands_of_vertices() -> None:
    circle = shapely.Point(LNG0, LAT0).buffer(0.01, quad_segs=2000)
    community = uuid.uuid4()
    locator = CommunityLocator([(community, circle, None)])

    inside = locator.locate(LAT0 + 0.0099, LNG0)
    just_outside = locator.locate(LAT0 + 0.0101, LNG0)

    assert inside == LocateResult(community, "boundary", 0.0)
    assert just_outside is not None
    assert just_outside.method == "nearest"
    assert just_outside.distance_m == pytest.approx(0.0001 * METRES_PER_DEGREE_LAT, rel=0.01)


def test_grid_locator_locates_grids_with_or_without_boundaries() -> None:
    drawn, undrawn = uuid.uuid4(), uuid.uuid4()
    grids = GridLocator([(drawn, box_m(0, 0, 200, 200), None), (undrawn, None, offset(100, 400))])

    in_drawn = grids.locate(*offset(100, 100))
    near_undrawn = grids.locate(*offset(100, 450))

    assert in_drawn == AreaMatch(drawn, "boundary", 0.0)
    assert near_undrawn is not None
    assert (near_undrawn.area_id, near_undrawn.method) == (undrawn, "nearest")
    assert near_undrawn.distance_m == pytest.approx(50, rel=0.01)


def test_one_locator_can_be_shared_by_threads() -> None:
    locator = CommunityLocator(
        [(uuid.UUID(int=i + 1), box_m(0, 100 * i, 90, 100 * i + 90), None) for i in range(200)]
    )
    points = [offset(45, 100 * i + 45) for i in range(200)] * 20

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda point: locator.locate(*point), points))

    assert [result.community_id if result else None for result in results] == [
        uuid.UUID(int=i % 200 + 1) for i in range(len(points))
    ]
