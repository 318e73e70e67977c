"""The demo organisation, modelled on the real programme in 巴彦淖尔市杭锦后旗.

Couriers of eight companies check in with the communities they deliver in; each community is
paired with units of the banner, one-to-one or several-to-one. Every id is a uuid5 of names and
every boundary is derived from fixed numbers, so two runs build the same rows and the docs can
point at them.
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.categories.taxonomy import seed_categories
from app.models.base import utcnow
from app.models.enums import CheckInStatus, CommunityKind, RegionLevel, Role, UnitKind
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


LngLat = tuple[float, float]


@dataclass(frozen=True, slots=True)
class _Quad:
    """A convex quadrilateral, corners counter-clockwise from the south-west."""

    sw: LngLat
    se: LngLat
    ne: LngLat
    nw: LngLat

    def point(self, u: float, v: float) -> LngLat:
        """The bilinear point at fraction u from west to east and v from south to north."""
        south = _lerp(self.sw, self.se, u)
        north = _lerp(self.nw, self.ne, u)
        lng, lat = _lerp(south, north, v)
        return (round(lng, 6), round(lat, 6))

    def split(self, columns: int, rows: int) -> list[_Quad]:
        """Tile the quad: lines of constant u or v are straight, so the pieces share edges."""
        return [
            _Quad(
                sw=self.point(col / columns, row / rows),
                se=self.point((col + 1) / columns, row / rows),
                ne=self.point((col + 1) / columns, (row + 1) / rows),
                nw=self.point(col / columns, (row + 1) / rows),
            )
            for row in range(rows)
            for col in range(columns)
        ]

    def geojson(self) -> dict[str, Any]:
        # RFC 7946: the exterior ring runs counter-clockwise and ends where it starts.
        ring = [self.sw, self.se, self.ne, self.nw, self.sw]
        return {"type": "Polygon", "coordinates": [[[lng, lat] for lng, lat in ring]]}


def _lerp(a: LngLat, b: LngLat, t: float) -> LngLat:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


@dataclass(frozen=True, slots=True)
class _Lattice:
    """Cells between meridians and parallels with every corner nudged a little, so the cells
    look drawn by hand; neighbours share their corners, so they tile without gap or overlap."""

    key: str
    lngs: tuple[float, ...]  # west to east
    lats: tuple[float, ...]  # south to north

    def cell(self, column: int, row: int) -> _Quad:
        return _Quad(
            sw=self._corner(column, row),
            se=self._corner(column + 1, row),
            ne=self._corner(column + 1, row + 1),
            nw=self._corner(column, row + 1),
        )

    def _corner(self, column: int, row: int) -> LngLat:
        # Within a tenth of the narrowest cell every cell stays convex.
        reach = 0.1 * min(_smallest_step(self.lngs), _smallest_step(self.lats))
        digest = hashlib.sha256(f"{self.key}:{column}:{row}".encode()).digest()
        nudge_lng = (digest[0] / 255 * 2 - 1) * reach
        nudge_lat = (digest[1] / 255 * 2 - 1) * reach
        return (round(self.lngs[column] + nudge_lng, 6), round(self.lats[row] + nudge_lat, 6))


def _smallest_step(edges: tuple[float, ...]) -> float:
    return min(b - a for a, b in itertools.pairwise(edges))


@dataclass(frozen=True, slots=True)
class _CommunitySpec:
    name: str
    kind: CommunityKind
    address: str
    phone: str
    staff_name: str
    grid_layout: tuple[int, int]  # grids across, grids up
    cell: tuple[int, int] | None  # the lattice cell it covers; None: no boundary drawn yet
    center: LngLat | None = None  # only for a community without a boundary


@dataclass(frozen=True, slots=True)
class _TownshipSpec:
    name: str
    code: str
    lattice: _Lattice
    communities: tuple[_CommunitySpec, ...]


_COMMUNITY = CommunityKind.community
_VILLAGE = CommunityKind.village

CITY = ("巴彦淖尔市", "150800")
BANNER = ("杭锦后旗", "150826")

# The banner seat 陕坝镇 is a town of ~1.3 km communities; the villages further out are larger.
TOWNSHIPS: tuple[_TownshipSpec, ...] = (
    _TownshipSpec(
        "陕坝镇",
        "150826100",
        _Lattice("陕坝镇", (107.119, 107.133, 107.147, 107.161), (40.839, 40.850, 40.861)),
        (
            _CommunitySpec("团结社区", _COMMUNITY, "陕坝镇团结路18号", "0478-6612301",
                           "李秀英", (2, 1), (0, 0)),
            _CommunitySpec("南街社区", _COMMUNITY, "陕坝镇南街56号", "0478-6613526",
                           "王丽", (2, 1), (1, 0)),
            _CommunitySpec("东街社区", _COMMUNITY, "陕坝镇东街平房区12号", "0478-6617708",
                           "刘芳", (2, 2), (2, 0)),
            _CommunitySpec("西街社区", _COMMUNITY, "陕坝镇西街33号", "0478-6615240",
                           "张敏", (2, 1), (0, 1)),
            _CommunitySpec("北街社区", _COMMUNITY, "陕坝镇北街7号", "0478-6618862",
                           "陈静", (3, 1), (1, 1)),
            _CommunitySpec("新华社区", _COMMUNITY, "陕坝镇新华街102号", "0478-6614419",
                           "赵丽娟", (2, 1), (2, 1)),
        ),
    ),
    _TownshipSpec(
        "头道桥镇",
        "150826101",
        _Lattice("头道桥镇", (107.020, 107.036, 107.080), (40.900, 40.916, 40.950)),
        (
            _CommunitySpec("头道桥社区", _COMMUNITY, "头道桥镇人民路9号", "0478-6721056",
                           "周艳", (2, 1), (0, 0)),
            _CommunitySpec("联丰村", _VILLAGE, "头道桥镇联丰村村委会", "0478-6723318",
                           "吴红梅", (2, 1), (1, 0)),
            _CommunitySpec("民建村", _VILLAGE, "头道桥镇民建村村委会", "0478-6725402",
                           "徐婷", (1, 2), (0, 1)),
            _CommunitySpec("红星村", _VILLAGE, "头道桥镇红星村村委会", "0478-6726631",
                           "孙晓燕", (2, 2), (1, 1)),
        ),
    ),
    _TownshipSpec(
        "团结镇",
        "150826105",
        _Lattice("团结镇", (107.200, 107.245, 107.290, 107.335), (40.780, 40.815)),
        (
            _CommunitySpec("新民村", _VILLAGE, "团结镇新民村村委会", "0478-6831207",
                           "胡玉兰", (2, 1), (0, 0)),
            _CommunitySpec("永胜村", _VILLAGE, "团结镇永胜村村委会", "0478-6832415",
                           "朱慧", (3, 1), (1, 0)),
            _CommunitySpec("庆丰村", _VILLAGE, "团结镇庆丰村村委会", "0478-6835590",
                           "高娜", (2, 1), (2, 0)),
            # Its boundary has not been surveyed yet: routing has only the centre to go by.
            _CommunitySpec("巴音嘎查", _VILLAGE, "团结镇巴音嘎查嘎查委员会", "0478-6837724",
                           "林霞", (2, 1), None, (107.318, 40.752)),
        ),
    ),
)  # fmt: skip

GRID_NAMES = ("第一网格", "第二网格", "第三网格", "第四网格")


@dataclass(frozen=True, slots=True)
class _UnitSpec:
    name: str
    kind: UnitKind
    phone: str
    description: str
    staff_username: str
    staff_name: str


UNITS: tuple[_UnitSpec, ...] = (
    _UnitSpec("旗农牧和科技局", UnitKind.department, "0478-6621135",
              "农牧业、农村人居环境与科技推广", "unit1", "杨志强"),
    _UnitSpec("旗红十字会", UnitKind.public_body, "0478-6623312",
              "应急救护、困难群众救助与志愿服务", "unit2", "黄丽"),
    _UnitSpec("旗交通运输局", UnitKind.department, "0478-6624230",
              "农村公路养护与交通标志设施", "unit3", "周强"),
    _UnitSpec("旗科协", UnitKind.public_body, "0478-6622480",
              "科普宣传与科技志愿服务", "unit4", "郑晓梅"),
    _UnitSpec("旗住建局", UnitKind.department, "0478-6625006",
              "市政设施、房屋安全与物业管理", "unit5", "许国庆"),
    _UnitSpec("旗城管执法局", UnitKind.department, "0478-6627110",
              "市容秩序、违法建设与占道经营执法", "unit6", "冯刚"),
    _UnitSpec("国网杭锦后旗供电公司", UnitKind.enterprise, "0478-6629558",
              "供电线路与路灯照明运维", "unit7", "曹永明"),
    _UnitSpec("杭锦后旗自来水公司", UnitKind.enterprise, "0478-6626789",
              "城镇供水管网维修", "unit8", "彭辉"),
    _UnitSpec("旗消防救援大队", UnitKind.department, "0478-6620119",
              "消防通道与火灾隐患排查", "unit9", "董磊"),
    _UnitSpec("旗市场监督管理局", UnitKind.department, "0478-6628315",
              "市场秩序与特种设备安全", "unit10", "袁芳"),
)  # fmt: skip

_CITY_ORDER_CODES = (
    "piled_rubbish",
    "exposed_garbage",
    "illegal_small_ads",
    "illegal_construction",
    "chaotic_parking",
    "street_vending",
)
_STREET_LIGHTS = ("street_light_failure",)
_WATER = ("water_pipe_leak",)
_FIRE = ("blocked_fire_lane", "safety_hazard")

# (community, unit, category codes or None for all). 东街社区 is paired several-to-one with
# the three units of the real success story, which accept every category, plus utilities
# limited to their own trade; 南街社区 and 旗市场监督管理局 are a one-to-one pair.
PAIRINGS: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("东街社区", "旗农牧和科技局", None),
    ("东街社区", "旗红十字会", None),
    ("东街社区", "旗科协", None),
    ("东街社区", "旗城管执法局", _CITY_ORDER_CODES),
    ("东街社区", "国网杭锦后旗供电公司", _STREET_LIGHTS),
    ("东街社区", "杭锦后旗自来水公司", _WATER),
    ("北街社区", "旗住建局", None),
    ("北街社区", "国网杭锦后旗供电公司", _STREET_LIGHTS),
    ("北街社区", "杭锦后旗自来水公司", _WATER),
    ("南街社区", "旗市场监督管理局", None),
    ("团结社区", "旗城管执法局", None),
    ("团结社区", "旗消防救援大队", _FIRE),
    ("团结社区", "国网杭锦后旗供电公司", _STREET_LIGHTS),
    ("西街社区", "旗红十字会", None),
    ("西街社区", "旗城管执法局", _CITY_ORDER_CODES),
    ("新华社区", "旗住建局", None),
    ("新华社区", "旗科协", None),
    ("新华社区", "旗消防救援大队", _FIRE),
    ("头道桥社区", "旗交通运输局", None),
    ("头道桥社区", "国网杭锦后旗供电公司", _STREET_LIGHTS),
    ("联丰村", "旗农牧和科技局", None),
    ("民建村", "旗农牧和科技局", None),
    ("民建村", "旗交通运输局", ("road_damage", "traffic_sign_damage")),
    ("红星村", "旗科协", None),
    ("新民村", "旗红十字会", None),
    ("永胜村", "旗农牧和科技局", None),
    ("庆丰村", "旗交通运输局", None),
    ("巴音嘎查", "旗农牧和科技局", None),
)


@dataclass(frozen=True, slots=True)
class _BranchSpec:
    name: str
    township: str
    address: str


@dataclass(frozen=True, slots=True)
class _CompanySpec:
    name: str
    short_name: str
    branches: tuple[_BranchSpec, ...]


COURIER_COMPANIES: tuple[_CompanySpec, ...] = (
    _CompanySpec("中国邮政", "邮政", (
        _BranchSpec("杭锦后旗陕坝邮政支局", "陕坝镇", "陕坝镇解放街22号"),
        _BranchSpec("头道桥邮政所", "头道桥镇", "头道桥镇人民路3号"),
    )),
    _CompanySpec("顺丰速运", "顺丰", (
        _BranchSpec("顺丰速运杭锦后旗营业部", "陕坝镇", "陕坝镇车站路31号"),
    )),
    _CompanySpec("京东物流", "京东", (
        _BranchSpec("京东物流杭锦后旗配送站", "陕坝镇", "陕坝镇东环路8号"),
    )),
    _CompanySpec("中通快递", "中通", (
        _BranchSpec("中通快递杭锦后旗分部", "陕坝镇", "陕坝镇建设路66号"),
        _BranchSpec("中通快递团结镇服务点", "团结镇", "团结镇团结街12号"),
    )),
    _CompanySpec("圆通速递", "圆通", (
        _BranchSpec("圆通速递杭锦后旗网点", "陕坝镇", "陕坝镇胜利路45号"),
    )),
    _CompanySpec("申通快递", "申通", (
        _BranchSpec("申通快递杭锦后旗网点", "陕坝镇", "陕坝镇建设路90号"),
        _BranchSpec("申通快递头道桥服务点", "头道桥镇", "头道桥镇人民路21号"),
    )),
    _CompanySpec("韵达快递", "韵达", (
        _BranchSpec("韵达快递杭锦后旗网点", "陕坝镇", "陕坝镇车站路57号"),
    )),
    _CompanySpec("极兔速递", "极兔", (
        _BranchSpec("极兔速递杭锦后旗网点", "陕坝镇", "陕坝镇东环路26号"),
    )),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _CourierSpec:
    username: str
    display_name: str
    company: str
    branch_index: int
    approved: tuple[str, ...]  # communities whose staff approved the check-in
    pending: tuple[str, ...] = ()  # check-ins waiting for the community's staff


COURIERS: tuple[_CourierSpec, ...] = (
    _CourierSpec("courier1", "孙浩", "顺丰速运", 0, ("东街社区", "南街社区")),
    _CourierSpec("courier2", "马俊", "中通快递", 0, ("东街社区", "北街社区")),
    _CourierSpec("courier3", "高建军", "中国邮政", 0, ("北街社区", "新华社区")),
    _CourierSpec("courier4", "何磊", "京东物流", 0, ("团结社区", "西街社区")),
    _CourierSpec("courier5", "罗鹏", "圆通速递", 0, ("南街社区",)),
    _CourierSpec("courier6", "郭亮", "申通快递", 1, ("头道桥社区", "联丰村")),
    _CourierSpec("courier7", "宋海涛", "韵达快递", 0, ("西街社区",)),
    _CourierSpec("courier8", "谢宇", "极兔速递", 0, ("新华社区",)),
    _CourierSpec("courier9", "韩文斌", "中国邮政", 1, ("民建村", "红星村")),
    _CourierSpec("courier10", "唐凯", "中通快递", 1, ("新民村", "永胜村", "庆丰村")),
    _CourierSpec("courier11", "冯志刚", "韵达快递", 0, (), ("东街社区",)),
    _CourierSpec("courier12", "曹磊", "极兔速递", 0, (), ("东街社区",)),
    _CourierSpec("courier13", "邓晓峰", "京东物流", 0, ("团结社区",), ("北街社区",)),
)

_MOBILE_PREFIXES = ("138", "150", "186", "135", "158", "189", "139", "152", "187")


def _mobile(index: int) -> str:
    # 7919 is prime to 10000, so the first 10000 indexes give distinct numbers.
    return (
        f"{_MOBILE_PREFIXES[index % len(_MOBILE_PREFIXES)]}4780{(1234 + 7919 * index) % 10000:04d}"
    )


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
        self.staff: dict[str, User] = {}

    async def build(self) -> None:
        self._add_regions()
        await self.session.flush()
        self._add_communities()
        await self.session.flush()
        self._add_units_and_pairings()
        await self.session.flush()
        self._add_courier_companies()
        await self.session.flush()
        self._add_people()
        await self.session.flush()
        self._add_check_ins()
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
        city = self._add_region(*CITY, RegionLevel.city, None)
        banner = self._add_region(*BANNER, RegionLevel.county, city)
        for township in TOWNSHIPS:
            self._add_region(township.name, township.code, RegionLevel.township, banner)

    def _add_communities(self) -> None:
        for township in TOWNSHIPS:
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
                    boundary=quad.geojson() if quad else None,
                    center_lng=center[0],
                    center_lat=center[1],
                )
                self.session.add(community)
                self.communities[spec.name] = community
                self.community_places[spec.name] = township.name + spec.name
                columns, rows = spec.grid_layout
                pieces = quad.split(columns, rows) if quad else [None] * (columns * rows)
                for number, piece in enumerate(pieces):
                    grid_name = GRID_NAMES[number]
                    self.session.add(
                        Grid(
                            id=demo_id("grid", township.name, spec.name, grid_name),
                            community_id=community.id,
                            name=grid_name,
                            boundary=piece.geojson() if piece else None,
                        )
                    )

    def _add_units_and_pairings(self) -> None:
        banner = self.regions[BANNER[0]]
        for spec in UNITS:
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
        for community_name, unit_name, category_codes in PAIRINGS:
            self.session.add(
                Pairing(
                    id=demo_id("pairing", community_name, unit_name),
                    community_id=self.communities[community_name].id,
                    unit_id=self.units[unit_name].id,
                    category_codes=list(category_codes) if category_codes else None,
                )
            )

    def _add_courier_companies(self) -> None:
        for company_spec in COURIER_COMPANIES:
            company = CourierCompany(
                id=demo_id("courier_company", company_spec.name),
                name=company_spec.name,
                short_name=company_spec.short_name,
            )
            self.session.add(company)
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
            )
        )
        self.accounts.append(DemoAccount(username, display_name, role_description))
        return user

    def _add_people(self) -> None:
        banner = self.regions[BANNER[0]]
        seat = self.regions[TOWNSHIPS[0].name]
        self._add_user("admin", "系统管理员", Role.admin, "administrator")
        self._add_user(
            "supervisor", "王建国", Role.supervisor, f"supervisor of {banner.name}", region=banner
        )
        self._add_user(
            "supervisor2", "李文华", Role.supervisor, f"supervisor of {seat.name}", region=seat
        )
        self._add_user(
            "viewer", "赵晓燕", Role.viewer, f"viewer (dashboards) of {banner.name}", region=banner
        )
        # staffN is the staff of the N-th community by name, so staff1 is community 1's.
        staff_names = {
            spec.name: spec.staff_name for township in TOWNSHIPS for spec in township.communities
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
            "张伟",
            Role.grid_worker,
            f"grid worker of {self.community_places[community_one.name]}",
            community=community_one,
        )
        for spec in UNITS:
            self._add_user(
                spec.staff_username,
                spec.staff_name,
                Role.unit_staff,
                f"unit staff of {spec.name}",
                unit=self.units[spec.name],
            )
        for courier in COURIERS:
            branch = self.branches[(courier.company, courier.branch_index)]
            self._add_user(
                courier.username,
                courier.display_name,
                Role.courier,
                f"courier of {courier.company} ({branch.name})",
                branch=branch,
            )
        self._add_user("resident1", "吴桂兰", Role.reporter, "reporter (resident)")

    def _add_check_ins(self) -> None:
        requested_at = utcnow() - timedelta(days=3)
        for courier in COURIERS:
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
