"""The community locator at the scale of a province: 60,000 communities of 64 vertices, each
split into two grids. Measures, in one run:

- a full build from WKB (as the locator now reads boundaries) against one from the stored
  GeoJSON text (as it read them before), and the ratio;
- the peak resident memory each build adds (each in a forked child, so neither inherits the
  other's high-water mark);
- the longest a stream of lookups waits while an edit of one community is applied: as the
  locator does it now (the edit applied to a copy in a thread, the snapshot swapped), and as it
  did before (a full rebuild from JSON, every lookup waiting for it behind the lock).

It calls the functions the locator's cache calls (app/org/locator_snapshot.py), on rows made
here rather than read from a database: the figures are the building's, not a database's.

Run: .venv/bin/python bench/locator_scale.py [--communities N]
Writes bench/results/locator_scale.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import machine, status_kb

from app.org.locator_snapshot import (
    CommunityRow,
    GridRow,
    LocatorSnapshot,
    apply_changes,
    build_snapshot,
)

COMMUNITIES = 60_000
VERTICES = 64
CELL_M = 600.0
ORIGIN_LAT, ORIGIN_LNG = 40.85, 107.14
METRES_PER_DEGREE_LAT = 111_195.0
CELL_LAT = CELL_M / METRES_PER_DEGREE_LAT
CELL_LNG = CELL_LAT / math.cos(math.radians(ORIGIN_LAT))
MAX_DISTANCE_M = 1000.0
# How long the stream of lookups runs after the edit is done, and how often it looks up.
LOOKUP_PAUSE_SECONDS = 0.001
SEED = 20261206
RESULTS = Path(__file__).resolve().parent / "results" / "locator_scale.json"

Ring = list[tuple[float, float]]


def ring_around(col: int, row: int, rng: random.Random) -> Ring:
    """A 64-vertex outline inside cell (col, row), its radius jittered vertex by vertex."""
    centre_lng = ORIGIN_LNG + (col + 0.5) * CELL_LNG
    centre_lat = ORIGIN_LAT + (row + 0.5) * CELL_LAT
    points = []
    for k in range(VERTICES):
        angle = 2 * math.pi * k / VERTICES
        radius = rng.uniform(0.38, 0.48)
        points.append(
            (
                centre_lng + radius * CELL_LNG * math.cos(angle),
                centre_lat + radius * CELL_LAT * math.sin(angle),
            )
        )
    return [*points, points[0]]


def halves(ring: Ring, col: int, row: int) -> tuple[Ring, Ring]:
    """The outline cut in two through its centre: the two grids of the community."""
    centre = (ORIGIN_LNG + (col + 0.5) * CELL_LNG, ORIGIN_LAT + (row + 0.5) * CELL_LAT)
    half = VERTICES // 2
    north = [*ring[: half + 1], centre, ring[0]]
    south = [*ring[half:VERTICES], ring[0], centre, ring[half]]
    return north, south


def geojson(ring: Ring) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


class Stored:
    """The rows as a database holds them: the boundaries as GeoJSON text and as WKB."""

    def __init__(self, communities: int) -> None:
        rng = random.Random(SEED)
        side = math.ceil(math.sqrt(communities))
        self.side = side
        self.communities: list[tuple[uuid.UUID, str, uuid.UUID, bytes, str, float, float]] = []
        self.grids: list[tuple[uuid.UUID, uuid.UUID, str, bytes, str]] = []
        region = uuid.UUID(int=1)
        for n in range(communities):
            col, row = n % side, n // side
            ring = ring_around(col, row, rng)
            community_id = uuid.UUID(int=n + 10)
            polygon = shapely.Polygon(ring)
            centre = polygon.representative_point()
            self.communities.append(
                (
                    community_id,
                    f"社区{n}",
                    region,
                    shapely.to_wkb(polygon),
                    json.dumps(geojson(ring)),
                    centre.y,
                    centre.x,
                )
            )
            for g, part in enumerate(halves(ring, col, row)):
                self.grids.append(
                    (
                        uuid.UUID(int=(n + 10) * 4 + g),
                        community_id,
                        f"第{g + 1}网格",
                        shapely.to_wkb(shapely.Polygon(part)),
                        json.dumps(geojson(part)),
                    )
                )

    def rows_from_wkb(self) -> tuple[list[CommunityRow], list[GridRow]]:
        return (
            [CommunityRow(c[0], c[1], c[2], c[3], c[5], c[6]) for c in self.communities],
            [GridRow(g[0], g[1], g[2], g[3]) for g in self.grids],
        )

    def rows_from_json(self) -> tuple[list[CommunityRow], list[GridRow]]:
        """As the driver hands the JSON column over: decoded into dicts (part of the cost)."""
        return (
            [
                CommunityRow(c[0], c[1], c[2], None, c[5], c[6], boundary=json.loads(c[4]))
                for c in self.communities
            ],
            [GridRow(g[0], g[1], g[2], None, boundary=json.loads(g[4])) for g in self.grids],
        )

    def random_point(self, rng: random.Random) -> tuple[float, float]:
        return (
            ORIGIN_LAT + rng.uniform(0, self.side * CELL_LAT),
            ORIGIN_LNG + rng.uniform(0, self.side * CELL_LNG),
        )


def _timed_build(
    stored: Stored, source: str, connection: Connection
) -> None:  # runs in a forked child
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # the high-water mark starts from here
    before_kb = status_kb(os.getpid(), "VmRSS") or 0
    started = time.perf_counter()
    rows = stored.rows_from_wkb() if source == "wkb" else stored.rows_from_json()
    snapshot = build_snapshot(1, *rows)
    seconds = time.perf_counter() - started
    peak_kb = status_kb(os.getpid(), "VmHWM") or 0
    after_kb = status_kb(os.getpid(), "VmRSS") or 0
    connection.send(
        {
            "seconds": round(seconds, 3),
            "communities": len(snapshot),
            "peak_rss_growth_mb": round((peak_kb - before_kb) / 1024, 1),
            "kept_rss_growth_mb": round((after_kb - before_kb) / 1024, 1),
        }
    )


def build_in_child(stored: Stored, source: str) -> dict[str, Any]:
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    process = context.Process(target=_timed_build, args=(stored, source, child))
    process.start()
    result: dict[str, Any] = parent.recv()
    process.join()
    return result


async def lookups_while(
    stored: Stored, current: Callable[[], LocatorSnapshot], edit: asyncio.Task[None]
) -> dict[str, Any]:
    """Locate point after point until ``edit`` is done (and a little after); the longest a
    lookup waited and the longest the loop went without one."""
    rng = random.Random(SEED + 1)
    longest_lookup = longest_gap = 0.0
    lookups = 0
    last = time.perf_counter()
    while not edit.done():
        lat, lng = stored.random_point(rng)
        started = time.perf_counter()
        longest_gap = max(longest_gap, started - last)
        await asyncio.sleep(0)  # a request's turn on the loop
        current().locate(lat, lng, MAX_DISTANCE_M)
        last = time.perf_counter()
        longest_lookup = max(longest_lookup, last - started)
        lookups += 1
        await asyncio.sleep(LOOKUP_PAUSE_SECONDS)
    await edit
    return {
        "lookups_during_edit": lookups,
        "longest_lookup_ms": round(longest_lookup * 1000, 2),
        "longest_gap_between_lookups_ms": round(longest_gap * 1000, 2),
    }


def edited_rows(stored: Stored) -> tuple[uuid.UUID, list[CommunityRow], list[GridRow]]:
    """Community 0 moved half a cell east, with its grids."""
    rng = random.Random(SEED + 2)
    ring = [(lng + CELL_LNG / 2, lat) for lng, lat in ring_around(0, 0, rng)]
    first = stored.communities[0]
    community = CommunityRow(
        first[0], first[1], first[2], shapely.to_wkb(shapely.Polygon(ring)), first[5], first[6]
    )
    grids = [GridRow(g[0], g[1], g[2], g[3]) for g in stored.grids if g[1] == first[0]]
    return first[0], [community], grids


async def edit_now(stored: Stored, snapshot: LocatorSnapshot) -> dict[str, Any]:
    """As the locator applies an edit: in a thread, on a copy; lookups keep the old one."""
    holder = {"snapshot": snapshot}
    community_id, communities, grids = edited_rows(stored)

    async def apply() -> None:
        started = time.perf_counter()
        fresh = await asyncio.to_thread(
            apply_changes, holder["snapshot"], 2, [community_id], communities, grids
        )
        holder["snapshot"] = fresh
        holder["seconds"] = time.perf_counter() - started  # type: ignore[assignment]

    task = asyncio.create_task(apply())
    figures = await lookups_while(stored, lambda: holder["snapshot"], task)
    figures["edit_applied_ms"] = round(float(holder["seconds"]) * 1000, 1)  # type: ignore[arg-type]
    moved = holder["snapshot"].locate(
        stored.communities[0][5], stored.communities[0][6] + CELL_LNG / 2, MAX_DISTANCE_M
    )
    assert moved is not None
    assert moved.community_id == community_id
    return figures


async def edit_before(stored: Stored) -> dict[str, Any]:
    """As the locator did before: the stale snapshot rebuilt whole from JSON behind a lock,
    which every lookup awaited (the build itself in a thread)."""
    lock = asyncio.Lock()
    holder: dict[str, Any] = {}

    async def rebuild() -> None:
        async with lock:
            started = time.perf_counter()
            rows = stored.rows_from_json()
            holder["snapshot"] = await asyncio.to_thread(build_snapshot, 2, *rows)
            holder["seconds"] = time.perf_counter() - started

    task = asyncio.create_task(rebuild())
    await asyncio.sleep(0)
    rng = random.Random(SEED + 1)
    started = time.perf_counter()
    async with lock:  # the first lookup after the edit
        holder["snapshot"].locate(*stored.random_point(rng), MAX_DISTANCE_M)
    waited = time.perf_counter() - started
    await task
    return {
        "longest_lookup_ms": round(waited * 1000, 1),
        "rebuild_ms": round(holder["seconds"] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--communities", type=int, default=COMMUNITIES)
    args = parser.parse_args()

    print(f"making {args.communities:,} communities of {VERTICES} vertices, two grids each …")
    stored = Stored(args.communities)
    json_mb = sum(len(c[4]) for c in stored.communities) + sum(len(g[4]) for g in stored.grids)
    wkb_mb = sum(len(c[3]) for c in stored.communities) + sum(len(g[3]) for g in stored.grids)

    from_wkb = build_in_child(stored, "wkb")
    print(
        f"full build from WKB: {from_wkb['seconds']} s, "
        f"peak RSS +{from_wkb['peak_rss_growth_mb']} MB"
    )
    from_json = build_in_child(stored, "json")
    print(
        f"full build from JSON: {from_json['seconds']} s, peak RSS "
        f"+{from_json['peak_rss_growth_mb']} MB"
    )
    ratio = from_json["seconds"] / from_wkb["seconds"]
    print(f"WKB is {ratio:.1f}× faster")

    snapshot = build_snapshot(1, *stored.rows_from_wkb())
    now = asyncio.run(edit_now(stored, snapshot))
    print(
        f"an edit of one community applied in {now['edit_applied_ms']} ms; "
        f"{now['lookups_during_edit']} lookups meanwhile, "
        f"the longest {now['longest_lookup_ms']} ms, "
        f"the longest gap between two {now['longest_gap_between_lookups_ms']} ms"
    )
    before = asyncio.run(edit_before(stored))
    print(
        f"before: a lookup after an edit waited {before['longest_lookup_ms']} ms "
        f"(a full rebuild from JSON)"
    )

    figures = {
        "communities": args.communities,
        "grids": len(stored.grids),
        "vertices_per_community": VERTICES,
        "stored_json_mb": round(json_mb / 2**20, 1),
        "stored_wkb_mb": round(wkb_mb / 2**20, 1),
        "full_build_from_wkb": from_wkb,
        "full_build_from_json": from_json,
        "json_over_wkb_build_time": round(ratio, 1),
        "edit_of_one_community_now": now,
        "edit_of_one_community_before": before,
        "machine": {
            **machine(),
            "shapely": shapely.__version__,
            "geos": shapely.geos_version_string,
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
