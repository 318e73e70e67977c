"""Live events at province scale: the CPU an API process spends handing one event to its open
streams, with 10,000 streams across 1,000 communities, through the index of streams
(app/integrations/audience.py ``ListenerIndex``) and, side by side in the same run, the way it
was done before: offering every event to every stream.

The streams are those a province's command centres, communities and units hold open: the staff
and grid workers of 1,000 communities (8 each), 490 supervisors and dashboard keys of townships
and banners, 1,000 couriers following their own reports, 500 unit staff and 10 administrators.
The events are the outbox's: a case of a random community of a random township, now and then
with units on it, filed by a random courier. Each stream's buffer is emptied between rounds,
as its client would read it.

Run: .venv/bin/python bench/sse.py [--events N]
Writes bench/results/sse.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.auth.principal import Principal, RoleGrant
from app.integrations.audience import Audience, ListenerIndex, LiveEvent
from app.integrations.stream import Subscription
from app.models.enums import Role, ScopeType

RESULTS = Path(__file__).resolve().parent / "results" / "sse.json"
SEED = 20261205
BANNERS, TOWNSHIPS_PER_BANNER, COMMUNITIES_PER_TOWNSHIP = 10, 10, 10
STAFF_PER_COMMUNITY = 8
SUPERVISORS, COURIERS, UNIT_STAFF, UNITS, ADMINS = 490, 1_000, 500, 100, 10


def _streams(rng: random.Random) -> tuple[list[Subscription], list[str], list[uuid.UUID]]:
    banners = [f"/p/b{b}/" for b in range(BANNERS)]
    townships = [f"{b}t{t}/" for b in banners for t in range(TOWNSHIPS_PER_BANNER)]
    places = [
        (f"{t}c{c}/", uuid.uuid4()) for t in townships for c in range(COMMUNITIES_PER_TOWNSHIP)
    ]
    units = [uuid.uuid4() for _ in range(UNITS)]
    couriers = [uuid.uuid4() for _ in range(COURIERS)]

    def principal(*grants: RoleGrant, user: uuid.UUID | None = None) -> Principal:
        return Principal(user_id=user or uuid.uuid4(), username=None, grants=grants)

    audiences = [
        principal(RoleGrant(rng.choice([Role.community_staff, Role.grid_worker]),
                            ScopeType.community, community, "社区"))
        for _, community in places for _ in range(STAFF_PER_COMMUNITY)
    ]  # fmt: skip
    audiences += [
        principal(RoleGrant(Role.supervisor, ScopeType.region, uuid.uuid4(), "区域",
                            scope_path=rng.choice(townships + banners)))
        for _ in range(SUPERVISORS)
    ]  # fmt: skip
    audiences += [principal(RoleGrant(Role.courier, None, None, None), user=c) for c in couriers]
    audiences += [
        principal(RoleGrant(Role.unit_staff, ScopeType.unit, rng.choice(units), "单位"))
        for _ in range(UNIT_STAFF)
    ]
    audiences += [principal(RoleGrant(Role.admin, None, None, None)) for _ in range(ADMINS)]
    streams = [Subscription(Audience(p), live_after=0) for p in audiences]
    events_places = [f"{path}|{community}" for path, community in places]
    return streams, events_places, units + couriers


def _events(
    rng: random.Random, places: list[str], others: list[uuid.UUID], n: int
) -> list[LiveEvent]:
    units, couriers = others[:UNITS], others[UNITS:]
    events = []
    for number in range(1, n + 1):
        path, community = rng.choice(places).split("|")
        with_units = rng.random() < 0.3
        events.append(
            LiveEvent(
                id=number,
                type=rng.choice(["report.submitted", "report.accept", "job.accept"]),
                community_id=uuid.UUID(community),
                region_path=path,
                unit_ids=frozenset(str(u) for u in rng.sample(units, 2))
                if with_units
                else frozenset(),
                reporter_id=rng.choice(couriers),
                data="{}",
            )
        )
    return events


def _drain(streams: list[Subscription]) -> None:
    for stream in streams:
        stream._buffer.clear()  # what next_events does, without an event loop


def _run(streams: list[Subscription], events: list[LiveEvent], indexed: bool) -> tuple[float, int]:
    index: ListenerIndex[Subscription] = ListenerIndex()
    for stream in streams:
        index.add(stream)
    offered = 0
    started = time.process_time()
    for event in events:
        targets = index.candidates(event) if indexed else streams
        for stream in targets:
            stream.offer(event, late=False)
        offered += len(targets)
        if event.id % 200 == 0:  # the clients read their buffers
            _drain(streams)
    elapsed = time.process_time() - started
    _drain(streams)
    return elapsed, offered


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2_000)
    args = parser.parse_args()
    rng = random.Random(SEED)
    streams, places, others = _streams(rng)
    events = _events(rng, places, others, args.events)
    delivered = sum(1 for e in events for s in streams if s.audience.sees(e))
    results = {}
    for name, indexed in (
        ("every stream", False),
        ("index", True),
        ("every stream again", False),
        ("index again", True),
    ):
        elapsed, offered = _run(streams, events, indexed)
        results[name] = {
            "cpu_us_per_event": round(elapsed / len(events) * 1e6, 1),
            "streams_offered_per_event": round(offered / len(events), 1),
        }
        print(f"  {name:>20}: {results[name]['cpu_us_per_event']:>9,.1f} µs CPU per event, "
              f"offered to {results[name]['streams_offered_per_event']:,.1f} streams")  # fmt: skip
    cpu = {name: run["cpu_us_per_event"] for name, run in results.items()}
    best = {
        "every_stream": min(cpu["every stream"], cpu["every stream again"]),
        "index": min(cpu["index"], cpu["index again"]),
    }
    summary = {
        "streams": len(streams),
        "communities": len(places),
        "events": len(events),
        "deliveries_per_event": round(delivered / len(events), 1),
        "cpu_us_per_event": best,
        "ratio": round(best["every_stream"] / best["index"], 1),
        "runs": results,
        "python": platform.python_version(),
    }
    print(
        f"{len(streams):,} streams, {len(places):,} communities, {len(events):,} events "
        f"({summary['deliveries_per_event']} streams see each): index {best['index']:,.1f} µs, "
        f"every stream {best['every_stream']:,.1f} µs per event ({summary['ratio']}×)"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
