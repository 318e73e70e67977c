"""Enumerations stored as strings (VARCHAR + CHECK), shared by models and schemas."""

from __future__ import annotations

from enum import StrEnum


class RegionLevel(StrEnum):
    city = "city"  # 盟市
    county = "county"  # 旗县区
    township = "township"  # 苏木镇/街道


class CommunityKind(StrEnum):
    community = "community"  # 社区
    village = "village"  # 村/嘎查


class UnitKind(StrEnum):
    department = "department"  # 政府部门
    enterprise = "enterprise"  # 企业
    public_body = "public_body"  # 事业单位/群团组织


class Role(StrEnum):
    admin = "admin"
    supervisor = "supervisor"  # @region
    viewer = "viewer"  # @region, read-only dashboards
    community_staff = "community_staff"  # @community
    grid_worker = "grid_worker"  # @community
    volunteer = "volunteer"  # @community: a registered volunteer (党员/志愿者), for micro-wishes
    unit_staff = "unit_staff"  # @unit
    courier = "courier"  # @branch
    company_manager = "company_manager"  # @company: a courier company's points store
    reporter = "reporter"  # no scope


class ScopeType(StrEnum):
    region = "region"
    community = "community"
    unit = "unit"
    branch = "branch"
    company = "company"


# Which kind of place each role is scoped to; None means the role has no place.
ROLE_SCOPE: dict[Role, ScopeType | None] = {
    Role.admin: None,
    Role.reporter: None,
    Role.supervisor: ScopeType.region,
    Role.viewer: ScopeType.region,
    Role.community_staff: ScopeType.community,
    Role.grid_worker: ScopeType.community,
    Role.volunteer: ScopeType.community,
    Role.unit_staff: ScopeType.unit,
    Role.courier: ScopeType.branch,
    Role.company_manager: ScopeType.company,
}


class CheckInStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    ended = "ended"  # the courier's account was cancelled


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class CategoryKind(StrEnum):
    component = "component"  # 部件
    event = "event"  # 事件


class HoursKind(StrEnum):
    calendar = "calendar"
    working = "working"


class ReportStatus(StrEnum):
    submitted = "submitted"  # 待受理
    accepted = "accepted"  # 已立案
    in_progress = "in_progress"  # 处置中
    dispatched = "dispatched"  # 已吹哨
    on_hold = "on_hold"  # 挂账
    resolved = "resolved"  # 待核查
    closed = "closed"  # 已结案
    rejected = "rejected"  # 不予立案
    duplicate = "duplicate"  # 重复


OPEN_REPORT_STATUSES = frozenset(
    {
        ReportStatus.submitted,
        ReportStatus.accepted,
        ReportStatus.in_progress,
        ReportStatus.dispatched,
        ReportStatus.on_hold,
        ReportStatus.resolved,
    }
)


class ReportSource(StrEnum):
    courier = "courier"
    grid_patrol = "grid_patrol"
    resident = "resident"
    hotline = "hotline"
    assigned = "assigned"  # 上级交办


class RoutingMethod(StrEnum):
    grid = "grid"  # the reporter (a grid worker) named the grid
    boundary = "boundary"  # the point lies inside the community's boundary
    nearest = "nearest"  # outside every boundary, nearest community within the limit
    region_queue = "region_queue"  # no community: the supervisors' queue of a region


class PhotoKind(StrEnum):
    report = "report"  # taken by the reporter
    progress = "progress"
    resolution = "resolution"  # "after" photos
    verification = "verification"


class PhotoFlag(StrEnum):
    exif_far_from_report = "exif_far_from_report"
    taken_long_before_submission = "taken_long_before_submission"


class JobStatus(StrEnum):
    pending = "pending"  # 待报到
    accepted = "accepted"  # 已报到/接单: the unit's clock runs
    completed = "completed"  # 已办结
    declined = "declined"  # 退单
    cancelled = "cancelled"  # withdrawn by the community


OPEN_JOB_STATUSES = frozenset({JobStatus.pending, JobStatus.accepted})


class DeclineReason(StrEnum):
    wrong_area = "wrong_area"  # 属地不符
    unclear_ownership = "unclear_ownership"  # 权属不清
    overlapping_duties = "overlapping_duties"  # 职能交叉
    other = "other"


class ExtensionStatus(StrEnum):
    pending = "pending"
    granted = "granted"
    refused = "refused"


class SupervisionLevel(StrEnum):
    normal = "normal"  # 普通督办
    yellow = "yellow"  # 黄牌督办
    red = "red"  # 红牌督办


class ClosureType(StrEnum):
    normal = "normal"
    overdue = "overdue"
    special = "special"  # closed by a supervisor's ruling, e.g. not fixable as reported


class Satisfaction(StrEnum):
    satisfied = "satisfied"
    basically_satisfied = "basically_satisfied"
    unsatisfied = "unsatisfied"


class DeadlineClock(StrEnum):
    """The running clocks whose overdue moments the sweep records."""

    report_accept = "report_accept"
    report_resolve = "report_resolve"
    job_accept = "job_accept"
    job_complete = "job_complete"


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    parked = "parked"  # every attempt failed; kept for inspection and manual retry


class StatsInterval(StrEnum):
    """The buckets of a statistics time series, in China time."""

    day = "day"
    week = "week"  # ISO weeks, from Monday
    month = "month"


class StatsMetric(StrEnum):
    """What a statistics time series counts."""

    submitted = "submitted"
    accepted = "accepted"
    closed = "closed"
    overdue = "overdue"  # clocks recorded overdue by the sweep


class RedemptionStatus(StrEnum):
    """A reward bought with points (积分兑换), waiting at the shop or settled."""

    pending = "pending"  # 待领取: paid, the item is held for the buyer
    handed_over = "handed_over"  # 已领取
    cancelled = "cancelled"  # 已取消: points and stock returned


class WishStatus(StrEnum):
    """A resident's micro-wish (微心愿): 居民点单 → 社区派单 → 志愿者接单."""

    submitted = "submitted"  # 待审核
    published = "published"  # 待认领
    declined = "declined"  # 未通过
    claimed = "claimed"  # 已认领
    fulfilled = "fulfilled"  # 待确认: the volunteer says it is done
    confirmed = "confirmed"  # 已圆梦
    withdrawn = "withdrawn"  # 已撤回
