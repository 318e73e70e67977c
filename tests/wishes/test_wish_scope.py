"""Who sees which micro-wish, and who sees how to reach its resident.

Staff see their community's wishes, supervisors their regions', volunteers their communities'
from publication on, residents their own. The contact (name, phone, address) goes only to the
resident, to whoever typed it in for them, and to the volunteer holding the wish — never to
other staff, supervisors or administrators, and never onto the event feed."""

from __future__ import annotations

import json

import pytest

from app.models.enums import Role, WishStatus
from app.wishes.transitions import WishAction
from tests.wishes.conftest import EAST, NORTH, TOUDAOQIAO, Json, Wishes, answer, problem

EVERY_STATUS = list(WishStatus)
# Reviewed, or never to be: what a community's volunteers do not see.
UNPUBLISHED = (WishStatus.submitted, WishStatus.declined, WishStatus.withdrawn)
# From publication on, whoever holds them.
PUBLISHED_ON = (WishStatus.published, WishStatus.claimed, WishStatus.fulfilled)


async def _one_of_each(wishes: Wishes, statuses: list[WishStatus]) -> dict[WishStatus, Json]:
    return {status: await wishes.drive(status, phone="13804781234") for status in statuses}


@pytest.mark.parametrize("username", ["staff2", "courier3", "courier5", "courier11", "vol_north"])
async def test_people_of_other_communities_see_nothing(wishes: Wishes, username: str) -> None:
    """Staff of 北街社区, couriers checked in elsewhere (or not yet approved), a volunteer of
    北街社区: no wish of 东街社区 listed, read or acted on."""
    await wishes.make_user("vol_north", Role.volunteer, NORTH)
    made = await _one_of_each(wishes, EVERY_STATUS)
    assert await wishes.listed(username) == []
    assert await wishes.listed(username, community_id=str(EAST)) == []
    for status, wish in made.items():
        problem(await wishes.get(f"/wishes/{wish['id']}", username), 404, "not_found")
        for action in WishAction:
            refused = await wishes.act(wish["id"], action, username)
            problem(refused, 404, "not_found")
        assert (await wishes.row(wish["id"])).status is status


@pytest.mark.parametrize("username", ["grid1", "courier1", "courier2", "vol_east"])
async def test_volunteers_see_no_wish_before_it_is_published(wishes: Wishes, username: str) -> None:
    await wishes.make_user("vol_east", Role.volunteer, EAST)
    before = await wishes.listed(username)  # the demo's published wishes of 东街社区
    made = await _one_of_each(wishes, [*UNPUBLISHED, WishStatus.published])
    published = made[WishStatus.published]["id"]
    assert await wishes.listed(username) == [published, *before]
    for status in UNPUBLISHED:
        assert await wishes.listed(username, status=status.value) == []
        problem(await wishes.get(f"/wishes/{made[status]['id']}", username), 404, "not_found")
    seen = await wishes.read(published, username)
    assert (seen["contact"], seen["actions"]) == (None, ["claim"])


@pytest.mark.parametrize("status", [WishStatus.claimed, WishStatus.fulfilled, WishStatus.confirmed])
async def test_volunteers_see_where_the_published_wishes_went(
    wishes: Wishes, status: WishStatus
) -> None:
    """A community's volunteers see its wishes from publication on (app/wishes/scope.py:
    ``VOLUNTEER_VISIBLE``): one claimed by a colleague is shown as taken, without the
    resident's contact and with nothing to do."""
    wish = await wishes.drive(status, phone="13804781234")
    for username in ("grid1", "courier2"):
        seen = await wishes.get(f"/wishes/{wish['id']}", username)
        body = answer(seen)
        assert (body["status"], body["contact"], body["actions"]) == (status.value, None, [])
        assert wish["id"] in await wishes.listed(username)


