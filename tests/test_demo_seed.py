"""The demo seed, run against a fresh database made by the migrations.

Self-contained (its own fixtures), so it runs with or without the suite's conftest."""

from __future__ import annotations

import asyncio
import itertools
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from shapely.geometry import Point, shape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.categories.taxonomy import seed_categories
from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.core.migrations import upgrade
from app.core.security import NO_PASSWORD
from app.demo.seed import DatabaseNotEmpty, DemoSummary, seed_demo
from app.models import (
    Category,
    CheckIn,
    Community,
    CourierBranch,
    CourierCompany,
    Grid,
    Pairing,
    Region,
    RoleAssignment,
    Unit,
    User,
)
from app.models.enums import (
    ROLE_SCOPE,
    CheckInStatus,
    HoursKind,
    Priority,
    RegionLevel,
    Role,
    ScopeType,
)

PASSWORD = "demo-password"
# Boundaries are rounded to 1e-6 degrees (about 0.1 m); grids may stray that far.
TOLERANCE_DEG = 1e-6
COURIER_COMPANY_NAMES = {
    "中国邮政",
    "顺丰速运",
    "京东物流",
    "中通快递",
    "圆通速递",
    "申通快递",
    "韵达快递",
    "极兔速递",
}
REQUIRED_CATEGORY_CODES = {
    "road_damage",
    "street_light_failure",
    "manhole_cover",
    "piled_rubbish",
    "illegal_construction",
    "chaotic_parking",
    "blocked_fire_lane",
    "safety_hazard",
    "other",
}
TOP_CLASSES = {
    ("component", "01", "公用设施"),
    ("component", "02", "道路交通"),
    ("component", "03", "市容环境"),
    ("component", "04", "园林绿化"),
    ("component", "05", "房屋土地"),
    ("component", "06", "其他设施"),
    ("event", "01", "市容环境"),
    ("event", "02", "宣传广告"),
    ("event", "03", "施工管理"),
    ("event", "04", "突发事件"),
    ("event", "05", "街面秩序"),
}

ModelT = TypeVar("ModelT")


def fast_hash(password: str) -> str:
    return f"plain${password}"


async def fresh_database(directory: Path) -> AsyncEngine:
    url = f"sqlite+aiosqlite:///{directory}/t.db"
    await asyncio.to_thread(upgrade, url)
    return create_engine(Settings(env="test", database_url=url))


async def seed_fresh_database(directory: Path) -> tuple[AsyncEngine, DemoSummary]:
    engine = await fresh_database(directory)
    async with create_sessionmaker(engine)() as session:
        summary = await seed_demo(session, PASSWORD, fast_hash)
        await session.commit()
    return engine, summary


@dataclass
class Demo:
    """Every row the seed wrote, loaded once for the assertions."""

    factory: async_sessionmaker[AsyncSession]
    summary: DemoSummary
    regions: list[Region]
    communities: list[Community]  # in name order
    grids: list[Grid]
    units: list[Unit]
    pairings: list[Pairing]
    companies: list[CourierCompany]
    branches: list[CourierBranch]
    check_ins: list[CheckIn]
    users: dict[str, User]
    roles: dict[str, list[RoleAssignment]]
    categories: dict[str, Category]

    @property
    def banner(self) -> Region:
        return next(region for region in self.regions if region.name == "杭锦后旗")

    @property
    def community_one(self) -> Community:
        return self.communities[0]

    def role(self, username: str) -> RoleAssignment:
        (assignment,) = self.roles[username]
        return assignment

    def unit(self, unit_id: uuid.UUID) -> Unit:
        return next(unit for unit in self.units if unit.id == unit_id)

    def pairings_of(self, community: Community) -> list[Pairing]:
        return [pairing for pairing in self.pairings if pairing.community_id == community.id]


async def load_all(session: AsyncSession, model: type[ModelT]) -> list[ModelT]:
    return list(await session.scalars(select(model)))


@pytest.fixture(scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Demo]:
    engine, summary = await seed_fresh_database(tmp_path_factory.mktemp("demo"))
    factory = create_sessionmaker(engine)
    async with factory() as session:
        users = await load_all(session, User)
        roles: dict[str, list[RoleAssignment]] = {user.username: [] for user in users}
        usernames = {user.id: user.username for user in users}
        for assignment in await load_all(session, RoleAssignment):
            roles[usernames[assignment.user_id]].append(assignment)
        yield Demo(
            factory=factory,
            summary=summary,
            regions=await load_all(session, Region),
            communities=sorted(await load_all(session, Community), key=lambda c: c.name),
            grids=await load_all(session, Grid),
            units=await load_all(session, Unit),
            pairings=await load_all(session, Pairing),
            companies=await load_all(session, CourierCompany),
            branches=await load_all(session, CourierBranch),
            check_ins=await load_all(session, CheckIn),
            users={user.username: user for user in users},
            roles=roles,
            categories={c.code: c for c in await load_all(session, Category)},
        )
    await engine.dispose()


