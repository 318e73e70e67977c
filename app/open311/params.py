"""Open311's parameters, read by hand: a wrong one must be answered 400 in Open311's own error
format, so none is declared with constraints FastAPI would check first (and answer 422)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.deps import SettingsDep
from app.models import Category
from app.open311.errors import Open311Error
from app.open311.render import FORMATS
from app.open311.requests import MAX_PAGE_SIZE, STATUSES, RequestQuery
from app.open311.times import read_w3c

Text = Annotated[str | None, Query()]


def checked_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(404, f"No such format {fmt!r}: ask for .xml or .json")
    return fmt


def check_jurisdiction(settings: Settings, jurisdiction_id: str | None) -> None:
    """One jurisdiction: naming it, or none, is fine; naming another is 404."""
    if jurisdiction_id and jurisdiction_id.strip() != settings.open311_jurisdiction_id:
        ours = settings.open311_jurisdiction_id
        raise Open311Error(404, f"No jurisdiction {jurisdiction_id!r}: this server is {ours}")


def asked_format(fmt: str, settings: SettingsDep, jurisdiction_id: Text = None) -> str:
    """What every resource but discovery checks first: the format of its suffix, and that the
    jurisdiction named, if any, is this server's."""
    checked_format(fmt)
    check_jurisdiction(settings, jurisdiction_id)
    return fmt


Format = Annotated[str, Depends(asked_format)]


def listed(text: str | None) -> tuple[str, ...]:
    """A comma-separated list; empty items and spaces around them are ignored."""
    if not text:
        return ()
    return tuple(dict.fromkeys(item.strip() for item in text.split(",") if item.strip()))


def _number(name: str, text: str | None, default: int, low: int, high: int) -> int:
    if text is None or not text.strip():
        return default
    try:
        value = int(text)
    except ValueError:
        raise Open311Error(400, f"{name}: a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise Open311Error(400, f"{name}: a whole number from {low} to {high}")
    return value


async def request_query(
    session: AsyncSession,
    *,
    service_request_id: str | None,
    service_code: str | None,
    start_date: str | None,
    end_date: str | None,
    status: str | None,
    page: str | None,
    page_size: str | None,
    extensions: str | None,
) -> RequestQuery:
    codes = listed(service_code)
    if codes:
        known = set(
            await session.scalars(
                select(Category.code).where(Category.code.in_(codes), Category.is_leaf.is_(True))
            )
        )
        if unknown := [code for code in codes if code not in known]:
            raise Open311Error(400, f"service_code: no service {', '.join(unknown)}")
    statuses = listed(status)
    if wrong := [s for s in statuses if s not in STATUSES]:
        raise Open311Error(400, f"status: open or closed, not {', '.join(wrong)}")
    return RequestQuery(
        ids=listed(service_request_id),
        service_codes=codes,
        start=read_w3c("start_date", start_date),
        end=read_w3c("end_date", end_date),
        statuses=statuses,
        page=_number("page", page, 1, 1, 1_000_000),
        page_size=_number("page_size", page_size, MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE),
        extensions=(extensions or "").strip().lower() == "true",
    )
