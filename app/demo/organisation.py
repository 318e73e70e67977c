"""The demo organisation as data (`organisation.json`): the regions of 杭锦后旗, its communities
and their drawn boundaries, the paired units, the courier companies and their couriers. Read
once, checked by its types, so a mistyped name stops the seed instead of seeding half a demo."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from app.demo.geometry import Lattice, LngLat
from app.models.enums import CommunityKind, UnitKind


@dataclass(frozen=True, slots=True)
class NamedCode:
    name: str
    code: str


@dataclass(frozen=True, slots=True)
class CommunitySpec:
    name: str
    kind: CommunityKind
    address: str
    phone: str
    staff_name: str
    grid_layout: tuple[int, int]  # grids across, grids up
    cell: tuple[int, int] | None  # the lattice cell it covers; None: no boundary drawn yet
    center: LngLat | None  # only for a community without a boundary


@dataclass(frozen=True, slots=True)
class TownshipSpec:
    name: str
    code: str
    lattice: Lattice
    communities: tuple[CommunitySpec, ...]


@dataclass(frozen=True, slots=True)
class UnitSpec:
    name: str
    kind: UnitKind
    phone: str
    description: str
    staff_username: str
    staff_name: str


@dataclass(frozen=True, slots=True)
class PairingSpec:
    community: str
    unit: str
    category_codes: tuple[str, ...] | None  # None: every category


@dataclass(frozen=True, slots=True)
class BranchSpec:
    name: str
    township: str
    address: str


@dataclass(frozen=True, slots=True)
class CompanySpec:
    name: str
    short_name: str
    branches: tuple[BranchSpec, ...]


@dataclass(frozen=True, slots=True)
class CourierSpec:
    username: str
    display_name: str
    company: str
    branch_index: int
    approved: tuple[str, ...]  # communities whose staff approved the check-in
    pending: tuple[str, ...]  # check-ins waiting for the community's staff


@dataclass(frozen=True, slots=True)
class Organisation:
    city: NamedCode
    banner: NamedCode
    townships: tuple[TownshipSpec, ...]
    grid_names: tuple[str, ...]
    units: tuple[UnitSpec, ...]
    pairings: tuple[PairingSpec, ...]
    courier_companies: tuple[CompanySpec, ...]
    couriers: tuple[CourierSpec, ...]
    people: dict[str, str]  # the other demo accounts' display names, by username
    mobile_prefixes: tuple[str, ...]


@cache
def organisation() -> Organisation:
    text = resources.files("app.demo").joinpath("organisation.json").read_text(encoding="utf-8")
    return _parse(json.loads(text))


def _parse(data: dict[str, Any]) -> Organisation:
    groups: dict[str, list[str]] = data["category_groups"]
    return Organisation(
        city=NamedCode(**data["city"]),
        banner=NamedCode(**data["banner"]),
        townships=tuple(_township(t) for t in data["townships"]),
        grid_names=tuple(data["grid_names"]),
        units=tuple(UnitSpec(**{**u, "kind": UnitKind(u["kind"])}) for u in data["units"]),
        pairings=tuple(
            PairingSpec(
                community=p["community"],
                unit=p["unit"],
                category_codes=tuple(groups[p["categories"]]) if p["categories"] else None,
            )
            for p in data["pairings"]
        ),
        courier_companies=tuple(
            CompanySpec(
                name=c["name"],
                short_name=c["short_name"],
                branches=tuple(BranchSpec(**b) for b in c["branches"]),
            )
            for c in data["courier_companies"]
        ),
        couriers=tuple(
            CourierSpec(
                username=c["username"],
                display_name=c["display_name"],
                company=c["company"],
                branch_index=c["branch_index"],
                approved=tuple(c["approved"]),
                pending=tuple(c.get("pending", ())),
            )
            for c in data["couriers"]
        ),
        people=dict(data["people"]),
        mobile_prefixes=tuple(data["mobile_prefixes"]),
    )


def _township(data: dict[str, Any]) -> TownshipSpec:
    lattice = data["lattice"]
    return TownshipSpec(
        name=data["name"],
        code=data["code"],
        lattice=Lattice(data["name"], tuple(lattice["lngs"]), tuple(lattice["lats"])),
        communities=tuple(
            CommunitySpec(
                name=c["name"],
                kind=CommunityKind(c["kind"]),
                address=c["address"],
                phone=c["phone"],
                staff_name=c["staff_name"],
                grid_layout=(c["grid_layout"][0], c["grid_layout"][1]),
                cell=(c["cell"][0], c["cell"][1]) if "cell" in c else None,
                center=(c["center"][0], c["center"][1]) if "center" in c else None,
            )
            for c in data["communities"]
        ),
    )
