"""Micro-wishes (微心愿) end to end: 居民点单 → 社区审核 → 志愿者接单 → 圆梦 → 居民确认, and the
turns a wish may take on the way (declined, given up, reopened, confirmed by staff), the claim
race, and what a wish refuses to be posted or fulfilled with."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest

from app.demo.seed import demo_id
from app.models.enums import Role, WishStatus
from app.wishes.transitions import WishAction
from tests.wishes.conftest import EAST, Json, Wishes, answer, problem

A = WishAction


async def _points_of(wishes: Wishes, username: str) -> Json:
    return answer(await wishes.get("/points/me", username))


async def _posted_and_published(wishes: Wishes) -> str:
    """居民点单 → 社区审核: resident1's wish, with a photo, published by staff1; its id."""
    posted = await wishes.create(
        title="帮忙更换楼道灯泡",
        description="独居老人，够不着",
        address="东街社区 3 号楼 2 单元 401",
        phone="13804781234",
        photo_id=await wishes.upload("resident1"),
    )
    assert posted["status"] == "submitted"
    assert posted["community"] == {"id": str(EAST), "name": "东街社区"}
    assert posted["contact"] == {
        "name": "吴桂兰",
        "phone": "13804781234",
        "address": "东街社区 3 号楼 2 单元 401",
    }
    assert posted["picture"] is not None
    assert posted["actions"] == ["withdraw"]
    wish_id: str = posted["id"]
    assert (await wishes.read(wish_id, "staff1"))["actions"] == ["publish", "decline", "withdraw"]
    assert answer(await wishes.act(wish_id, A.publish, "staff1"))["status"] == "published"
    row = await wishes.row(wish_id)
    assert (row.status, row.resident_id, row.reviewed_by_id) == (
        WishStatus.published,
        demo_id("user", "resident1"),
        demo_id("user", "staff1"),
    )
    return wish_id


async def test_a_wish_from_posting_to_thanks(wishes: Wishes) -> None:
    wish_id = await _posted_and_published(wishes)
    assert (await wishes.read(wish_id, "courier1"))["actions"] == ["claim"]
    claimed = answer(await wishes.act(wish_id, A.claim, "courier1"))
    assert claimed["claimant"] == {"id": str(demo_id("user", "courier1")), "display_name": "孙浩"}
    assert claimed["contact"]["phone"] == "13804781234"
    assert claimed["actions"] == ["release", "fulfil"]
    balance = (await _points_of(wishes, "courier1"))["balance"]
    done = answer(await wishes.act(wish_id, A.fulfil, "courier1"))
    assert (done["status"], done["fulfilment_note"]) == ("fulfilled", "灯泡已换好")
    assert done["fulfilment_picture"] is not None
    assert await wishes.wish_points("courier1") == []
    assert (await wishes.read(wish_id, "resident1"))["actions"] == ["confirm", "reopen"]
    confirmed = answer(await wishes.act(wish_id, A.confirm, "resident1"))
    assert (confirmed["status"], confirmed["actions"]) == ("confirmed", ["thank"])
    assert await wishes.wish_points("courier1") == [(uuid.UUID(wish_id), 10, 10)]
    mine = await _points_of(wishes, "courier1")
    assert mine["balance"] == balance + 10
    assert [(e["rule"], e["points"], e["wish_id"]) for e in mine["items"][:1]] == [
        ("wish_fulfilled", 10, wish_id)
    ]
    thanked = answer(await wishes.act(wish_id, A.thank, "resident1"))
    assert (thanked["status"], thanked["thanks_note"], thanked["actions"]) == (
        "confirmed",
        "谢谢小伙子！",
        [],
    )
    again = await wishes.act(wish_id, A.thank, "resident1", {"note": "再次感谢"})
    problem(again, 409, "conflict")
    row = await wishes.row(wish_id)
    assert (row.status, row.thanks_note) == (WishStatus.confirmed, "谢谢小伙子！")
    assert row.confirmed_by_id == demo_id("user", "resident1")
    assert await wishes.wish_points("courier1") == [(uuid.UUID(wish_id), 10, 10)]
    assert [t for t, _ in await wishes.events_of(wish_id)] == [
        "wish.submitted",
        "wish.publish",
        "wish.claim",
        "wish.fulfil",
        "wish.confirm",
        "wish.thank",
    ]


