"""What each code the API speaks is called, in Chinese and in English: statuses, actions, roles,
reasons, lights, event types. Clients show these instead of keeping their own copy of the docs.

A code added to one of the enums below without its labels fails the labels test."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from app.cases.transitions import JobAction, ReportAction
from app.core.geo import CoordSystem
from app.core.lights import Light
from app.core.workcalendar import DaySource
from app.integrations.failures import DeliveryError
from app.labels.programmes import PROGRAMME_VOCABULARIES, WISH_EVENT_TYPES, Labels
from app.models.audit import AuditAction
from app.models.enums import (
    CategoryKind,
    CheckInStatus,
    ClosureType,
    CommunityKind,
    DeadlineClock,
    DeclineReason,
    DeliveryStatus,
    ExtensionStatus,
    HoursKind,
    JobStatus,
    PhotoFlag,
    PhotoKind,
    Priority,
    RegionLevel,
    ReportSource,
    ReportStatus,
    Role,
    RoutingMethod,
    Satisfaction,
    ScopeType,
    StatsInterval,
    StatsMetric,
    SupervisionLevel,
    UnitKind,
)

# The vocabularies, by the name clients look them up with.
VOCABULARIES: Final[dict[str, tuple[type[StrEnum], Labels]]] = {
    "report_status": (
        ReportStatus,
        {
            "submitted": ("待受理", "Submitted"),
            "accepted": ("已立案", "Accepted"),
            "in_progress": ("处置中", "In progress"),
            "dispatched": ("已吹哨", "Dispatched to units"),
            "on_hold": ("挂账", "On hold"),
            "resolved": ("待核查", "Resolved, awaiting verification"),
            "closed": ("已结案", "Closed"),
            "rejected": ("不予立案", "Rejected"),
            "duplicate": ("重复", "Duplicate"),
        },
    ),
    "report_action": (
        ReportAction,
        {
            "accept": ("受理立案", "Accept"),
            "reject": ("不予立案", "Reject"),
            "mark_duplicate": ("标记重复", "Mark as duplicate"),
            "transfer": ("转办", "Transfer"),
            "start": ("自行处置", "Handle in-house"),
            "whistle": ("吹哨", "Blow the whistle"),
            "resolve": ("处置完毕", "Resolve"),
            "verify_pass": ("核查通过", "Verification passed"),
            "verify_fail": ("核查不通过", "Verification failed"),
            "reopen": ("重新打开", "Reopen"),
            "escalate": ("上报", "Escalate"),
            "hold": ("挂账", "Put on hold"),
            "resume": ("恢复办理", "Resume"),
            "rate": ("评价", "Rate"),
            "lead_completed": ("主办单位办结", "Lead unit completed"),
            "all_declined": ("全部退单", "Every unit declined"),
        },
    ),
    "report_source": (
        ReportSource,
        {
            "courier": ("快递员随手拍", "Courier"),
            "grid_patrol": ("网格巡查", "Grid patrol"),
            "resident": ("居民上报", "Resident"),
            "hotline": ("热线转入", "Hotline"),
            "assigned": ("上级交办", "Assigned from above"),
        },
    ),
    "routing_method": (
        RoutingMethod,
        {
            "grid": ("按网格", "By grid"),
            "boundary": ("按社区边界", "By community boundary"),
            "nearest": ("最近社区", "Nearest community"),
            "region_queue": ("区域待分拨", "Region queue"),
        },
    ),
    "priority": (
        Priority,
        {
            "low": ("低", "Low"),
            "normal": ("一般", "Normal"),
            "high": ("紧急", "High"),
            "urgent": ("特急", "Urgent"),
        },
    ),
    "job_status": (
        JobStatus,
        {
            "pending": ("待报到", "Waiting for the unit"),
            "accepted": ("已报到", "Accepted"),
            "completed": ("已办结", "Completed"),
            "declined": ("退单", "Declined"),
            "cancelled": ("已撤回", "Cancelled"),
        },
    ),
    "job_action": (
        JobAction,
        {
            "accept": ("报到接单", "Accept"),
            "decline": ("退单", "Decline"),
            "progress": ("进展反馈", "Progress note"),
            "complete": ("办结反馈", "Complete"),
            "request_extension": ("申请延期", "Ask for more time"),
            "decide_extension": ("审批延期", "Decide on more time"),
            "cancel": ("撤回", "Cancel"),
            "rework": ("返工", "Rework"),
        },
    ),
    "decline_reason": (
        DeclineReason,
        {
            "wrong_area": ("属地不符", "Wrong area"),
            "unclear_ownership": ("权属不清", "Unclear ownership"),
            "overlapping_duties": ("职能交叉", "Overlapping duties"),
            "other": ("其他", "Other"),
        },
    ),
    "stats_interval": (
        StatsInterval,
        {
            "day": ("按日", "By day"),
            "week": ("按周", "By week"),
            "month": ("按月", "By month"),
        },
    ),
    "stats_metric": (
        StatsMetric,
        {
            "submitted": ("上报数", "Submitted"),
            "accepted": ("立案数", "Accepted"),
            "closed": ("结案数", "Closed"),
            "overdue": ("超期数", "Overdue"),
        },
    ),
    "extension_status": (
        ExtensionStatus,
        {
            "pending": ("待审批", "Pending"),
            "granted": ("已同意", "Granted"),
            "refused": ("已驳回", "Refused"),
        },
    ),
    "supervision_level": (
        SupervisionLevel,
        {
            "normal": ("一般督办", "Normal supervision"),
            "yellow": ("黄牌督办", "Yellow card"),
            "red": ("红牌督办", "Red card"),
        },
    ),
    "closure_type": (
        ClosureType,
        {
            "normal": ("正常结案", "Closed in time"),
            "overdue": ("超期结案", "Closed after the deadline"),
            "special": ("特殊结案", "Special closure"),
        },
    ),
    "satisfaction": (
        Satisfaction,
        {
            "satisfied": ("满意", "Satisfied"),
            "basically_satisfied": ("基本满意", "Basically satisfied"),
            "unsatisfied": ("不满意", "Unsatisfied"),
        },
    ),
    "light": (
        Light,
        {
            "green": ("绿灯（正常）", "Green (in time)"),
            "yellow": ("黄灯（临期）", "Yellow (deadline near)"),
            "red": ("红灯（超期）", "Red (overdue)"),
        },
    ),
    "deadline_clock": (
        DeadlineClock,
        {
            "report_accept": ("受理时限", "Time to accept the report"),
            "report_resolve": ("处置时限", "Time to resolve the report"),
            "job_accept": ("报到时限", "Time for the unit to accept"),
            "job_complete": ("办结时限", "Time for the unit to complete"),
        },
    ),
    "hours_kind": (
        HoursKind,
        {
            "calendar": ("自然小时", "Calendar hours"),
            "working": ("工作小时", "Working hours"),
        },
    ),
    "role": (
        Role,
        {
            "admin": ("系统管理员", "Administrator"),
            "supervisor": ("指挥中心督办员", "Supervisor"),
            "viewer": ("数据查看员", "Dashboard viewer"),
            "community_staff": ("社区工作人员", "Community staff"),
            "grid_worker": ("网格员", "Grid worker"),
            "unit_staff": ("报到单位工作人员", "Unit staff"),
            "courier": ("快递员", "Courier"),
            "company_manager": ("快递公司管理员", "Courier company manager"),
            "volunteer": ("志愿者", "Volunteer"),
            "reporter": ("群众", "Reporter"),
        },
    ),
    "scope_type": (
        ScopeType,
        {
            "region": ("行政区域", "Region"),
            "community": ("社区", "Community"),
            "unit": ("单位", "Unit"),
            "branch": ("快递网点", "Courier branch"),
            "company": ("快递公司", "Courier company"),
        },
    ),
    "region_level": (
        RegionLevel,
        {
            "city": ("市（盟）", "City"),
            "county": ("县（旗、区）", "County"),
            "township": ("乡镇（街道）", "Township"),
        },
    ),
    "community_kind": (
        CommunityKind,
        {
            "community": ("社区", "Urban community"),
            "village": ("村（嘎查）", "Village"),
        },
    ),
    "unit_kind": (
        UnitKind,
        {
            "department": ("政府部门", "Government department"),
            "enterprise": ("企业", "Enterprise"),
            "public_body": ("事业单位、群团组织", "Public body"),
        },
    ),
    "category_kind": (
        CategoryKind,
        {
            "component": ("部件", "Component (a thing)"),
            "event": ("事件", "Event (a situation)"),
        },
    ),
    "check_in_status": (
        CheckInStatus,
        {
            "pending": ("待审核", "Waiting for approval"),
            "approved": ("已报到", "Approved"),
            "rejected": ("未通过", "Rejected"),
            "ended": ("已结束", "Ended"),
        },
    ),
    "photo_kind": (
        PhotoKind,
        {
            "report": ("上报照片", "Report photo"),
            "progress": ("进展照片", "Progress photo"),
            "resolution": ("处置后照片", "After photo"),
            "verification": ("核查照片", "Verification photo"),
        },
    ),
    "photo_flag": (
        PhotoFlag,
        {
            "exif_far_from_report": ("拍摄地点与上报位置相距较远", "Taken far from the report"),
            "taken_long_before_submission": (
                "拍摄时间早于上报较久",
                "Taken long before the report",
            ),
        },
    ),
    "delivery_status": (
        DeliveryStatus,
        {
            "pending": ("待推送", "Pending"),
            "delivered": ("已送达", "Delivered"),
            "parked": ("已暂停", "Parked after repeated failures"),
        },
    ),
    "delivery_error": (
        DeliveryError,
        {
            "http_status": ("对方返回错误状态码", "The receiver answered with an error status"),
            "timeout": ("超时", "Timed out"),
            "connection_refused": ("连接被拒绝", "Connection refused"),
            "connection_error": ("连接失败", "Connection failed"),
            "tls_error": ("TLS 证书或握手失败", "TLS failed"),
            "protocol_error": ("协议错误", "Protocol error"),
            "dns_error": ("域名解析失败", "Name resolution failed"),
            "target_not_allowed": ("目标地址不允许", "Target address not allowed"),
        },
    ),
    "coord_system": (
        CoordSystem,
        {
            "wgs84": ("GPS 坐标（WGS-84）", "GPS (WGS-84)"),
            "gcj02": ("国测局坐标（GCJ-02，高德、腾讯地图）", "GCJ-02 (Amap, Tencent Maps)"),
            "bd09": ("百度坐标（BD-09）", "BD-09 (Baidu Maps)"),
        },
    ),
    "day_source": (
        DaySource,
        {
            "published": ("国务院放假安排", "Published holiday schedule"),
            "override": ("管理员设置", "Set by an administrator"),
            "weekday_rule": ("周一至周五规则", "Monday to Friday rule"),
        },
    ),
    "audit_action": (
        AuditAction,
        {
            "personal_data.export": ("导出个人数据", "Personal data exported"),
            "account.cancel": ("账号注销", "Account cancelled"),
            "user.read_unmasked": ("查看未遮蔽的个人信息", "Unmasked personal details read"),
            "contact.read_unmasked": (
                "查看未遮蔽的案件联系人",
                "A case's integration contact read unmasked",
            ),
        },
    ),
    **PROGRAMME_VOCABULARIES,
}

# The event types of the outbox, the live stream and webhooks (docs/api.md, "Events").
EVENT_TYPES: Final[Labels] = {
    "report.submitted": ("新上报", "Report submitted"),
    "report.accept": ("受理立案", "Accepted"),
    "report.reject": ("不予立案", "Rejected"),
    "report.mark_duplicate": ("标记重复", "Marked as a duplicate"),
    "report.transfer": ("转办", "Transferred"),
    "report.start": ("自行处置", "Handled in-house"),
    "report.whistle": ("吹哨", "Whistle blown"),
    "report.resolve": ("处置完毕", "Resolved"),
    "report.lead_completed": ("主办单位办结", "Lead unit completed"),
    "report.all_declined": ("全部退单", "Every unit declined"),
    "report.verify_pass": ("核查通过", "Verification passed"),
    "report.verify_fail": ("核查不通过", "Verification failed"),
    "report.reopen": ("重新打开", "Reopened"),
    "report.escalate": ("上报", "Escalated"),
    "report.hold": ("挂账", "Put on hold"),
    "report.resume": ("恢复办理", "Resumed"),
    "report.rate": ("评价", "Rated"),
    "report.overdue": ("超期", "Deadline passed"),
    "report.supervision_raised": ("升级督办", "Supervision raised"),
    "report.deadlines_recomputed": ("时限重算", "Deadlines recomputed"),
    "job.dispatched": ("派单", "Job dispatched"),
    "job.accept": ("报到接单", "Job accepted"),
    "job.decline": ("退单", "Job declined"),
    "job.cancel": ("撤回", "Job cancelled"),
    "job.progress": ("进展反馈", "Progress reported"),
    "job.complete": ("办结反馈", "Job completed"),
    "job.extension_request": ("申请延期", "More time asked"),
    "job.extension_grant": ("同意延期", "More time granted"),
    "job.extension_refuse": ("驳回延期", "More time refused"),
    "job.rework": ("返工", "Rework"),
    "job.overdue": ("超期", "Job deadline passed"),
    **WISH_EVENT_TYPES,
}