def test_region_tree_has_materialised_paths(demo: Demo) -> None:
    by_id = {region.id: region for region in demo.regions}
    (city,) = [region for region in demo.regions if region.parent_id is None]
    assert (city.name, city.code, city.level) == ("巴彦淖尔市", "150800", RegionLevel.city)
    assert (demo.banner.code, demo.banner.level) == ("150826", RegionLevel.county)
    townships = {r.name for r in demo.regions if r.parent_id == demo.banner.id}
    assert townships == {"陕坝镇", "头道桥镇", "团结镇"}
    for region in demo.regions:
        ancestry = [region]
        while (parent_id := ancestry[-1].parent_id) is not None:
            ancestry.append(by_id[parent_id])
        expected = "/" + "".join(f"{r.id}/" for r in reversed(ancestry))
        assert region.path == expected
        assert re.fullmatch(r"(/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})+/", region.path)


def test_communities_have_valid_boundaries_that_do_not_overlap(demo: Demo) -> None:
    assert len(demo.communities) >= 12
    township_ids = {r.id for r in demo.regions if r.level is RegionLevel.township}
    assert all(community.region_id in township_ids for community in demo.communities)
    without = [c for c in demo.communities if c.boundary is None]
    assert len(without) == 1
    assert without[0].center_lat is not None
    assert without[0].center_lng is not None

    shapes = {}
    for community in demo.communities:
        assert community.address
        assert community.phone
        if community.boundary is None:
            continue
        ring = community.boundary["coordinates"][0]
        assert community.boundary["type"] == "Polygon"
        assert ring[0] == ring[-1]
        polygon = shape(community.boundary)
        assert polygon.is_valid
        assert 40.6 < polygon.centroid.y < 41.1
        assert 106.9 < polygon.centroid.x < 107.4
        assert community.center_lng is not None
        assert community.center_lat is not None
        assert polygon.contains(Point(community.center_lng, community.center_lat))
        shapes[community.name] = polygon
    for (name_a, a), (name_b, b) in itertools.combinations(shapes.items(), 2):
        assert a.intersection(b).area < 1e-12, (name_a, name_b)

    seat = next(r for r in demo.regions if r.name == "陕坝镇")
    town = [c.boundary for c in demo.communities if c.region_id == seat.id and c.boundary]
    for boundary in town:
        # About 1–1.5 km across: 0.01° of latitude is 1.1 km, of longitude here 0.84 km.
        min_lng, min_lat, max_lng, max_lat = shape(boundary).bounds
        assert 0.009 < max_lat - min_lat < 0.016
        assert 0.011 < max_lng - min_lng < 0.02


def test_grids_tile_their_community(demo: Demo) -> None:
    for community in demo.communities:
        grids = [grid for grid in demo.grids if grid.community_id == community.id]
        assert 2 <= len(grids) <= 4
        assert {grid.name for grid in grids} <= {"第一网格", "第二网格", "第三网格", "第四网格"}
        if community.boundary is None:
            assert all(grid.boundary is None for grid in grids)
            continue
        outline = shape(community.boundary)
        pieces = [shape(grid.boundary) for grid in grids if grid.boundary is not None]
        assert len(pieces) == len(grids)
        for piece in pieces:
            assert piece.is_valid
            assert outline.buffer(TOLERANCE_DEG).contains(piece)
        for a, b in itertools.combinations(pieces, 2):
            assert a.intersection(b).area < 1e-12
        assert sum(piece.area for piece in pieces) == pytest.approx(outline.area, rel=1e-3)


