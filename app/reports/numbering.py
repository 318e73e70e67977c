"""Case numbers SSP-<county>-YYYYMMDD-NNNNNN: per county and China-time day, gap-free, unique
under concurrency.

The counter row of a county and day is locked from the increment until commit, so every filing
in that county waits for the one before it to commit. That is why the number is the last thing
a filing takes: the report is written first under a provisional number (its id's hex, seen by
nobody outside the transaction), and ``take_number`` runs right before the commit — the lock
then lasts a few statements (~1 ms), not the whole filing. A rollback undoes the increment, so
no number is skipped. Counties never share a row: a province's filings spread over its ~100
counters instead of queueing on one a day."""

from __future__ import annotations

import functools
import re
import uuid
from datetime import datetime
from typing import cast

from sqlalchemy import Date, String, Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from app.core.sql import upsert_insert
from app.core.workcalendar import CHINA_TZ
from app.models import Region, Report, ReportNumberCounter
from app.models.enums import RegionLevel

# Where no region on the path carries a division code (a tree entered without codes).
NO_COUNTY_CODE = "000000"
# A GB/T 2260 code starts with its county's six digits (a township's nine-digit code included).
_DIVISION_CODE = re.compile(r"^[0-9]{6}")


@functools.cache
def _next_value_statement(dialect: str) -> ReturningInsert[int]:
    """One atomic upsert: concurrent filings of a county queue on its row for the day (held to
    commit, which comes right after), so no two get the same value. Built once per dialect:
    every filing runs it."""
    insert = upsert_insert(dialect)
    # On the table, not the mapped class: a plain Core statement, without the ORM's bulk path.
    counters = cast(Table, ReportNumberCounter.__table__)
    return (
        insert(counters)
        .values(
            county_code=bindparam("county_code", type_=String),
            day=bindparam("day", type_=Date),
            last_value=1,
        )
        .on_conflict_do_update(
            index_elements=[counters.c.county_code, counters.c.day],
            set_={"last_value": counters.c.last_value + 1},
        )
        .returning(counters.c.last_value)
    )


def provisional_number(report_id: uuid.UUID) -> str:
    """What the number column holds until ``take_number``: unique (the id's), and never a case
    number's shape (those start with SSP-)."""
    return report_id.hex


async def county_code(session: AsyncSession, region_path: str) -> str:
    """The six-digit division code of the county a place belongs to, from its region's path
    (``/<root>/…/<self>/``): the county's own code; else, going up from the place, the first
    region whose code begins with six digits (a township's code begins with its county's);
    else NO_COUNTY_CODE. Read before any lock is taken."""
    ids = [uuid.UUID(part) for part in region_path.strip("/").split("/") if part]
    rows = (
        await session.execute(
            select(Region.id, Region.level, Region.code).where(Region.id.in_(ids))
        )
    ).all()
    by_id = {row.id: row for row in rows}
    on_path = [by_id[region_id] for region_id in reversed(ids) if region_id in by_id]
    coded: list[tuple[RegionLevel, str]] = [
        (row.level, row.code) for row in on_path if row.code and _DIVISION_CODE.match(row.code)
    ]
    county = next((code for level, code in coded if level is RegionLevel.county), None)
    if county is None and coded:
        county = coded[0][1]
    return county[:6] if county else NO_COUNTY_CODE


async def take_number(
    session: AsyncSession, report_id: uuid.UUID, county: str, now: datetime
) -> str:
    """Give the report written under its provisional number its case number. Call it as the
    last write before the commit: from here until then the county's counter row is locked."""
    day = now.astimezone(CHINA_TZ).date()
    statement = _next_value_statement(session.get_bind().dialect.name)
    value = (await session.execute(statement, {"county_code": county, "day": day})).scalar_one()
    number = f"SSP-{county}-{day:%Y%m%d}-{value:06d}"
    await session.execute(
        update(Report)
        .where(Report.id == report_id)
        # Named, or the column's on-update default would move the filing's own time.
        .values(number=number, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    return number
