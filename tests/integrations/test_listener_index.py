"""The index of open streams finds, for every event, each stream its rule lets see it: the
same streams as offering every event to every stream, with random callers and events."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from app.auth.principal import Principal, RoleGrant
from app.integrations.audience import Audience, ListenerIndex, LiveEvent
from app.models.enums import Role, ScopeType

BANNER = "/b/"
TOWNSHIPS = [f"{BANNER}t{n}/" for n in range(4)]
COMMUNITIES = [uuid.UUID(int=n + 1) for n in range(12)]
UNITS = [uuid.UUID(int=100 + n) for n in range(5)]
USERS = [uuid.UUID(int=1000 + n) for n in range(8)]
TYPES = ["report.accept", "job.accept", "wish.publish"]


@dataclass(eq=False)
class Stream:
    audience: Audience


def _grant(rng: random.Random) -> RoleGrant:
    role = rng.choice(
        [Role.admin, Role.supervisor, Role.viewer, Role.community_staff, Role.grid_worker,
         Role.unit_staff, Role.courier, Role.reporter]
    )  # fmt: skip
    if role in (Role.supervisor, Role.viewer):
        path = rng.choice([BANNER, *TOWNSHIPS])
        return RoleGrant(role, ScopeType.region, uuid.uuid4(), "区域", scope_path=path)
    if role in (Role.community_staff, Role.grid_worker):
        return RoleGrant(role, ScopeType.community, rng.choice(COMMUNITIES), "社区")
    if role is Role.unit_staff:
        return RoleGrant(role, ScopeType.unit, rng.choice(UNITS), "单位")
    return RoleGrant(role, None, None, None)


def _principal(rng: random.Random) -> Principal:
    grants = tuple(_grant(rng) for _ in range(rng.randint(0, 2)))
    user = rng.choice([*USERS, None])
    return Principal(user_id=user, username=None, grants=grants)


def _event(rng: random.Random, number: int) -> LiveEvent:
    township = rng.choice(TOWNSHIPS)
    return LiveEvent(
        id=number,
        type=rng.choice(TYPES),
        community_id=rng.choice([*COMMUNITIES, None]),
        region_path=rng.choice([f"{township}c{rng.randint(0, 3)}/", township, BANNER, None]),
        unit_ids=frozenset(str(u) for u in rng.sample(UNITS, rng.randint(0, 2))),
        reporter_id=rng.choice([*USERS, None]),
        data="{}",
    )


def test_the_index_finds_every_stream_that_may_see_an_event() -> None:
    rng = random.Random(20261205)
    streams = [Stream(Audience(_principal(rng))) for _ in range(400)]
    index: ListenerIndex[Stream] = ListenerIndex()
    for stream in streams:
        index.add(stream)
    for number in range(2_000):
        event = _event(rng, number)
        seeing = {id(s) for s in streams if s.audience.sees(event)}
        found = index.candidates(event)
        assert seeing <= {id(s) for s in found}, event
    # Gone streams are found no more; the others still are.
    for stream in streams[::2]:
        index.discard(stream)
    assert len(index) == 200
    for number in range(500):
        event = _event(rng, number)
        ids = {id(s) for s in index.candidates(event)}
        assert not ids & {id(s) for s in streams[::2]}
        assert {id(s) for s in streams[1::2] if s.audience.sees(event)} <= ids


def test_the_index_narrows() -> None:
    """A community's staff are not offered another community's events."""
    staff = [
        Stream(
            Audience(
                Principal(
                    user_id=uuid.uuid4(),
                    username=None,
                    grants=(RoleGrant(Role.community_staff, ScopeType.community, c, "社区"),),
                )
            )
        )
        for c in COMMUNITIES
    ]
    index: ListenerIndex[Stream] = ListenerIndex()
    for stream in staff:
        index.add(stream)
    event = LiveEvent(1, "report.accept", COMMUNITIES[3], None, frozenset(), None, "{}")
    assert index.candidates(event) == {staff[3]}
