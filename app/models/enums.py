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
    unit_staff = "unit_staff"  # @unit
    courier = "courier"  # @branch
    reporter = "reporter"  # no scope


class ScopeType(StrEnum):
    region = "region"
    community = "community"
    unit = "unit"
    branch = "branch"


# Which kind of place each role is scoped to; None means the role has no place.
ROLE_SCOPE: dict[Role, ScopeType | None] = {
    Role.admin: None,
    Role.reporter: None,
    Role.supervisor: ScopeType.region,
    Role.viewer: ScopeType.region,
    Role.community_staff: ScopeType.community,
    Role.grid_worker: ScopeType.community,
    Role.unit_staff: ScopeType.unit,
    Role.courier: ScopeType.branch,
}


class CheckInStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


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
