"""The life of a micro-wish (微心愿), as data: (status, action) → (status, who may).

居民点单 (a resident posts) → 社区审核 (staff publish or decline) → 志愿者接单 (a volunteer of the
community claims) → 圆梦 (the volunteer fulfils, the resident confirms). Everything not in the
table is refused; the service asks it before it touches anything, and the tests walk every pair.
Pure code: no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.models.enums import WishStatus


class WishAction(StrEnum):
    publish = "publish"  # 审核通过
    decline = "decline"  # 审核不通过, with a reason
    withdraw = "withdraw"  # the resident (or staff) takes it back before it is claimed
    claim = "claim"  # 认领: one volunteer, race-safe
    release = "release"  # the claimant gives it up (or staff take it back): published again
    fulfil = "fulfil"  # 完成, with a photo
    confirm = "confirm"  # the resident confirms; staff may after the time-out
    reopen = "reopen"  # the resident says it is not done: back to the claimant
    thank = "thank"  # the resident leaves a note of thanks


class WishActor(StrEnum):
    resident = "resident"  # the resident whose wish it is (their account)
    staff = "staff"  # community staff of the wish's community
    volunteer = "volunteer"  # a volunteer of the community: grid worker, volunteer, courier
    claimant = "claimant"  # the volunteer who claimed it


@dataclass(frozen=True)
class WishRule:
    to: WishStatus
    actors: frozenset[WishActor]


def _rule(to: WishStatus, *actors: WishActor) -> WishRule:
    return WishRule(to=to, actors=frozenset(actors))


WS, WA = WishStatus, WishAction
RESIDENT, STAFF, VOLUNTEER, CLAIMANT = (
    WishActor.resident,
    WishActor.staff,
    WishActor.volunteer,
    WishActor.claimant,
)

WISH_TRANSITIONS: dict[tuple[WishStatus, WishAction], WishRule] = {
    (WS.submitted, WA.publish): _rule(WS.published, STAFF),
    (WS.submitted, WA.decline): _rule(WS.declined, STAFF),
    (WS.submitted, WA.withdraw): _rule(WS.withdrawn, RESIDENT, STAFF),
    (WS.published, WA.claim): _rule(WS.claimed, VOLUNTEER),
    (WS.published, WA.withdraw): _rule(WS.withdrawn, RESIDENT, STAFF),
    (WS.claimed, WA.release): _rule(WS.published, CLAIMANT, STAFF),
    (WS.claimed, WA.fulfil): _rule(WS.fulfilled, CLAIMANT),
    # Staff confirm only once the resident let the time-out pass (or has no account).
    (WS.fulfilled, WA.confirm): _rule(WS.confirmed, RESIDENT, STAFF),
    (WS.fulfilled, WA.reopen): _rule(WS.claimed, RESIDENT),
    (WS.confirmed, WA.thank): _rule(WS.confirmed, RESIDENT),
}

# The statuses a wish ends in: nothing moves it any more (but a thank-you note).
FINAL_WISH_STATUSES = frozenset({WS.declined, WS.confirmed, WS.withdrawn})

# The timestamp column each status sets when it is entered (a wish published again after a
# release keeps its first review).
WISH_STATUS_TIMESTAMP: dict[WishStatus, str | None] = {
    WS.submitted: "created_at",
    WS.published: "reviewed_at",
    WS.declined: "reviewed_at",
    WS.claimed: "claimed_at",
    WS.fulfilled: "fulfilled_at",
    WS.confirmed: "confirmed_at",
    WS.withdrawn: "withdrawn_at",
}