async def test_the_resident_reads_why_a_wish_was_declined(wishes: Wishes) -> None:
    wish = await wishes.create()
    reason = {"reason": "不属于微心愿的范围，请拨打 12345"}
    declined = answer(await wishes.act(wish["id"], A.decline, "staff1", reason))
    assert declined["status"] == "declined"
    seen = await wishes.read(wish["id"], "resident1")
    assert (seen["status"], seen["decline_reason"], seen["actions"]) == (
        "declined",
        "不属于微心愿的范围，请拨打 12345",
        [],
    )
    assert seen["reviewed_at"] is not None
    row = await wishes.row(wish["id"])
    assert (row.decline_reason, row.reviewed_by_id) == (reason["reason"], demo_id("user", "staff1"))
    problem(await wishes.act(wish["id"], A.decline, "staff1", {}), 422, "validation_error")


@pytest.mark.parametrize("releaser", ["courier1", "staff1"])
async def test_a_released_wish_is_claimable_again_without_the_contact(
    wishes: Wishes, releaser: str
) -> None:
    wish = await wishes.drive(WishStatus.claimed, phone="13804781234")
    assert (await wishes.read(wish["id"], "courier1"))["contact"] is not None
    released = answer(await wishes.act(wish["id"], A.release, releaser))
    assert (released["status"], released["claimant"], released["claimed_at"]) == (
        "published",
        None,
        None,
    )
    former = await wishes.read(wish["id"], "courier1")
    assert (former["contact"], former["actions"]) == (None, ["claim"])
    assert (await wishes.read(wish["id"], "courier2"))["actions"] == ["claim"]
    row = await wishes.row(wish["id"])
    assert (row.status, row.claimant_id) == (WishStatus.published, None)
    taken = answer(await wishes.act(wish["id"], A.claim, "courier2"))
    assert taken["contact"]["phone"] == "13804781234"
    former_view = await wishes.get(f"/wishes/{wish['id']}", "courier1")
    assert former_view.status_code == 404 or former_view.json()["contact"] is None
    assert (await wishes.row(wish["id"])).claimant_id == demo_id("user", "courier2")


async def test_a_reopened_wish_goes_back_to_its_claimant(wishes: Wishes) -> None:
    wish = await wishes.drive(WishStatus.fulfilled)
    problem(await wishes.act(wish["id"], A.reopen, "resident1", {}), 422, "validation_error")
    reopened = answer(await wishes.act(wish["id"], A.reopen, "resident1"))
    assert (reopened["status"], reopened["fulfilled_at"]) == ("claimed", None)
    assert reopened["claimant"]["id"] == str(demo_id("user", "courier1"))
    claimant = await wishes.read(wish["id"], "courier1")
    assert claimant["actions"] == ["release", "fulfil"]
    assert claimant["contact"] is not None
    row = await wishes.row(wish["id"])
    assert (row.status, row.claimant_id, row.fulfilled_at) == (
        WishStatus.claimed,
        demo_id("user", "courier1"),
        None,
    )
    again = answer(await wishes.act(wish["id"], A.fulfil, "courier1", None))
    assert again["status"] == "fulfilled"
    assert await wishes.wish_points("courier1") == []


async def test_staff_confirm_for_a_silent_resident_after_the_time_out(wishes: Wishes) -> None:
    for username in ("resident1", "staff1", "courier1"):
        await wishes.headers(username)  # signed in before the clock runs ahead
    clock = wishes.freeze_clock()
    wish = await wishes.drive(WishStatus.fulfilled)
    fulfilled_at = datetime.fromisoformat(wish["fulfilled_at"])
    assert fulfilled_at == clock.at
    staff = await wishes.read(wish["id"], "staff1")
    assert datetime.fromisoformat(staff["staff_may_confirm_at"]) == clock.at + timedelta(days=3)
    assert staff["actions"] == []
    problem(await wishes.act(wish["id"], A.confirm, "staff1"), 409, "conflict")
    clock.advance(days=3, seconds=-1)
    problem(await wishes.act(wish["id"], A.confirm, "staff1"), 409, "conflict")
    assert (await wishes.row(wish["id"])).status is WishStatus.fulfilled
    clock.advance(seconds=2)
    assert (await wishes.read(wish["id"], "staff1"))["actions"] == ["confirm"]
    confirmed = answer(await wishes.act(wish["id"], A.confirm, "staff1"))
    assert (confirmed["status"], confirmed["staff_may_confirm_at"]) == ("confirmed", None)
    row = await wishes.row(wish["id"])
    assert (row.status, row.confirmed_by_id) == (WishStatus.confirmed, demo_id("user", "staff1"))
    assert row.confirmed_at == clock.at
    assert await wishes.wish_points("courier1") == [(uuid.UUID(wish["id"]), 10, 10)]


