from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class PointsRule(StrEnum):
    """Why points were given: a report accepted as valid, its case closed, a hazard cleared on
    the spot, a micro-wish fulfilled; why they were spent: a reward bought in the points store
    (and given back when the purchase was cancelled); or why they were taken: the account was
    cancelled (账号注销) and its balance forfeited."""

    accepted = "accepted"
    closed_bonus = "closed_bonus"
    self_resolved = "self_resolved"  # 随手清: cleared on the spot by its reporter, checked
    wish_fulfilled = "wish_fulfilled"  # 微心愿: a volunteer fulfilled a resident's wish
    redeemed = "redeemed"  # 积分兑换: points spent on a reward
    redemption_refunded = "redemption_refunded"  # the purchase was cancelled
    account_closed = "account_closed"


# The rules that earn points: what caps, leaderboards and the courier statistics add up. Spending
# and refunds move the balance only; a refund is not earning again.
EARNING_RULES = frozenset(
    {
        PointsRule.accepted,
        PointsRule.closed_bonus,
        PointsRule.self_resolved,
        PointsRule.wish_fulfilled,
    }
)
EARNING_RULE_VALUES = sorted(rule.value for rule in EARNING_RULES)


class LeaderboardScope(StrEnum):
    community = "community"
    branch = "branch"
    company = "company"


class ReportNumberRef(BaseModel):
    id: uuid.UUID
    number: str = Field(examples=["SSP-150826-20261129-000042"])


class PointsEntryRead(BaseModel):
    id: uuid.UUID
    rule: PointsRule
    points: int = Field(description="What was given, after the daily and monthly caps")
    points_before_cap: int = Field(description="What the rule gives before the caps")
    capped: bool = Field(description="True when a cap cut the award")
    report: ReportNumberRef | None = Field(
        description="The report that earned the points; null for other entries"
    )
    wish_id: uuid.UUID | None = Field(None, description="The micro-wish that earned the points")
    redemption_id: uuid.UUID | None = Field(
        None, description="The purchase that spent (or gave back) the points"
    )
    created_at: datetime


class PointsLedger(BaseModel):
    """The caller's balance, what the caps still allow, and the ledger, newest first."""

    balance: int = Field(description="What may be spent: every entry of the ledger added up")
    earned_today: int = Field(description="Points earned today (China time)")
    earned_this_month: int = Field(description="Points earned this month (China time)")
    daily_cap: int
    monthly_cap: int
    items: list[PointsEntryRead]
    next_cursor: str | None = None


class LeaderboardEntry(BaseModel):
    rank: int = Field(description="1 for the most points; equal points share a rank")
    id: uuid.UUID | None = Field(
        None, description="The community, branch or company; null when ranking reporters"
    )
    name: str = Field(description="Its name, or the reporter's display name")
    points: int
    reports: int = Field(description="Reports that earned these points")
    reporters: int = Field(description="People who earned these points")
    is_me: bool = Field(False, description="The caller's own line when ranking reporters")


class Leaderboard(BaseModel):
    scope: LeaderboardScope
    id: uuid.UUID | None = Field(
        None, description="The place whose reporters are ranked; null: the places are ranked"
    )
    name: str | None = Field(None, description="The name of that place")
    period: str = Field(examples=["2026-11"], description="The month (China time)")
    starts_at: datetime
    ends_at: datetime
    items: list[LeaderboardEntry]
    next_cursor: str | None = None
