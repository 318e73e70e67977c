"""The seed category tree, after the top classes of GB/T 30428 (数字化城市管理).

Components (部件) are things that break; events (事件) are things people do or that happen.
Top classes group the leaves and are never reported under; the leaves carry the time limits a
report starts with. Component and event class codes are separate code spaces in the standard,
so "01" is both 公用设施 and the event class 市容环境. The two-digit subclass numbers follow
the standard's grouping but are this project's own: a city adopting another edition maps them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.categories import Category
from app.models.enums import CategoryKind, HoursKind, Priority

CALENDAR = HoursKind.calendar
WORKING = HoursKind.working


@dataclass(frozen=True, slots=True)
class CategorySeed:
    """One row of the categories table; the fields are its columns."""

    code: str
    parent_code: str | None
    name: str
    name_en: str
    kind: CategoryKind
    standard_code: str
    default_priority: Priority
    accept_within_hours: float
    resolve_within_hours: float
    hours_kind: HoursKind
    duplicate_radius_m: float
    sort_order: int
    is_leaf: bool


def _top(
    code: str, kind: CategoryKind, standard_code: str, name: str, name_en: str, sort_order: int
) -> CategorySeed:
    # Nothing is filed under a top class; its limits are the everyday ones (a working week)
    # only because the columns require a value.
    return CategorySeed(
        code=code,
        parent_code=None,
        name=name,
        name_en=name_en,
        kind=kind,
        standard_code=standard_code,
        default_priority=Priority.normal,
        accept_within_hours=24,
        resolve_within_hours=40,
        hours_kind=WORKING,
        duplicate_radius_m=100,
        sort_order=sort_order,
        is_leaf=False,
    )


def _leaf(
    parent: CategorySeed,
    subclass: str,
    code: str,
    name: str,
    name_en: str,
    priority: Priority,
    accept_within_hours: float,
    resolve_within_hours: float,
    hours_kind: HoursKind,
    duplicate_radius_m: float = 100,
) -> CategorySeed:
    return CategorySeed(
        code=code,
        parent_code=parent.code,
        name=name,
        name_en=name_en,
        kind=parent.kind,
        standard_code=parent.standard_code + subclass,
        default_priority=priority,
        accept_within_hours=accept_within_hours,
        resolve_within_hours=resolve_within_hours,
        hours_kind=hours_kind,
        duplicate_radius_m=duplicate_radius_m,
        sort_order=int(subclass),
        is_leaf=True,
    )


_C = CategoryKind.component
_E = CategoryKind.event

PUBLIC_FACILITIES = _top(
    "component_public_facilities", _C, "01", "公用设施", "Public facilities", 1
)
ROADS_AND_TRAFFIC = _top("component_roads_traffic", _C, "02", "道路交通", "Roads and traffic", 2)
CITYSCAPE_FACILITIES = _top(
    "component_cityscape", _C, "03", "市容环境", "Cityscape and sanitation facilities", 3
)
GREENERY = _top("component_greenery", _C, "04", "园林绿化", "Parks and greenery", 4)
BUILDINGS_AND_LAND = _top("component_buildings_land", _C, "05", "房屋土地", "Buildings and land", 5)
OTHER_FACILITIES = _top("component_other_facilities", _C, "06", "其他设施", "Other facilities", 6)

CITYSCAPE_EVENTS = _top("event_cityscape", _E, "01", "市容环境", "Cityscape and sanitation", 11)
ADVERTISING = _top("event_advertising", _E, "02", "宣传广告", "Advertising", 12)
CONSTRUCTION = _top("event_construction", _E, "03", "施工管理", "Construction management", 13)
EMERGENCIES = _top("event_emergencies", _E, "04", "突发事件", "Emergencies", 14)
STREET_ORDER = _top("event_street_order", _E, "05", "街面秩序", "Street order", 15)

_U, _H, _N, _L = Priority.urgent, Priority.high, Priority.normal, Priority.low

# Limits: anything that can hurt someone now is accepted within 2 h and made safe within a day
# (calendar hours, nights and holidays included); repairs that need a crew and parts run on
# working hours (8 h a working day), e.g. a dead street light: 24 h to accept, 5 working days.
CATEGORY_TREE: tuple[CategorySeed, ...] = (
    PUBLIC_FACILITIES,
    # A manhole is a point: two reports 60 m apart are two different covers.
    _leaf(PUBLIC_FACILITIES, "01", "manhole_cover", "井盖缺失破损",
          "Manhole cover missing or broken", _U, 2, 24, CALENDAR, 50),
    _leaf(PUBLIC_FACILITIES, "05", "water_pipe_leak", "供水管道漏水",
          "Water supply pipe leak", _H, 2, 24, CALENDAR),
    _leaf(PUBLIC_FACILITIES, "10", "street_light_failure", "路灯故障",
          "Street light failure", _N, 24, 40, WORKING),
    _leaf(PUBLIC_FACILITIES, "15", "fire_hydrant_damage", "消防栓损坏",
          "Fire hydrant damaged", _H, 4, 48, CALENDAR),
    ROADS_AND_TRAFFIC,
    # Potholes and broken surfaces stretch along a road, so reports of one spread widely.
    _leaf(ROADS_AND_TRAFFIC, "01", "road_damage", "道路破损",
          "Road damage", _H, 8, 24, WORKING, 200),
    _leaf(ROADS_AND_TRAFFIC, "05", "traffic_sign_damage", "交通标志损坏",
          "Damaged traffic sign", _N, 24, 40, WORKING),
    _leaf(ROADS_AND_TRAFFIC, "10", "guardrail_damage", "护栏损坏",
          "Damaged guardrail", _N, 24, 40, WORKING),
    CITYSCAPE_FACILITIES,
    _leaf(CITYSCAPE_FACILITIES, "01", "litter_bin_damage", "垃圾箱破损",
          "Damaged litter bin", _L, 24, 40, WORKING),
    _leaf(CITYSCAPE_FACILITIES, "05", "public_toilet_damage", "公厕设施损坏",
          "Public toilet facilities damaged", _N, 24, 24, WORKING),
    GREENERY,
    _leaf(GREENERY, "01", "fallen_tree", "树木倒伏枯死",
          "Dead or fallen tree", _H, 4, 24, CALENDAR),
    _leaf(GREENERY, "05", "green_space_damage", "绿地毁损",
          "Damaged green space", _L, 24, 80, WORKING),
    BUILDINGS_AND_LAND,
    _leaf(BUILDINGS_AND_LAND, "01", "dilapidated_building", "危旧房屋",
          "Dilapidated building", _H, 4, 72, CALENDAR),
    OTHER_FACILITIES,
    _leaf(OTHER_FACILITIES, "99", "other", "其他",
          "Other", _N, 24, 40, WORKING),
    CITYSCAPE_EVENTS,
    _leaf(CITYSCAPE_EVENTS, "01", "piled_rubbish", "乱堆乱放",
          "Piled rubbish and clutter", _N, 8, 16, WORKING),
    _leaf(CITYSCAPE_EVENTS, "05", "exposed_garbage", "暴露垃圾",
          "Exposed garbage", _N, 4, 24, CALENDAR),
    _leaf(CITYSCAPE_EVENTS, "10", "sewage_overflow", "污水冒溢",
          "Sewage overflow", _H, 2, 24, CALENDAR),
    ADVERTISING,
    _leaf(ADVERTISING, "01", "illegal_small_ads", "小广告",
          "Illegal small ads and graffiti", _L, 24, 40, WORKING),
    _leaf(ADVERTISING, "05", "illegal_billboard", "违规户外广告",
          "Unauthorised outdoor advertising", _L, 24, 80, WORKING),
    CONSTRUCTION,
    _leaf(CONSTRUCTION, "01", "illegal_construction", "违规搭建",
          "Illegal construction", _N, 24, 80, WORKING),
    _leaf(CONSTRUCTION, "05", "construction_without_enclosure", "施工未围挡",
          "Construction site without enclosure", _H, 4, 24, CALENDAR),
    _leaf(CONSTRUCTION, "10", "muck_spill", "渣土撒漏",
          "Spilled muck from construction trucks", _N, 4, 24, CALENDAR, 200),
    EMERGENCIES,
    _leaf(EMERGENCIES, "01", "safety_hazard", "安全隐患",
          "Safety hazard", _U, 2, 24, CALENDAR),
    # A flooded dip covers a whole stretch of road.
    _leaf(EMERGENCIES, "05", "road_waterlogging", "道路积水",
          "Road waterlogging", _U, 2, 12, CALENDAR, 200),
    STREET_ORDER,
    _leaf(STREET_ORDER, "01", "chaotic_parking", "乱停乱放",
          "Chaotic parking", _N, 24, 40, WORKING),
    _leaf(STREET_ORDER, "05", "blocked_fire_lane", "消防通道堵塞",
          "Blocked fire lane", _U, 2, 12, CALENDAR),
    _leaf(STREET_ORDER, "10", "street_vending", "占道经营",
          "Street vending on the road", _N, 8, 16, WORKING),
    _leaf(STREET_ORDER, "15", "stray_livestock", "牲畜散放",
          "Stray livestock", _N, 4, 24, CALENDAR),
)  # fmt: skip


async def seed_categories(session: AsyncSession) -> int:
    """Insert the categories whose code is missing; leave existing rows as an admin left them.

    Returns how many were inserted. Flushes, never commits."""
    existing = set(await session.scalars(select(Category.code)))
    missing = [seed for seed in CATEGORY_TREE if seed.code not in existing]
    # Top classes first, in their own flush: the table refers to itself, and the unit of work
    # does not order rows of one table by a foreign key that has no relationship behind it.
    for leaves in (False, True):
        session.add_all(
            Category(**dataclasses.asdict(seed)) for seed in missing if seed.is_leaf is leaves
        )
        await session.flush()
    return len(missing)
