"""How the matrix calls the points store (积分超市) and the micro-wishes (微心愿), in the manner of
``operations.py`` (which imports this module, so that its operations are in ``OPS``).

The objects of a column are its community's: the standing reward on its shelf, the purchase of
it by the place's volunteer (courier1 in 东街社区, a volunteer of 东风社区 in the other county),
the published wish; an action gets a new reward, purchase or wish in the status it needs, made
by the world's factories the ordinary way (``World.reward``, ``redemption``, ``wish``)."""

from __future__ import annotations

from typing import Any

from tests.authorization.operations import Req, admin_get, one, op, probe_at
from tests.authorization.world import API, World

V1 = API


def _listing(member: str, other_place: dict[str, str] | None) -> list[Req]:
    """A list asked for the column's object; for the other county, also filtered to its place
    (``other_place``), which must then be empty where the object is not listed."""
    reqs = [Req(query={"limit": 200}, member=member)]
    if other_place is not None:
        query = {"limit": 200, **other_place}
        reqs.append(Req(query=query, member=member, empty_unless_listed=True))
    return reqs


def _of_the_other_county(scope: str, name: str, value: Any) -> dict[str, str] | None:
    return {name: str(value)} if scope == "out" else None


# --- the points store: the shelves ---------------------------------------------------------


@op("GET", f"{V1}/rewards")
async def _rewards(w: World, scope: str) -> list[Req]:
    other = _of_the_other_county(scope, "community_id", w.places[scope].community)
    return _listing(w.base.reward[scope], other)


@op("GET", f"{V1}/rewards/{{reward_id}}")
async def _reward(w: World, scope: str) -> list[Req]:
    return one(params={"reward_id": w.base.reward[scope]})


async def _rewards_named(w: World, req: Req) -> Any:
    """The rewards of the request's name on the request's shelf."""
    community = req.json["community_id"]
    _, page = await admin_get(w, f"{V1}/rewards?limit=200&community_id={community}")
    return [item["id"] for item in page["items"] if item["name"] == req.json["name"]]


@op("POST", f"{V1}/rewards", probe=_rewards_named)
async def _put_up(w: World, scope: str) -> list[Req]:
    return one(
        json={
            "name": w.name("洗衣液"),
            "points_price": 120,
            "stock": 20,
            "monthly_limit": 2,
            "community_id": str(w.places[scope].community),
        }
    )


_reward_probe = probe_at(
    f"{V1}/rewards/{{reward_id}}", "name", "description", "points_price", "stock", "is_active"
)


@op("PATCH", f"{V1}/rewards/{{reward_id}}", probe=_reward_probe)
async def _restock(w: World, scope: str) -> list[Req]:
    reward = await w.reward(scope)
    return one(
        params={"reward_id": reward["id"]}, json={"description": "换了包装", "stock_change": 5}
    )


# --- the points store: purchases -----------------------------------------------------------


async def _sales(w: World, req: Req) -> Any:
    """The request's reward: its stock, and the purchases made of it."""
    reward_id = req.params["reward_id"]
    _, reward = await admin_get(w, f"{V1}/rewards/{reward_id}")
    _, page = await admin_get(w, f"{V1}/redemptions?limit=200&reward_id={reward_id}")
    return reward["stock"], sorted(item["id"] for item in page["items"])


@op("POST", f"{V1}/redemptions", probe=_sales)
async def _redeem(w: World, scope: str) -> list[Req]:
    # A reward of its own, whose stock and sales the probe reads. The administrator, first let
    # through, has no points: told so (409), the purchase made nothing.
    reward = await w.reward(scope)
    return one(
        params={"reward_id": reward["id"]},
        json={"reward_id": reward["id"]},
        first_answer="not_enough_points",
    )


@op("GET", f"{V1}/redemptions")
async def _redemptions(w: World, scope: str) -> list[Req]:
    other = _of_the_other_county(scope, "reward_id", w.base.reward[scope])
    return _listing(w.base.redemption[scope], other)


@op("GET", f"{V1}/redemptions/{{redemption_id}}")
async def _redemption(w: World, scope: str) -> list[Req]:
    return one(params={"redemption_id": w.base.redemption[scope]})


_redemption_probe = probe_at(
    f"{V1}/redemptions/{{redemption_id}}", "status", "handed_over_at", "cancelled_at"
)