def test_units_and_pairings(demo: Demo) -> None:
    assert len(demo.units) >= 8
    names = {unit.name for unit in demo.units}
    assert {
        "旗农牧和科技局",
        "旗红十字会",
        "旗科协",
        "旗住建局",
        "旗城管执法局",
        "国网杭锦后旗供电公司",
        "杭锦后旗自来水公司",
        "旗交通运输局",
    } <= names
    assert all(unit.region_id == demo.banner.id for unit in demo.units)

    leaf_codes = {code for code, category in demo.categories.items() if category.is_leaf}
    for pairing in demo.pairings:
        assert set(pairing.category_codes or ()) <= leaf_codes
        assert pairing.category_codes != []
    codes_by_unit_name: dict[str, set[tuple[str, ...] | None]] = {}
    for pairing in demo.pairings:
        codes = tuple(pairing.category_codes) if pairing.category_codes is not None else None
        codes_by_unit_name.setdefault(demo.unit(pairing.unit_id).name, set()).add(codes)
    assert codes_by_unit_name["国网杭锦后旗供电公司"] == {("street_light_failure",)}
    assert codes_by_unit_name["杭锦后旗自来水公司"] == {("water_pipe_leak",)}

    pairings_per_unit = {
        unit.id: sum(p.unit_id == unit.id for p in demo.pairings) for unit in demo.units
    }
    one_to_one = [
        community
        for community in demo.communities
        if len(pairs := demo.pairings_of(community)) == 1
        and pairings_per_unit[pairs[0].unit_id] == 1
    ]
    assert one_to_one
    assert all(demo.pairings_of(community) for community in demo.communities)

    # The success story: a whistle for chaotic parking reaches three paired units.
    for_parking = [
        pairing
        for pairing in demo.pairings_of(demo.community_one)
        if pairing.category_codes is None or "chaotic_parking" in pairing.category_codes
    ]
    assert len(for_parking) >= 3
    assert sum(p.category_codes is None for p in demo.pairings_of(demo.community_one)) >= 3


def test_courier_companies_branches_and_check_ins(demo: Demo) -> None:
    assert {company.name for company in demo.companies} == COURIER_COMPANY_NAMES
    township_ids = {r.id for r in demo.regions if r.parent_id == demo.banner.id}
    branch_company: dict[uuid.UUID | None, uuid.UUID] = {
        branch.id: branch.company_id for branch in demo.branches
    }
    couriers_by_id = {
        assignment.user_id: assignment
        for assignments in demo.roles.values()
        for assignment in assignments
        if assignment.role is Role.courier
    }
    for company in demo.companies:
        branches = [b for b in demo.branches if b.company_id == company.id]
        assert 1 <= len(branches) <= 2
        assert all(branch.region_id in township_ids for branch in branches)
        approved = [
            check_in
            for check_in in demo.check_ins
            if check_in.status is CheckInStatus.approved
            and branch_company[couriers_by_id[check_in.courier_id].branch_id] == company.id
        ]
        assert approved, company.name
    for check_in in demo.check_ins:
        assert check_in.branch_id == couriers_by_id[check_in.courier_id].branch_id
        if check_in.status is CheckInStatus.approved:
            assert check_in.decided_at is not None
            assert check_in.decided_by_id is not None
        else:
            assert check_in.decided_at is None
    pending = [c for c in demo.check_ins if c.status is CheckInStatus.pending]
    assert any(check_in.community_id == demo.community_one.id for check_in in pending)


