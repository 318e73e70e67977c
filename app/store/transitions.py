"""The life of a redemption (积分兑换), as data: (status, action) → (status, who may).

Everything not in the table is refused; the service asks it before it touches anything, and
the tests walk every pair."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.models.enums import RedemptionStatus


class RedemptionAction(StrEnum):
    hand_over = "hand_over"  # 核销: the shop gives the item against the code
    cancel = "cancel"  # points and stock go back


class ShopActor(StrEnum):
    buyer = "buyer"  # the person who redeemed
    shop = "shop"  # staff of the reward's community, or a manager of its courier company


@dataclass(frozen=True)
class RedemptionRule:
    to: RedemptionStatus
    actors: frozenset[ShopActor]


RDS = RedemptionStatus
REDEMPTION_TRANSITIONS: dict[tuple[RedemptionStatus, RedemptionAction], RedemptionRule] = {
    (RDS.pending, RedemptionAction.hand_over): RedemptionRule(
        RDS.handed_over, frozenset({ShopActor.shop})
    ),
    # The buyer changed their mind, or the shop cannot supply it: an item handed over is not
    # taken back (the points stay spent).
    (RDS.pending, RedemptionAction.cancel): RedemptionRule(
        RDS.cancelled, frozenset({ShopActor.buyer, ShopActor.shop})
    ),
}
