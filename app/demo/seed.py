"""The demo organisation, modelled on the real programme in 巴彦淖尔市杭锦后旗, built into an
empty database from `organisation.json`.

Couriers of eight companies check in with the communities they deliver in; each community is
paired with units of the banner, one-to-one or several-to-one. Every id is a uuid5 of names and
every boundary is derived from fixed numbers, so two runs build the same rows and the docs can
point at them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.calendar.working_days import rebuild as rebuild_working_days
from app.categories.taxonomy import seed_categories
from app.core.workcalendar import WorkingCalendar
from app.demo.keys import demo_keys
from app.demo.organisation import Organisation, organisation
from app.demo.programmes import add_programmes
from app.models.base import utcnow
from app.models.enums import CheckInStatus, RegionLevel, Role
from app.models.org import (
    CheckIn,
    Community,
    CourierBranch,
    CourierCompany,
    Grid,
    Pairing,
    Region,
    Unit,
)
from app.models.users import RoleAssignment, User
from app.org.communities.boundaries import store_boundary
from app.org.locator_versions import record_locator_change

DEMO_NAMESPACE = uuid.UUID("5b7e1c3a-9f0d-4e2b-8a61-3c5d7e9f1a24")


def demo_id(*names: str) -> uuid.UUID:
    """The id of a demo row, from its kind and names: ``demo_id("unit", "旗科协")``."""
    return uuid.uuid5(DEMO_NAMESPACE, "/".join(names))


class DatabaseNotEmpty(RuntimeError):
    """The demo is only ever built into an empty database, never mixed with real data."""


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    display_name: str
    role_description: str


@dataclass(frozen=True, slots=True)
class DemoSummary:
    accounts: tuple[DemoAccount, ...]
    categories_inserted: int


def _mobile(index: int) -> str:
    prefixes = organisation().mobile_prefixes
    # 7919 is prime to 10000, so the first 10000 indexes give distinct numbers.
    return f"{prefixes[index % len(prefixes)]}4780{(1234 + 7919 * index) % 10000:04d}"


async def seed_demo(
    session: AsyncSession, password: str, hash_password: Callable[[str], str]
) -> DemoSummary:
    """Build the demo organisation, categories and accounts. Flushes; the caller commits.

    Raises DatabaseNotEmpty if any region exists."""
    if await session.scalar(select(Region.id).limit(1)) is not None:
        raise DatabaseNotEmpty(
            "the database already has regions; the demo is only seeded into an empty database"
        )
    categories_inserted = await seed_categories(session)
    # Every demo account shares the password, so one (slow, salted) hash serves them all.
    builder = _DemoBuilder(session, hash_password(password))
    await builder.build()
    # The statistics' table of the working calendar (the published one: a new database has
    # no days set by an administrator), so the first statistic need not build it.
    await rebuild_working_days(session, WorkingCalendar())
    return DemoSummary(tuple(builder.accounts), categories_inserted)


class _DemoBuilder:
    """Adds the demo rows layer by layer, flushing each layer before the next: rows refer to
    one another by ids set by hand, which the unit of work does not always order by."""

    def __init__(self, session: AsyncSession, password_hash: str) -> None:
        self.session = session
        self.password_hash = password_hash
        self.accounts: list[DemoAccount] = []
        self.regions: dict[str, Region] = {}
        self.communities: dict[str, Community] = {}
        self.community_places: dict[str, str] = {}  # community name → "<township><community>"
        self.units: dict[str, Unit] = {}
        self.branches: dict[tuple[str, int], CourierBranch] = {}
        self.companies: dict[str, CourierCompany] = {}
        self.staff: dict[str, User] = {}

    async def build(self) -> None:
        self._add_regions()
        await self.session.flush()
        self._add_communities()
        await record_locator_change(self.session, [c.id for c in self.communities.values()])
        self._add_units_and_pairings()
        await self.session.flush()
        self._add_courier_companies()
        await self.session.flush()
        self._add_people()
        await self.session.flush()
        self._add_check_ins()
        await self.session.flush()
        add_programmes(self.session, self.communities, self.companies, self.staff, demo_id)
        await self.session.flush()

    def _add_region(
        self, name: str, code: str, level: RegionLevel, parent: Region | None
    ) -> Region:
        region_id = demo_id("region", name)
        path = f"{parent.path if parent else '/'}{region_id}/"
        region = Region(
            id=region_id,
            name=name,
            code=code,
            level=level,
            parent_id=parent.id if parent else None,
            path=path,
        )
        self.session.add(region)
        self.regions[name] = region
        return region

    def _add_regions(self) -> None:
        org = organisation()
        city = self._add_region(org.city.name, org.city.code, RegionLevel.city, None)
        banner = self._add_region(org.banner.name, org.banner.code, RegionLevel.county, city)
        for township in org.townships:
            self._add_region(township.name, township.code, RegionLevel.township, banner)

    def _add_communities(self) -> None:
        grid_names = organisation().grid_names
        for township in organisation().townships:
            for spec in township.communities:
                quad = township.lattice.cell(*spec.cell) if spec.cell else None
                center = quad.point(0.5, 0.5) if quad else spec.center
                if center is None:
                    raise ValueError(f"{spec.name} has neither a boundary nor a centre")
                community = Community(
                    id=demo_id("community", township.name, spec.name),
                    name=spec.name,
                    kind=spec.kind,
                    region_id=self.regions[township.name].id,
                    address=spec.address,
                    phone=spec.phone,
                    center_lng=center[0],
                    center_lat=center[1],
                )
                store_boundary(community, quad.geojson() if quad else None)
                self.session.add(community)
                self.communities[spec.name] = community
                self.community_places[spec.name] = township.name + spec.name
                columns, rows = spec.grid_layout
                pieces = quad.split(columns, rows) if quad else [None] * (columns * rows)
                for number, piece in enumerate(pieces):
                    grid_name = grid_names[number]
                    grid = Grid(
                        id=demo_id("grid", township.name, spec.name, grid_name),
                        community_id=community.id,
                        name=grid_name,
                    )
                    store_boundary(grid, piece.geojson() if piece else None)
                    self.session.add(grid)

    def _add_units_and_pairings(self) -> None:
        org = organisation()
        banner = self.regions[org.banner.name]
        for spec in org.units:
            unit = Unit(
                id=demo_id("unit", spec.name),
                name=spec.name,
                kind=spec.kind,
                region_id=banner.id,
                phone=spec.phone,
                description=spec.description,
            )
            self.session.add(unit)
            self.units[spec.name] = unit
        for pairing in org.pairings:
            codes = pairing.category_codes
            self.session.add(
                Pairing(
                    id=demo_id("pairing", pairing.community, pairing.unit),
                    community_id=self.communities[pairing.community].id,
                    unit_id=self.units[pairing.unit].id,
                    category_codes=list(codes) if codes is not None else None,
                )
            )

    def _add_courier_companies(self) -> None:
        for company_spec in organisation().courier_companies:
            company = CourierCompany(
                id=demo_id("courier_company", company_spec.name),
                name=company_spec.name,
                short_name=company_spec.short_name,
            )
            self.session.add(company)
            self.companies[company.name] = company
            for index, spec in enumerate(company_spec.branches):
                branch = CourierBranch(
                    id=demo_id("courier_branch", company_spec.name, spec.name),
                    company_id=company.id,
                    name=spec.name,
                    region_id=self.regions[spec.township].id,
                    address=spec.address,
                )
                self.session.add(branch)
                self.branches[(company_spec.name, index)] = branch

    def _add_user(
        self,
        username: str,
        display_name: str,
        role: Role,
        role_description: str,
        *,
        region: Region | None = None,
        community: Community | None = None,
        unit: Unit | None = None,
        branch: CourierBranch | None = None,
        company: CourierCompany | None = None,
    ) -> User:
        user = User(
            id=demo_id("user", username),
            username=username,
            display_name=display_name,
            phone=_mobile(len(self.accounts)),
            password_hash=self.password_hash,
        )
        self.session.add(user)
        self.session.add(
            RoleAssignment(
                id=demo_id("role_assignment", username, role.value),
                user_id=user.id,
                role=role,
                region_id=region.id if region else None,
                community_id=community.id if community else None,
                unit_id=unit.id if unit else None,
                branch_id=branch.id if branch else None,
                company_id=company.id if company else None,
            )
        )
        self.accounts.append(DemoAccount(username, display_name, role_description))
        return user

    def _add_people(self) -> None:
        # In this order: each account's phone number comes from its place among the accounts.
        org = organisation()
        self._add_overseers(org)
        self._add_community_people(org)
        for spec in org.units:
            self._add_user(
                spec.staff_username,
                spec.staff_name,
                Role.unit_staff,
                f"unit staff of {spec.name}",
                unit=self.units[spec.name],
            )
        for courier in org.couriers:
            branch = self.branches[(courier.company, courier.branch_index)]
            self._add_user(
                courier.username,
                courier.display_name,
                Role.courier,
                f"courier of {courier.company} ({branch.name})",
                branch=branch,
            )
        self._add_user("resident1", org.people["resident1"], Role.reporter, "reporter (resident)")
        community_one = min(self.communities.values(), key=lambda community: community.name)
        self._add_user(
            "volunteer1",
            org.people["volunteer1"],
            Role.volunteer,
            f"volunteer of {self.community_places[community_one.name]}",
            community=community_one,
        )
        self._add_user(
            "manager1",
            org.people["manager1"],
            Role.company_manager,
            "manager of 顺丰速运 (its points store)",
            company=self.companies["顺丰速运"],
        )

    def _add_overseers(self, org: Organisation) -> None:
        """The administrator, the banner's and the seat township's supervisors, the viewer."""
        people = org.people
        banner = self.regions[org.banner.name]
        seat = self.regions[org.townships[0].name]
        self._add_user("admin", people["admin"], Role.admin, "administrator")
        self._add_user(
            "supervisor",
            people["supervisor"],
            Role.supervisor,
            f"supervisor of {banner.name}",
            region=banner,
        )
        self._add_user(
            "supervisor2",
            people["supervisor2"],
            Role.supervisor,
            f"supervisor of {seat.name}",
            region=seat,
        )
        self._add_user(
            "viewer",
            people["viewer"],
            Role.viewer,
            f"viewer (dashboards) of {banner.name}",
            region=banner,
        )
        self.session.add_all(demo_keys(banner, demo_id))

    def _add_community_people(self, org: Organisation) -> None:
        """One staff account per community, and community 1's grid worker."""
        # staffN is the staff of the N-th community by name, so staff1 is community 1's.
        staff_names = {
            spec.name: spec.staff_name
            for township in org.townships
            for spec in township.communities
        }
        by_name = sorted(self.communities.values(), key=lambda community: community.name)
        for number, community in enumerate(by_name, start=1):
            self.staff[community.name] = self._add_user(
                f"staff{number}",
                staff_names[community.name],
                Role.community_staff,
                f"community staff of {self.community_places[community.name]}",
                community=community,
            )
        community_one = by_name[0]
        self._add_user(
            "grid1",
            org.people["grid1"],
            Role.grid_worker,
            f"grid worker of {self.community_places[community_one.name]}",
            community=community_one,
        )

    def _add_check_ins(self) -> None:
        requested_at = utcnow() - timedelta(days=3)
        for courier in organisation().couriers:
            branch = self.branches[(courier.company, courier.branch_index)]
            courier_id = demo_id("user", courier.username)
            for community_name in courier.approved:
                self.session.add(
                    CheckIn(
                        id=demo_id("check_in", courier.username, community_name),
                        courier_id=courier_id,
                        community_id=self.communities[community_name].id,
                        branch_id=branch.id,
                        status=CheckInStatus.approved,
                        note=f"负责{community_name}片区投递",
                        requested_at=requested_at,
                        decided_at=requested_at + timedelta(hours=2),
                        decided_by_id=self.staff[community_name].id,
                    )
                )
            for community_name in courier.pending:
                self.session.add(
                    CheckIn(
                        id=demo_id("check_in", courier.username, community_name),
                        courier_id=courier_id,
                        community_id=self.communities[community_name].id,
                        branch_id=branch.id,
                        status=CheckInStatus.pending,
                        note=f"新接手{community_name}片区投递",
                        requested_at=requested_at + timedelta(days=2),
                    )
                )