def test_demo_accounts_hold_the_documented_roles(demo: Demo) -> None:
    first, second = demo.communities[:2]
    assert demo.role("staff1").role is Role.community_staff
    assert demo.role("staff1").community_id == first.id
    assert demo.role("staff2").community_id == second.id
    assert demo.role("grid1").role is Role.grid_worker
    assert demo.role("grid1").community_id == first.id
    for username in ("supervisor", "viewer"):
        assert demo.role(username).region_id == demo.banner.id
    assert demo.role("admin").role is Role.admin
    assert demo.role("resident1").role is Role.reporter
    assert demo.role("volunteer1").role is Role.volunteer
    assert demo.role("volunteer1").community_id == first.id
    assert demo.role("manager1").role is Role.company_manager
    company_of = {b.id: b.company_id for b in demo.branches}
    courier1_branch = demo.role("courier1").branch_id
    assert courier1_branch is not None
    assert demo.role("manager1").company_id == company_of[courier1_branch]

    unlimited_partners = {p.unit_id for p in demo.pairings_of(first) if p.category_codes is None}
    partners = {p.unit_id for p in demo.pairings_of(first)}
    unit1, unit2 = demo.role("unit1").unit_id, demo.role("unit2").unit_id
    assert unit1 != unit2
    assert {unit1, unit2} <= unlimited_partners
    assert demo.role("unit3").unit_id not in partners

    company_of_branch: dict[uuid.UUID | None, uuid.UUID] = {
        branch.id: branch.company_id for branch in demo.branches
    }
    companies = set()
    for username in ("courier1", "courier2"):
        assignment = demo.role(username)
        assert assignment.role is Role.courier
        companies.add(company_of_branch[assignment.branch_id])
        assert any(
            check_in.courier_id == demo.users[username].id
            and check_in.community_id == first.id
            and check_in.status is CheckInStatus.approved
            for check_in in demo.check_ins
        )
    assert len(companies) == 2

    scope_columns = {
        ScopeType.region: "region_id",
        ScopeType.community: "community_id",
        ScopeType.unit: "unit_id",
        ScopeType.branch: "branch_id",
        ScopeType.company: "company_id",
    }
    for assignments in demo.roles.values():
        for assignment in assignments:
            scope = ROLE_SCOPE[assignment.role]
            set_columns = {c for c in scope_columns.values() if getattr(assignment, c)}
            assert set_columns == ({scope_columns[scope]} if scope else set())

    # Every account one signs in as is listed; the 12345 hotline's files through Open311 only.
    listed = {account.username for account in demo.summary.accounts}
    signing_in = {name for name, user in demo.users.items() if user.password_hash != NO_PASSWORD}
    assert listed == signing_in
    assert set(demo.users) - listed == {"integration-demofile"}
    people = [demo.users[name] for name in signing_in]
    for user in people:
        assert user.password_hash == fast_hash(PASSWORD)
        assert user.phone is not None
        assert re.fullmatch(r"1[358]\d{9}", user.phone)
        assert re.search(r"[\u4e00-\u9fff]", user.display_name)
    assert len({user.phone for user in people}) == len(people)
    described = {account.username: account.role_description for account in demo.summary.accounts}
    assert first.name in described["staff1"]


def test_categories_follow_the_standard_with_valid_time_limits(demo: Demo) -> None:
    categories = demo.categories
    assert set(categories) >= REQUIRED_CATEGORY_CODES
    assert demo.summary.categories_inserted == len(categories)
    tops = {code: c for code, c in categories.items() if not c.is_leaf}
    assert {(c.kind.value, c.standard_code, c.name) for c in tops.values()} == TOP_CLASSES
    assert all(top.parent_code is None for top in tops.values())
    for category in categories.values():
        assert 0 < category.accept_within_hours <= category.resolve_within_hours
        assert category.duplicate_radius_m > 0
        assert category.name
        assert category.name_en
        if not category.is_leaf:
            continue
        assert category.parent_code is not None
        parent = tops[category.parent_code]
        assert category.kind is parent.kind
        assert category.standard_code is not None
        assert parent.standard_code is not None
        assert re.fullmatch(re.escape(parent.standard_code) + r"\d\d", category.standard_code)

    def limits(code: str) -> tuple[float, float, HoursKind]:
        category = categories[code]
        return category.accept_within_hours, category.resolve_within_hours, category.hours_kind

    assert limits("safety_hazard") == (2, 24, HoursKind.calendar)
    assert limits("street_light_failure") == (24, 40, HoursKind.working)
    assert categories["safety_hazard"].default_priority is Priority.urgent
    assert categories["road_damage"].duplicate_radius_m > 100
    assert categories["manhole_cover"].duplicate_radius_m < 100


async def test_category_seed_is_idempotent(demo: Demo) -> None:
    async with demo.factory() as session:
        assert await seed_categories(session) == 0


async def test_seeding_a_database_that_has_regions_is_refused(demo: Demo) -> None:
    async with demo.factory() as session:
        with pytest.raises(DatabaseNotEmpty):
            await seed_demo(session, PASSWORD, fast_hash)


async def test_seed_builds_the_same_rows_every_time(demo: Demo, tmp_path: Path) -> None:
    engine, summary = await seed_fresh_database(tmp_path)
    try:
        async with create_sessionmaker(engine)() as session:
            communities = await load_all(session, Community)
            grids = await load_all(session, Grid)
            users = await load_all(session, User)
    finally:
        await engine.dispose()
    assert summary.accounts == demo.summary.accounts
    assert {(c.id, c.name, str(c.boundary)) for c in communities} == {
        (c.id, c.name, str(c.boundary)) for c in demo.communities
    }
    assert {(g.id, str(g.boundary)) for g in grids} == {(g.id, str(g.boundary)) for g in demo.grids}
    assert {(u.id, u.username, u.phone) for u in users} == {
        (u.id, u.username, u.phone) for u in demo.users.values()
    }
