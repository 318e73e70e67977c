"""The state machine of a micro-wish, walked pair by pair through the API: every status a wish
can be in, against every action there is.

A pair in ``WISH_TRANSITIONS`` moves the wish to the table's status when one of its actors
takes it (and lists it among the actor's ``actions`` beforehand); anyone else is refused — 403
when they can see the wish, 404 when they cannot — and the wish stays as it was. A pair outside
the table is refused with 409 ``invalid_transition`` to everyone who can see the wish, and
nothing is touched."""

from __future__ import annotations

import pytest

from app.models.enums import WishStatus
from app.wishes.transitions import (
    FINAL_WISH_STATUSES,
    WISH_TRANSITIONS,
    WishAction,
    WishActor,
    WishRule,
)
from tests.wishes.conftest import CLAIMED_STATUSES, PATHS, Wishes, answer, problem

# Who acts for each part: the resident who posted it, the staff of its community, and the
# courier checked in with it, who claims it (and so is its claimant from then on).
ACTOR_USER = {
    WishActor.resident: "resident1",
    WishActor.staff: "staff1",
    WishActor.volunteer: "courier1",
    WishActor.claimant: "courier1",
}
# Everyone who might try, by the parts they play in a wish of resident1's at 东街社区 that
# courier1 claims: the administrator acts as staff anywhere; the supervisor of the banner sees
# every wish but plays no part; staff2 and courier3 belong to other communities.
CALLERS = ("resident1", "staff1", "admin", "courier1", "grid1", "supervisor", "staff2", "courier3")
# Who sees every wish of the cast (refused with 403), who never sees one (404); the community's
# volunteers see it by its status (tests/wishes/test_wish_scope.py).
ALWAYS_SEE = frozenset({"resident1", "staff1", "admin", "supervisor"})
NEVER_SEE = frozenset({"staff2", "courier3"})


def parts(username: str, status: WishStatus) -> frozenset[WishActor]:
    """The parts ``username`` plays in a wish of the cast that is in ``status``."""
    courier1 = {WishActor.volunteer}
    if status in CLAIMED_STATUSES:
        courier1.add(WishActor.claimant)
    played: dict[str, set[WishActor]] = {
        "resident1": {WishActor.resident},
        "staff1": {WishActor.staff},
        "admin": {WishActor.staff},
        "courier1": courier1,
        "grid1": {WishActor.volunteer},
    }
    return frozenset(played.get(username, set()))


PAIRS = [(status, action) for status in WishStatus for action in WishAction]


@pytest.mark.parametrize(("status", "action"), PAIRS)
async def test_every_status_against_every_action(
    wishes: Wishes, status: WishStatus, action: WishAction
) -> None:
    rule = WISH_TRANSITIONS.get((status, action))
    if rule is None:
        await _invalid_for_everyone(wishes, status, action)
        return
    await _refused_to_the_others(wishes, status, action, rule)
    for actor in sorted(rule.actors):
        await _taken_by(wishes, status, action, actor, rule)


async def _taken_by(
    wishes: Wishes, status: WishStatus, action: WishAction, actor: WishActor, rule: WishRule
) -> None:
    """The actor takes the action on a wish of its own: the table's status, written down and
    announced."""
    wish = await wishes.drive(status)
    username = ACTOR_USER[actor]
    if action is WishAction.confirm and actor is WishActor.staff:
        # Staff confirm for a resident with an account only once the time-out has passed.
        wishes.freeze_clock().advance(days=3, minutes=1)
    assert action.value in (await wishes.read(wish["id"], username))["actions"], (actor, status)
    events_before = await wishes.events_of(wish["id"])
    moved = answer(await wishes.act(wish["id"], action, username))
    assert moved["status"] == rule.to.value
    assert action.value not in moved["actions"]
    assert (await wishes.row(wish["id"])).status is rule.to
    events = await wishes.events_of(wish["id"])
    assert events == [*events_before, (f"wish.{action.value}", rule.to.value)]


async def _refused_to_the_others(
    wishes: Wishes, status: WishStatus, action: WishAction, rule: WishRule
) -> None:
    """Everyone who plays none of the rule's parts is refused: 403 when they can see the wish
    (and it is not among their actions), 404 when they cannot."""
    wish = await wishes.drive(status)
    before = await wishes.row(wish["id"])
    others = [u for u in CALLERS if parts(u, status).isdisjoint(rule.actors)]
    assert others, (status, action)
    for username in others:
        seen = await wishes.get(f"/wishes/{wish['id']}", username)
        if username in ALWAYS_SEE or WishActor.claimant in parts(username, status):
            assert seen.status_code == 200, (username, seen.text)
        if username in NEVER_SEE:
            assert seen.status_code == 404, (username, seen.text)
        if seen.status_code == 200:
            assert action.value not in seen.json()["actions"], username
            problem(await wishes.act(wish["id"], action, username), 403, "forbidden")
        else:
            problem(seen, 404, "not_found")
            problem(await wishes.act(wish["id"], action, username), 404, "not_found")
    assert await wishes.row(wish["id"]) == before
    assert [e for e, _ in await wishes.events_of(wish["id"])] == _event_types(status)


async def _invalid_for_everyone(wishes: Wishes, status: WishStatus, action: WishAction) -> None:
    """Not in the table: refused as an invalid transition to everyone who sees the wish, even
    to those who could take it in another status; nothing changes."""
    wish = await wishes.drive(status)
    before = await wishes.row(wish["id"])
    callers = ["resident1", "staff1", "admin", "supervisor"]
    if status in CLAIMED_STATUSES:
        callers.append("courier1")
    if status is WishStatus.published:
        callers += ["courier1", "grid1"]
    for username in callers:
        assert action.value not in (await wishes.read(wish["id"], username))["actions"]
        refused = problem(await wishes.act(wish["id"], action, username), 409, "invalid_transition")
        assert status.value in refused["detail"], refused
    assert await wishes.row(wish["id"]) == before
    assert [e for e, _ in await wishes.events_of(wish["id"])] == _event_types(status)


def _event_types(status: WishStatus) -> list[str]:
    """The events a wish driven to ``status`` has written."""
    return ["wish.submitted", *(f"wish.{action.value}" for action, _ in PATHS[status])]


def test_the_final_statuses_lead_nowhere_but_to_a_thank_you() -> None:
    """Declined, withdrawn and confirmed wishes stay so: the only action left is the resident's
    note of thanks, which keeps the wish confirmed."""
    leaving = {
        (status, action): rule
        for (status, action), rule in WISH_TRANSITIONS.items()
        if status in FINAL_WISH_STATUSES
    }
    assert list(leaving) == [(WishStatus.confirmed, WishAction.thank)]
    assert leaving[(WishStatus.confirmed, WishAction.thank)].to is WishStatus.confirmed
