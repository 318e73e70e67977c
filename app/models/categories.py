"""The category tree (案件类别) with default priority and time limits."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamps
from app.models.enums import CategoryKind, HoursKind, Priority
from app.models.org import str_enum


class Category(Timestamps, Base):
    __tablename__ = "categories"

    # Stable machine code such as "road_damage"; the primary key clients filter by.
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("categories.code", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    kind: Mapped[CategoryKind] = mapped_column(str_enum(CategoryKind, "category_kind"))
    # GB/T 30428 class code where the category follows the standard (e.g. "01" 公用设施).
    standard_code: Mapped[str | None] = mapped_column(String(20))
    default_priority: Mapped[Priority] = mapped_column(
        str_enum(Priority, "priority"), default=Priority.normal
    )
    accept_within_hours: Mapped[float] = mapped_column(Float)
    resolve_within_hours: Mapped[float] = mapped_column(Float)
    hours_kind: Mapped[HoursKind] = mapped_column(
        str_enum(HoursKind, "hours_kind"), default=HoursKind.calendar
    )
    # How close an open report of the same category must be to count as a possible duplicate.
    duplicate_radius_m: Mapped[float] = mapped_column(Float, default=100.0)
    # Points for a valid report of this category and for its closure; null: the settings' amounts.
    points_on_accept: Mapped[int | None] = mapped_column(Integer)
    points_close_bonus: Mapped[int | None] = mapped_column(Integer)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Leaf categories are the ones a report can be filed under; top classes only group them.
    is_leaf: Mapped[bool] = mapped_column(default=True)
