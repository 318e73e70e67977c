"""The vocabularies of points and of the programmes beyond reporting: the points store
(积分超市) and micro-wishes (微心愿). Part of ``VOCABULARIES`` (app/labels/catalogue.py)."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from app.models.enums import RedemptionStatus, WishStatus
from app.points.schemas import LeaderboardScope, PointsRule
from app.store.transitions import RedemptionAction
from app.wishes.transitions import WishAction

# (Chinese, English) for each value: the order of app.core.language.LANGUAGES.
Labels = dict[str, tuple[str, str]]

PROGRAMME_VOCABULARIES: Final[dict[str, tuple[type[StrEnum], Labels]]] = {
    "points_rule": (
        PointsRule,
        {
            "accepted": ("上报被受理", "Report accepted"),
            "closed_bonus": ("结案奖励", "Case closed bonus"),
            "self_resolved": ("随手清", "Cleared on the spot"),
            "wish_fulfilled": ("圆梦微心愿", "Micro-wish fulfilled"),
            "redeemed": ("积分兑换", "Spent in the points store"),
            "redemption_refunded": ("兑换取消退回", "Purchase cancelled, points returned"),
            "account_closed": ("账号注销清零", "Account cancelled"),
        },
    ),
    "leaderboard_scope": (
        LeaderboardScope,
        {
            "community": ("社区", "Community"),
            "branch": ("网点", "Branch"),
            "company": ("快递公司", "Courier company"),
        },
    ),
    "redemption_status": (
        RedemptionStatus,
        {
            "pending": ("待领取", "Waiting to be collected"),
            "handed_over": ("已领取", "Handed over"),
            "cancelled": ("已取消", "Cancelled"),
        },
    ),
    "redemption_action": (
        RedemptionAction,
        {
            "hand_over": ("核销领取", "Hand over"),
            "cancel": ("取消兑换", "Cancel"),
        },
    ),
    "wish_status": (
        WishStatus,
        {
            "submitted": ("待审核", "Awaiting review"),
            "published": ("待认领", "Published"),
            "declined": ("未通过", "Declined"),
            "claimed": ("已认领", "Claimed"),
            "fulfilled": ("待确认", "Fulfilled, awaiting confirmation"),
            "confirmed": ("已圆梦", "Confirmed"),
            "withdrawn": ("已撤回", "Withdrawn"),
        },
    ),
    "wish_action": (
        WishAction,
        {
            "publish": ("审核通过", "Publish"),
            "decline": ("审核不通过", "Decline"),
            "withdraw": ("撤回", "Withdraw"),
            "claim": ("认领", "Claim"),
            "release": ("放弃认领", "Give up"),
            "fulfil": ("完成心愿", "Fulfil"),
            "confirm": ("确认圆梦", "Confirm"),
            "reopen": ("未完成退回", "Not done: back to the volunteer"),
            "thank": ("致谢", "Thank"),
        },
    ),
}

# The micro-wishes' events on the outbox, the live stream and webhooks.
WISH_EVENT_TYPES: Final[Labels] = {
    "wish.submitted": ("新心愿", "Wish posted"),
    "wish.publish": ("心愿发布", "Wish published"),
    "wish.decline": ("心愿未通过", "Wish declined"),
    "wish.withdraw": ("心愿撤回", "Wish withdrawn"),
    "wish.claim": ("心愿被认领", "Wish claimed"),
    "wish.release": ("放弃认领", "Wish given up"),
    "wish.fulfil": ("心愿完成待确认", "Wish fulfilled"),
    "wish.confirm": ("心愿圆梦", "Wish confirmed"),
    "wish.reopen": ("心愿退回", "Wish reopened"),
    "wish.thank": ("居民致谢", "Resident thanked"),
}