async def test_staff_confirm_at_once_for_a_resident_without_an_account(wishes: Wishes) -> None:
    """For a resident without an account another member of staff confirms at once; the one
    who posted it may not (a second person sees to it), nor may the volunteer."""
    await wishes.make_user("staff_east2", Role.community_staff, EAST)
    posted = await wishes.create("staff1", resident_name="王大爷", phone="13904780000")
    assert posted["contact"] == {"name": "王大爷", "phone": "13904780000", "address": None}
    row = await wishes.row(posted["id"])
    assert (row.resident_id, row.posted_by_id) == (None, demo_id("user", "staff1"))
    wish_id: str = posted["id"]
    for action, username in ((A.publish, "staff1"), (A.claim, "courier1")):
        answer(await wishes.act(wish_id, action, username))
    done = answer(await wishes.act(wish_id, A.fulfil, "courier1"))
    assert done["staff_may_confirm_at"] == done["fulfilled_at"]
    assert (await wishes.read(wish_id, "staff1"))["actions"] == []
    refused = problem(await wishes.act(wish_id, A.confirm, "staff1"), 403, "forbidden")
    assert "Another member of staff" in refused["detail"]
    assert (await wishes.read(wish_id, "staff_east2"))["actions"] == ["confirm"]
    confirmed = answer(await wishes.act(wish_id, A.confirm, "staff_east2"))
    assert confirmed["status"] == "confirmed"
    assert (await wishes.row(wish_id)).confirmed_by_id == wishes.user_id("staff_east2")
    assert await wishes.wish_points("courier1") == [(uuid.UUID(wish_id), 10, 10)]


async def test_nobody_earns_points_from_a_wish_they_posted_reviewed_or_did(
    wishes: Wishes,
) -> None:
    """Staff who are also volunteers (a grid worker's role besides) cannot claim a wish they
    posted or published, and a volunteer who is also staff cannot confirm their own work."""
    await wishes.make_user("both_east", Role.community_staff, EAST)
    await wishes.grant("both_east", Role.grid_worker, EAST)
    posted = await wishes.create("both_east", resident_name="虚构", phone="13904780001")
    answer(await wishes.act(posted["id"], A.publish, "both_east"))
    refused = problem(await wishes.act(posted["id"], A.claim, "both_east"), 403, "forbidden")
    assert "another volunteer" in refused["detail"]
    reviewed = await wishes.drive(WishStatus.submitted)
    answer(await wishes.act(reviewed["id"], A.publish, "both_east"))
    problem(await wishes.act(reviewed["id"], A.claim, "both_east"), 403, "forbidden")

    theirs = await wishes.drive(WishStatus.published)
    answer(await wishes.act(theirs["id"], A.claim, "both_east"))
    answer(await wishes.act(theirs["id"], A.fulfil, "both_east"))
    assert await wishes.wish_points("both_east") == []
    refused = problem(await wishes.act(theirs["id"], A.confirm, "both_east"), 403, "forbidden")
    assert "own work" in refused["detail"]


async def test_every_kind_of_volunteer_may_claim(wishes: Wishes) -> None:
    """Grid workers, registered volunteers and couriers checked in with the community claim;
    a courier whose check-in is still pending does not even see the wish."""
    await wishes.make_user("vol_east", Role.volunteer, EAST)
    for username in ("grid1", "vol_east", "courier2"):
        wish = await wishes.drive(WishStatus.published)
        claimed = answer(await wishes.act(wish["id"], A.claim, username))
        assert claimed["claimant"]["id"] == str(wishes.user_id(username))
    wish = await wishes.drive(WishStatus.published)
    problem(await wishes.act(wish["id"], A.claim, "courier11"), 404, "not_found")
    problem(await wishes.act(wish["id"], A.claim, "resident1"), 403, "forbidden")