@op("POST", f"{V1}/redemptions/hand-over", fresh=True, probe=_redemption_probe)
async def _hand_over(w: World, scope: str) -> list[Req]:
    redemption = await w.redemption(scope)
    return one(params={"redemption_id": redemption["id"]}, json={"code": redemption["code"]})


@op("POST", f"{V1}/redemptions/{{redemption_id}}/cancel", fresh=True, probe=_redemption_probe)
async def _cancel_redemption(w: World, scope: str) -> list[Req]:
    redemption = await w.redemption(scope)
    return one(params={"redemption_id": redemption["id"]}, json={"reason": "买错了"})


# --- micro-wishes --------------------------------------------------------------------------


def _wish_body(w: World, scope: str, **extra: str) -> dict[str, Any]:
    return {
        "community_id": str(w.places[scope].community),
        "title": w.name("帮忙更换楼道灯泡"),
        "description": "三楼楼道灯坏了，够不着",
        "address": "5号楼1单元302",
        **extra,
    }


async def _wishes_titled(w: World, req: Req) -> Any:
    """The wishes of the request's title in the request's community."""
    community = req.json["community_id"]
    _, page = await admin_get(w, f"{V1}/wishes?limit=200&community_id={community}")
    return [item["id"] for item in page["items"] if item["title"] == req.json["title"]]


@op("POST", f"{V1}/wishes", probe=_wishes_titled)
async def _post_wish(w: World, scope: str) -> list[Req]:
    return one(json=_wish_body(w, scope))


@op(
    "POST",
    f"{V1}/wishes",
    probe=_wishes_titled,
    variant="for a resident without an account",
)
async def _post_wish_for_someone(w: World, scope: str) -> list[Req]:
    return one(json=_wish_body(w, scope, resident_name="王秀英", phone="13804781234"))


@op("GET", f"{V1}/wishes")
async def _wishes(w: World, scope: str) -> list[Req]:
    member = w.base.wish[scope]
    reqs = [Req(query={"limit": 200}, member=member)]
    if scope == "out":
        # Not necessarily empty: every person posted a wish of their own there (POST /wishes).
        community = str(w.places[scope].community)
        reqs.append(Req(query={"limit": 200, "community_id": community}, member=member))
    return reqs


@op("GET", f"{V1}/wishes/{{wish_id}}")
async def _read_wish(w: World, scope: str) -> list[Req]:
    return one(params={"wish_id": w.base.wish[scope]})


@op("GET", f"{V1}/wishes/{{wish_id}}", variant="a wish another volunteer claimed")
async def _read_claimed_wish(w: World, scope: str) -> list[Req]:
    return one(params={"wish_id": (await w.wish(scope, "claimed"))["id"]})


_wish_probe = probe_at(
    f"{V1}/wishes/{{wish_id}}",
    "status",
    "claimant",
    "reviewed_at",
    "decline_reason",
    "fulfilled_at",
    "confirmed_at",
    "withdrawn_at",
    "thanks_note",
)


def _wish_action(
    action: str, status: str, body: dict[str, str], *, resident_silent: bool = False
) -> None:
    @op("POST", f"{V1}/wishes/{{wish_id}}/{action}", fresh=True, probe=_wish_probe)
    async def _(w: World, scope: str) -> list[Req]:
        wish = await w.wish(scope, status, resident_silent=resident_silent)
        return one(params={"wish_id": wish["id"]}, json=body)


_wish_action("publish", "submitted", {})
_wish_action("decline", "submitted", {"reason": "不属于微心愿范围，请拨打12345"})
_wish_action("withdraw", "published", {"reason": "家里人帮忙换好了"})
_wish_action("claim", "published", {})
_wish_action("release", "claimed", {"reason": "这周出差"})
# The resident let the time to confirm pass: the community's staff may confirm for them.
_wish_action("confirm", "fulfilled", {}, resident_silent=True)
_wish_action("reopen", "fulfilled", {"reason": "灯还是不亮"})
_wish_action("thank", "confirmed", {"note": "谢谢小伙子！"})


@op("POST", f"{V1}/wishes/{{wish_id}}/fulfil", fresh=True, probe=_wish_probe)
async def _fulfil(w: World, scope: str) -> list[Req]:
    # The photo is the claimant's upload: only the claimant may use it.
    wish = await w.wish(scope, "claimed")
    photo = await w.upload(w.volunteer_of(scope))
    return one(params={"wish_id": wish["id"]}, json={"photo_id": photo, "note": "已换好灯泡"})
