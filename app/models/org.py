"""The organisation: region tree, communities and grids, units and their pairings, couriers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Timestamps, UUIDPrimaryKey, utcnow
from app.models.enums import CheckInStatus, CommunityKind, RegionLevel, UnitKind


def str_enum(enum_cls: type, name: str) -> Enum:
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
    )


class Region(UUIDPrimaryKey, Timestamps, Base):
    """A node of the administrative tree: league/city → banner/county → township/subdistrict."""

    __tablename__ = "regions"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(20), unique=True)
    level: Mapped[RegionLevel] = mapped_column(str_enum(RegionLevel, "region_level"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("regions.id", ondelete="RESTRICT"), index=True
    )
    # Materialised path of ids ("/<root>/<child>/.../<self>/"): a subtree is one LIKE prefix.
    path: Mapped[str] = mapped_column(String(400), index=True)

    parent: Mapped[Region | None] = relationship(remote_side="Region.id", lazy="raise")


class Community(UUIDPrimaryKey, Timestamps, Base):
    """A community (社区) or village (村/嘎查), the place that owns the reports made inside it."""

    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("region_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[CommunityKind] = mapped_column(
        str_enum(CommunityKind, "community_kind"), default=CommunityKind.community
    )
    region_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("regions.id", ondelete="RESTRICT"), index=True
    )
    address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    # A GeoJSON Polygon or MultiPolygon in WGS-84 (lng, lat order), validated on the way in.
    # none_as_null: "no boundary" is SQL NULL, not the JSON value null.
    boundary: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    # The same boundary as WKB, written with it (app/org/communities/boundaries.py): the
    # locator reads 60,000 of these in a tenth of a second, where parsing the JSON takes 12 s.
    boundary_wkb: Mapped[bytes | None] = mapped_column(LargeBinary)
    # A representative point: the boundary's, or set by hand for a community without one.
    center_lat: Mapped[float | None] = mapped_column(Float)
    center_lng: Mapped[float | None] = mapped_column(Float)

    region: Mapped[Region] = relationship(lazy="raise")
    grids: Mapped[list[Grid]] = relationship(
        back_populates="community", lazy="raise", order_by="Grid.name"
    )


class Grid(UUIDPrimaryKey, Timestamps, Base):
    """A grid (网格) inside a community, walked by its grid worker."""

    __tablename__ = "grids"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    community_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    boundary: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    boundary_wkb: Mapped[bytes | None] = mapped_column(LargeBinary)

    community: Mapped[Community] = relationship(back_populates="grids", lazy="raise")


class LocatorVersion(Base):
    """The version of the communities and grids as the locators of the API processes see them:
    one row (id 1), raised in the transaction of every change to a community's or grid's
    boundary, name, region or centre (app/org/locator_versions.py). A process compares it with
    its snapshot's: one primary-key read instead of scanning the tables."""

    __tablename__ = "locator_versions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class LocatorChange(Base):
    """The version at which a community (or one of its grids) last changed, so that a locator
    reads again only the communities changed since its snapshot. No foreign key: the row of a
    deleted community stays and says it is gone."""

    __tablename__ = "locator_changes"

    community_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, index=True)


class Unit(UUIDPrimaryKey, Timestamps, Base):
    """A paired unit (结对共建单位): a government department, an enterprise or a public body."""

    __tablename__ = "units"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[UnitKind] = mapped_column(str_enum(UnitKind, "unit_kind"))
    region_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("regions.id", ondelete="RESTRICT"), index=True
    )
    phone: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text)

    region: Mapped[Region] = relationship(lazy="raise")


class Pairing(UUIDPrimaryKey, Base):
    """A unit paired with a community (结对), optionally for some categories only."""

    __tablename__ = "pairings"
    __table_args__ = (UniqueConstraint("community_id", "unit_id"),)

    community_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), index=True
    )
    # Category codes this pairing covers; null means every category.
    category_codes: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    community: Mapped[Community] = relationship(lazy="raise")
    unit: Mapped[Unit] = relationship(lazy="raise")


class CourierCompany(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "courier_companies"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    short_name: Mapped[str | None] = mapped_column(String(40))


class CourierBranch(UUIDPrimaryKey, Timestamps, Base):
    """A courier company's branch (网点); couriers belong to one."""

    __tablename__ = "courier_branches"
    __table_args__ = (UniqueConstraint("company_id", "name"),)

    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courier_companies.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    region_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("regions.id", ondelete="SET NULL"), index=True
    )
    address: Mapped[str | None] = mapped_column(String(200))

    company: Mapped[CourierCompany] = relationship(lazy="raise")


class CheckIn(UUIDPrimaryKey, Base):
    """A courier's check-in (报到) with a community, approved or rejected by its staff."""

    __tablename__ = "check_ins"
    __table_args__ = (
        Index("ix_check_ins_community_status", "community_id", "status"),
        # A courier has at most one open (pending or approved) check-in per community, also
        # when two requests race.
        Index(
            "uq_check_ins_open",
            "courier_id",
            "community_id",
            unique=True,
            postgresql_where=text("status IN ('pending', 'approved')"),
            sqlite_where=text("status IN ('pending', 'approved')"),
        ),
    )

    courier_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    community_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE")
    )
    branch_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("courier_branches.id", ondelete="SET NULL")
    )
    status: Mapped[CheckInStatus] = mapped_column(
        str_enum(CheckInStatus, "check_in_status"), default=CheckInStatus.pending
    )
    note: Mapped[str | None] = mapped_column(String(500))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    decision_reason: Mapped[str | None] = mapped_column(String(500))

    community: Mapped[Community] = relationship(lazy="raise")
    branch: Mapped[CourierBranch | None] = relationship(lazy="raise")