async def test_a_volunteer_does_not_claim_their_own_wish(wishes: Wishes) -> None:
    own = await wishes.create("grid1", title="帮我搬个柜子")
    answer(await wishes.act(own["id"], A.publish, "staff1"))
    assert (await wishes.read(own["id"], "grid1"))["actions"] == ["withdraw"]
    problem(await wishes.act(own["id"], A.claim, "grid1"), 403, "forbidden")
    assert (await wishes.row(own["id"])).status is WishStatus.published


async def test_two_volunteers_claiming_at_once_one_wins(wishes: Wishes) -> None:
    wish = await wishes.drive(WishStatus.published)
    for username in ("courier1", "courier2"):
        await wishes.headers(username)
    first, second = await asyncio.gather(
        wishes.act(wish["id"], A.claim, "courier1"), wishes.act(wish["id"], A.claim, "courier2")
    )
    answers = {"courier1": first, "courier2": second}
    winners = [u for u, r in answers.items() if r.status_code == 200]
    assert len(winners) == 1, [r.text for r in answers.values()]
    (loser,) = set(answers) - set(winners)
    assert answers[loser].status_code == 409, answers[loser].text
    assert answers[loser].json()["code"] == "invalid_transition"
    row = await wishes.row(wish["id"])
    assert (row.status, row.claimant_id) == (WishStatus.claimed, wishes.user_id(winners[0]))
    assert [t for t, _ in await wishes.events_of(wish["id"])].count("wish.claim") == 1


async def test_a_second_volunteer_finds_the_wish_already_claimed(wishes: Wishes) -> None:
    wish = await wishes.drive(WishStatus.claimed)
    refused = problem(await wishes.act(wish["id"], A.claim, "courier2"), 409, "invalid_transition")
    assert "claimed" in refused["detail"]
    assert (await wishes.row(wish["id"])).claimant_id == demo_id("user", "courier1")


async def test_a_wish_is_fulfilled_only_with_the_claimants_own_upload(wishes: Wishes) -> None:
    wish = await wishes.drive(WishStatus.claimed)
    theirs = await wishes.upload("courier2")
    refused = await wishes.act(wish["id"], A.fulfil, "courier1", {"photo_id": theirs})
    body = problem(refused, 422, "validation_error")
    assert [e["loc"] for e in body["errors"]] == [["body", "photo_id", 0]]
    problem(await wishes.act(wish["id"], A.fulfil, "courier1", {}), 422, "validation_error")
    row = await wishes.row(wish["id"])
    assert (row.status, row.fulfilment_picture_id) == (WishStatus.claimed, None)
    done = answer(await wishes.act(wish["id"], A.fulfil, "courier1"))
    assert done["fulfilment_picture"]["id"] != theirs


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"title": ""}, ["body", "title"]),
        ({"community_id": str(uuid.uuid4())}, ["body", "community_id"]),
        ({"phone": "123"}, ["body", "phone"]),
        ({"resident_name": "王大爷"}, ["body", "phone"]),
        ({"photo_id": str(uuid.uuid4())}, ["body", "photo_id", 0]),
        ({"needed_by": "2020-01-01"}, ["body", "needed_by"]),
    ],
    ids=[
        "empty title",
        "unknown community",
        "short phone",
        "no phone for",
        "unknown photo",
        "needed by a past day",
    ],
)
async def test_a_wish_that_cannot_be_posted(wishes: Wishes, fields: Json, loc: list[str]) -> None:
    count = await wishes.wish_count()
    body = {"community_id": str(EAST), "title": "帮忙更换楼道灯泡", **fields}
    refused = problem(await wishes.post("/wishes", "staff1", body), 422, "validation_error")
    assert loc in [e["loc"] for e in refused["errors"]], refused
    assert await wishes.wish_count() == count


@pytest.mark.parametrize("username", ["courier1", "grid1", "resident1", "staff2", "supervisor"])
async def test_only_the_communitys_staff_post_for_someone_else(
    wishes: Wishes, username: str
) -> None:
    count = await wishes.wish_count()
    body = {
        "community_id": str(EAST),
        "title": "买菜",
        "resident_name": "王大爷",
        "phone": "13904780000",
    }
    problem(await wishes.post("/wishes", username, body), 403, "forbidden")
    assert await wishes.wish_count() == count
