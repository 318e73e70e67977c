"""What the statistics endpoints answer. Every measure is defined, with its numerator and
denominator, in docs/product.md ("What the dashboards measure"). Rates are fractions from 0 to
1, null when their denominator is 0."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.models.enums import DeclineReason, ReportStatus, StatsInterval, StatsMetric

Rate = float | None


Interval = StatsInterval
SeriesMetric = StatsMetric


class Period(BaseModel):
    """The period counted: cases filed from ``from`` (inclusive) to ``to`` (exclusive)."""

    from_: datetime = Field(alias="from", serialization_alias="from")
    to: datetime

    model_config = {"populate_by_name": True}


class Hours(BaseModel):
    """Hours to accept or to resolve, in each category's kind of hours (calendar or working)."""

    count: int = Field(description="Cases measured")
    mean: float | None
    p90: float | None = Field(description="90th percentile, linearly interpolated")


class CaseMeasures(BaseModel):
    """The case measures of a set of cases (docs/product.md, "The case measures")."""

    total: int
    open: int
    overdue_open: int = Field(description="超期未结")
    due_to_close: int = Field(description="应结案数")
    closed: int
    closed_on_time: int
    closure_rate: Rate = Field(description="结案率 = closed ÷ due_to_close")
    on_time_closure_rate: Rate = Field(description="按期结案率 = closed_on_time ÷ due_to_close")
    reworks: int = Field(description="Failed verifications of the cases due to close")
    rework_rate: Rate = Field(description="返工率 = reworks ÷ due_to_close")
    response_due: int = Field(description="Cases whose accept deadline came, or answered before")
    responded_on_time: int
    response_rate: Rate = Field(description="响应率 = responded_on_time ÷ response_due")
    resolved: int = Field(description="Cases due to close that are resolved or closed")
    resolution_rate: Rate = Field(description="解决率 = resolved ÷ due_to_close")
    ratings: int
    satisfied: int
    basically_satisfied: int
    unsatisfied: int
    satisfaction_rate: Rate = Field(
        description="满意率 = (satisfied + 0.9 × basically_satisfied) ÷ ratings"
    )
    score: Rate = Field(description="The weighted mean of the three rates that exist")
    accepted: int = Field(description="Cases accepted (立案)")
    handled_by_community: int = Field(description="Accepted and never dispatched (自办)")
    whistled: int = Field(description="Accepted and dispatched to units (吹哨)")
    whistled_share: Rate = Field(description="whistled ÷ accepted")
    self_resolved: int = Field(
        0,
        description="随手清: hazards their reporters cleared on the spot, closed by the "
        "community's check without ever being a case to handle (not among closed)",
    )
    mean_hours_to_accept: float | None
    mean_hours_to_resolve: float | None


class StatsSummary(CaseMeasures):
    period: Period
    counts_by_status: dict[ReportStatus, int]
    hours_to_accept: Hours
    hours_to_resolve: Hours


class LightCounts(BaseModel):
    period: Period
    open: int = Field(description="Open cases among those filed in the period")
    green: int = Field(description="Under 80 % of the running clock's limit used")
    yellow: int = Field(description="80 % or more used, not yet overdue (临期)")
    red: int = Field(description="Overdue (超期)")
    stopped: int = Field(description="Open with no clock running: resolved, awaiting verification")


class CommunityRow(CaseMeasures):
    community_id: uuid.UUID | None = Field(description="Null: cases in a region's queue")
    name: str
    region_id: uuid.UUID | None


class CategoryRow(CaseMeasures):
    category: str
    name: str
    parent: str | None


class CommunitySheet(BaseModel):
    period: Period
    items: list[CommunityRow]


class CategorySheet(BaseModel):
    period: Period
    items: list[CategoryRow]


class UnitRow(BaseModel):
    """一个单位一张表: one unit's jobs in the period (docs/product.md, "One sheet per unit")."""

    unit_id: uuid.UUID
    name: str
    kind: str
    region_id: uuid.UUID
    received: int
    accepted: int
    accepted_on_time: int
    declined: int
    declined_by_reason: dict[DeclineReason, int]
    decline_rate: Rate
    extensions_asked: int
    extensions_granted: int
    completed: int
    completed_on_time: int
    completed_late: int
    pending_on_time: int
    overdue_now: int
    reworked: int
    response_due: int
    response_rate: Rate
    completion_due: int
    completion_rate: Rate
    on_time_completion_rate: Rate
    mean_hours_to_accept: float | None
    mean_hours_to_complete: float | None
    mean_share_of_time_used: float | None
    ratings: int
    satisfaction_rate: Rate
    score: Rate


class UnitSheet(BaseModel):
    period: Period
    items: list[UnitRow]


class CourierBranchRow(BaseModel):
    branch_id: uuid.UUID
    name: str
    checked_in: int = Field(description="Couriers with an approved check-in now")
    active: int = Field(description="Couriers who filed a counted report in the period")
    reports: int
    valid_reports: int = Field(description="Accepted: neither rejected nor a duplicate")
    points: int = Field(description="Points earned in the period")


class CourierCompanyRow(BaseModel):
    company_id: uuid.UUID
    name: str
    checked_in: int
    active: int
    reports: int
    valid_reports: int
    points: int
    branches: list[CourierBranchRow]


class CourierSheet(BaseModel):
    period: Period
    items: list[CourierCompanyRow]


class SeriesPoint(BaseModel):
    start: date = Field(description="The bucket's first day, China time")
    count: int


class TimeSeries(BaseModel):
    period: Period
    interval: Interval
    metric: SeriesMetric
    items: list[SeriesPoint]


class HeatCellProperties(BaseModel):
    count: int
    open: int


class HeatCell(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any]
    properties: HeatCellProperties


class HeatMap(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    cell_m: float
    period: Period
    features: list[HeatCell]