async def test_a_resident_sees_only_their_own_wishes(wishes: Wishes) -> None:
    await wishes.register("resident_b", phone="13904781111")
    before = await wishes.listed("resident1")  # the demo's wish of resident1's
    own = await wishes.create("resident1", phone="13804781234")
    theirs = await wishes.create("resident_b", title="帮忙取药")
    assert theirs["contact"] == {"name": "居民resident_b", "phone": "13904781111", "address": None}
    published = await wishes.drive(WishStatus.published)
    assert await wishes.listed("resident_b") == [theirs["id"]]
    assert await wishes.listed("resident1") == [published["id"], own["id"], *before]
    assert await wishes.listed("resident1", mine="true") == [published["id"], own["id"], *before]
    for reader, other in (("resident_b", own), ("resident1", theirs)):
        problem(await wishes.get(f"/wishes/{other['id']}", reader), 404, "not_found")
        problem(await wishes.act(other["id"], WishAction.withdraw, reader), 404, "not_found")
    problem(await wishes.act(published["id"], WishAction.claim, "resident_b"), 404, "not_found")
    assert (await wishes.row(own["id"])).status is WishStatus.submitted


async def test_the_claimant_lists_what_they_hold(wishes: Wishes) -> None:
    on_offer = await wishes.listed("courier1", status="published")  # the demo's
    held = await wishes.drive(WishStatus.claimed)
    open_one = await wishes.drive(WishStatus.published)
    assert await wishes.listed("courier1", mine="true") == [held["id"]]
    assert await wishes.listed("courier1") == [open_one["id"], held["id"], *on_offer]
    assert await wishes.listed("courier1", status="published") == [open_one["id"], *on_offer]
    assert await wishes.listed("courier1", status="claimed") == [held["id"]]


@pytest.mark.parametrize("username", ["supervisor", "supervisor2", "viewer"])
async def test_the_region_sees_every_wish_but_no_contact(wishes: Wishes, username: str) -> None:
    before = await wishes.listed(username)  # the demo's wishes of 东街社区
    made = await _one_of_each(wishes, EVERY_STATUS)
    items = answer(await wishes.get("/wishes", username, limit=100))["items"]
    assert [item["id"] for item in items] == [
        *(wish["id"] for wish in reversed(made.values())),
        *before,
    ]
    assert {item["status"] for item in items} >= {status.value for status in EVERY_STATUS}
    assert [item["contact"] for item in items] == [None] * len(items)
    for wish in made.values():
        assert (await wishes.read(wish["id"], username))["contact"] is None


async def test_a_supervisor_of_another_region_sees_nothing(wishes: Wishes) -> None:
    await wishes.make_user("supervisor_tdq", Role.supervisor, TOUDAOQIAO)
    wish = await wishes.drive(WishStatus.published)
    assert await wishes.listed("supervisor_tdq") == []
    problem(await wishes.get(f"/wishes/{wish['id']}", "supervisor_tdq"), 404, "not_found")


async def test_the_contact_goes_to_the_resident_and_the_claimant_only(wishes: Wishes) -> None:
    contact = {"name": "吴桂兰", "phone": "13804781234", "address": "东街 3 号楼 401"}
    wish = await wishes.drive(WishStatus.published, phone="13804781234", address="东街 3 号楼 401")

    async def contact_of(username: str) -> Json | None:
        seen = await wishes.read(wish["id"], username)
        listed = answer(await wishes.get("/wishes", username, limit=100))["items"]
        assert [item["contact"] for item in listed if item["id"] == wish["id"]] == [seen["contact"]]
        shown: Json | None = seen["contact"]
        return shown

    nobody_else = ("staff1", "admin", "supervisor", "grid1")
    assert await contact_of("resident1") == contact
    for username in (*nobody_else, "courier1"):
        assert await contact_of(username) is None, username
    answer(await wishes.act(wish["id"], WishAction.claim, "courier1"))
    for status in (WishStatus.claimed, WishStatus.fulfilled, WishStatus.confirmed):
        if status is WishStatus.fulfilled:
            answer(await wishes.act(wish["id"], WishAction.fulfil, "courier1"))
        if status is WishStatus.confirmed:
            answer(await wishes.act(wish["id"], WishAction.confirm, "resident1"))
        assert await contact_of("courier1") == contact, status
        assert await contact_of("resident1") == contact, status
        for username in ("staff1", "admin", "supervisor"):
            assert await contact_of(username) is None, (username, status)


