"""All ORM models, so that Alembic and the mapper registry see every table."""

from app.models.audit import AuditEntry
from app.models.base import Base
from app.models.calendar import CalendarDay, CalendarRevision, WorkingDay, WorkingDaysBuilt
from app.models.categories import Category
from app.models.integrations import OutboxEvent, Webhook, WebhookDelivery
from app.models.org import (
    CheckIn,
    Community,
    CourierBranch,
    CourierCompany,
    Grid,
    LocatorChange,
    LocatorVersion,
    Pairing,
    Region,
    Unit,
)
from app.models.points import PointsEntry
from app.models.reports import (
    IdempotencyRecord,
    IntegrationFiling,
    Photo,
    Report,
    ReportEvent,
    ReportNumberCounter,
)
from app.models.stats import CaseDayCount
from app.models.store import Redemption, Reward
from app.models.uploads import Picture, Upload
from app.models.users import ApiKey, AuthSession, LoginThrottle, RefreshToken, RoleAssignment, User
from app.models.wishes import Wish
from app.models.workflow import ClockTimer, Job, JobExtension, OverdueMark, Rating

__all__ = [
    "ApiKey",
    "AuditEntry",
    "AuthSession",
    "Base",
    "CalendarDay",
    "CalendarRevision",
    "CaseDayCount",
    "Category",
    "CheckIn",
    "ClockTimer",
    "Community",
    "CourierBranch",
    "CourierCompany",
    "Grid",
    "IdempotencyRecord",
    "IntegrationFiling",
    "Job",
    "JobExtension",
    "LocatorChange",
    "LocatorVersion",
    "LoginThrottle",
    "OutboxEvent",
    "OverdueMark",
    "Pairing",
    "Photo",
    "Picture",
    "PointsEntry",
    "Rating",
    "Redemption",
    "RefreshToken",
    "Region",
    "Report",
    "ReportEvent",
    "ReportNumberCounter",
    "Reward",
    "RoleAssignment",
    "Unit",
    "Upload",
    "User",
    "Webhook",
    "WebhookDelivery",
    "Wish",
    "WorkingDay",
    "WorkingDaysBuilt",
]
