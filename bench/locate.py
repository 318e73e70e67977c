"""Locating a point among 10,000 community polygons. Budget: < 50 µs per call on average.

Run: .venv/bin/python bench/locate.py
Writes bench/results/locate.json.
"""

from __future__ import annotations

import json
import math
import os
import platform
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.org.geo_index import CommunityLocator

BUDGET_MEAN_US = 50.0
COMMUNITIES = 10_000
# A 101 × 101 mesh has 10,201 cells; 201 are left out as unassigned land (parks, rivers) so that
# points in those holes exercise the nearest-boundary fallback from all sides.
MESH_SIDE = 101
CELL_M = 600.0
ORIGIN_LAT, ORIGIN_LNG = 40.85, 107.14  # Bayannur, Inner Mongolia
QUERIES = 100_000
SHARE_INSIDE_MESH = 0.6
SHARE_NEAR_EDGE = 0.2  # the rest is far away
NEAR_EDGE_MAX_M = 900.0
FAR_MIN_M, FAR_MAX_M = 2_000.0, 20_000.0
SEED = 20240601

METRES_PER_DEGREE_LAT = 111_195.0
CELL_LAT = CELL_M / METRES_PER_DEGREE_LAT
CELL_LNG = CELL_LAT / math.cos(math.radians(ORIGIN_LAT))
RESULTS = Path(__file__).resolve().parent / "results" / "locate.json"

Node = tuple[float, float]


def jittered_mesh(rng: random.Random) -> list[shapely.Polygon]:
    """Irregular octagons that tile the area like real communities: neighbours share their
    jittered corners and edge midpoints, so they touch but never overlap."""

    def lng_lat(col: float, row: float) -> Node:
        return ORIGIN_LNG + col * CELL_LNG, ORIGIN_LAT + row * CELL_LAT

    # Corners move at most a quarter cell and edge midpoints a further tenth: enough to make
    # every cell different, little enough to keep cells simple and disjoint (main() checks).
    corner = {
        (c, r): (c + rng.uniform(-0.25, 0.25), r + rng.uniform(-0.25, 0.25))
        for c in range(MESH_SIDE + 1)
        for r in range(MESH_SIDE + 1)
    }

    def midpoint(a: Node, b: Node) -> Node:
        return (
            (a[0] + b[0]) / 2.0 + rng.uniform(-0.1, 0.1),
            (a[1] + b[1]) / 2.0 + rng.uniform(-0.1, 0.1),
        )

    bottom_mid = {
        (c, r): midpoint(corner[c, r], corner[c + 1, r])
        for c in range(MESH_SIDE)
        for r in range(MESH_SIDE + 1)
    }
    left_mid = {
        (c, r): midpoint(corner[c, r], corner[c, r + 1])
        for c in range(MESH_SIDE + 1)
        for r in range(MESH_SIDE)
    }
    cells = [(c, r) for c in range(MESH_SIDE) for r in range(MESH_SIDE)]
    kept = rng.sample(cells, COMMUNITIES)
    return [
        shapely.Polygon(
            [
                lng_lat(*node)
                for node in (
                    corner[c, r],
                    bottom_mid[c, r],
                    corner[c + 1, r],
                    left_mid[c + 1, r],
                    corner[c + 1, r + 1],
                    bottom_mid[c, r + 1],
                    corner[c, r + 1],
                    left_mid[c, r],
                )
            ]
        )
        for c, r in kept
    ]


def query_points(rng: random.Random) -> list[tuple[float, float]]:
    span_lat, span_lng = MESH_SIDE * CELL_LAT, MESH_SIDE * CELL_LNG
    points = []
    for _ in range(QUERIES):
        lng = ORIGIN_LNG + rng.uniform(0.0, span_lng)
        draw = rng.random()
        if draw < SHARE_INSIDE_MESH:
            lat = ORIGIN_LAT + rng.uniform(0.0, span_lat)
        elif draw < SHARE_INSIDE_MESH + SHARE_NEAR_EDGE:
            # The mesh's jagged southern edge wanders a third of a cell around ORIGIN_LAT, so a
            # few of these still land inside; the outcomes are counted, not assumed.
            lat = ORIGIN_LAT - rng.uniform(0.0, NEAR_EDGE_MAX_M) / METRES_PER_DEGREE_LAT
        else:
            lat = ORIGIN_LAT - rng.uniform(FAR_MIN_M, FAR_MAX_M) / METRES_PER_DEGREE_LAT
        points.append((lat, lng))
    return points


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def main() -> None:
    rng = random.Random(SEED)
    polygons = jittered_mesh(rng)
    assert all(polygon.is_valid for polygon in polygons)
    assert not shapely.STRtree(polygons).query(polygons, predicate="overlaps").size
    communities = [(uuid.UUID(int=i + 1), polygon, None) for i, polygon in enumerate(polygons)]

    build_start = time.perf_counter()
    locator = CommunityLocator(communities)
    build_ms = (time.perf_counter() - build_start) * 1000.0

    points = query_points(rng)
    load_average = os.getloadavg()
    for lat, lng in points[:1000]:
        locator.locate(lat, lng)

    timings_us: list[float] = []
    timings_by_outcome: dict[str, list[float]] = {"boundary": [], "nearest": [], "none": []}
    clock = time.perf_counter_ns
    cpu_start = time.process_time()
    for lat, lng in points:
        start = clock()
        result = locator.locate(lat, lng)
        elapsed_us = (clock() - start) / 1000.0
        timings_us.append(elapsed_us)
        timings_by_outcome[result.method if result else "none"].append(elapsed_us)
    # CPU time is immune to other processes taking the core; wall time is what a caller waits.
    cpu_mean_us = (time.process_time() - cpu_start) / len(points) * 1e6

    mean_us = statistics.fmean(timings_us)
    by_outcome = {
        outcome: {
            "calls": len(timings),
            "mean_us": round(statistics.fmean(timings), 2),
            "p95_us": round(percentile(timings, 0.95), 2),
        }
        for outcome, timings in timings_by_outcome.items()
        if timings
    }
    figures = {
        "communities": len(communities),
        "queries": len(points),
        "build_ms": round(build_ms, 1),
        "mean_us": round(mean_us, 2),
        "p50_us": round(percentile(timings_us, 0.50), 2),
        "p95_us": round(percentile(timings_us, 0.95), 2),
        "p99_us": round(percentile(timings_us, 0.99), 2),
        "cpu_mean_us": round(cpu_mean_us, 2),
        "by_outcome": by_outcome,
        "budget_mean_us": BUDGET_MEAN_US,
        "within_budget": mean_us < BUDGET_MEAN_US,
        "load_average_at_start": load_average,
        "machine": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "cpu_count": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "platform": platform.platform(),
            "shapely": shapely.__version__,
            "geos": shapely.geos_version_string,
        },
    }

    print(f"build {figures['build_ms']} ms for {len(communities)} communities")
    print(
        f"locate mean {figures['mean_us']} µs, p50 {figures['p50_us']} µs, "
        f"p95 {figures['p95_us']} µs, p99 {figures['p99_us']} µs, "
        f"CPU mean {figures['cpu_mean_us']} µs (budget: mean < {BUDGET_MEAN_US} µs)"
    )
    for outcome, stats in by_outcome.items():
        print(
            f"  {outcome:8s} {stats['calls']:6d} calls, mean {stats['mean_us']} µs, "
            f"p95 {stats['p95_us']} µs"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(f"written {RESULTS}")
    if not figures["within_budget"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