async def test_the_contact_of_a_wish_posted_for_someone_stays_with_its_poster(
    wishes: Wishes,
) -> None:
    await wishes.make_user("staff_east2", Role.community_staff, EAST)
    posted = await wishes.create("staff1", resident_name="王大爷", phone="13904780000")
    assert posted["contact"] == {"name": "王大爷", "phone": "13904780000", "address": None}
    assert (await wishes.read(posted["id"], "staff1"))["contact"] is not None
    colleague = await wishes.read(posted["id"], "staff_east2")
    assert colleague["contact"] is None
    assert colleague["actions"] == ["publish", "decline", "withdraw"]
    assert (await wishes.read(posted["id"], "admin"))["contact"] is None


async def test_wish_events_never_carry_the_contact(wishes: Wishes) -> None:
    secrets = ("13904785555", "东街平房区 7 排 12 号", "独居的刘奶奶")
    phone, address, name = secrets
    wish = await wishes.create(
        "staff1", resident_name=name, phone=phone, address=address, title="帮忙买菜"
    )
    for action, username in (
        (WishAction.publish, "staff1"),
        (WishAction.claim, "courier1"),
        (WishAction.fulfil, "courier1"),
        (WishAction.confirm, "admin"),  # a second person confirms a wish staff posted
    ):
        answer(await wishes.act(wish["id"], action, username))
    recent = await wishes.get("/events/recent", "staff1", limit=100)
    text = recent.text
    ours = [e for e in answer(recent)["items"] if (e.get("wish") or {}).get("id") == wish["id"]]
    assert [(e["type"], e["wish"]["status"]) for e in ours] == [
        ("wish.confirm", "confirmed"),
        ("wish.fulfil", "fulfilled"),
        ("wish.claim", "claimed"),
        ("wish.publish", "published"),
        ("wish.submitted", "submitted"),
    ]
    for event in ours:
        assert event["wish"] == {
            "id": wish["id"],
            "status": event["wish"]["status"],
            "title": "帮忙买菜",
            "community_id": str(EAST),
        }
    for secret in secrets:
        assert secret not in text
        assert json.dumps(secret)[1:-1] not in text  # nor escaped
    for outsider in ("staff2", "courier3"):
        theirs = (await wishes.get("/events/recent", outsider, limit=100)).text
        assert wish["id"] not in theirs, outsider


async def test_a_resident_follows_the_events_of_their_own_wish(wishes: Wishes) -> None:
    wish = await wishes.drive(WishStatus.claimed, phone="13804789999", address="东街 5 号")
    recent = await wishes.get("/events/recent", "resident1", limit=100)
    ours = [
        e["type"] for e in answer(recent)["items"] if (e.get("wish") or {}).get("id") == wish["id"]
    ]
    assert ours == ["wish.claim", "wish.publish", "wish.submitted"]
    assert "13804789999" not in recent.text
    assert "东街 5 号" not in recent.text


async def test_a_grid_workers_event_feed_shows_no_wish_they_may_not_read(
    wishes: Wishes,
) -> None:
    """Volunteers do not see wishes under review, declined or withdrawn; the event feed must
    not show them either (the events carry the wish's title and status)."""
    hidden = {
        status: await wishes.drive(status, title=f"心愿-{status.value}") for status in UNPUBLISHED
    }
    staff_feed = (await wishes.get("/events/recent", "staff1", limit=100)).text
    grid_feed = (await wishes.get("/events/recent", "grid1", limit=100)).text
    for status, wish in hidden.items():
        problem(await wishes.get(f"/wishes/{wish['id']}", "grid1"), 404, "not_found")
        assert wish["id"] in staff_feed
        assert wish["id"] not in grid_feed, status
        assert f"心愿-{status.value}" not in grid_feed, status
