"""Case numbers SSP-YYYYMMDD-NNNNNN: per China-time day, gap-free, unique under concurrency."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import cast

from sqlalchemy import Date, Table, bindparam
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from app.core.sql import upsert_insert
from app.core.workcalendar import CHINA_TZ
from app.models import ReportNumberCounter


@functools.cache
def _next_value_statement(dialect: str) -> ReturningInsert[int]:
    """One atomic upsert: concurrent submissions queue on the day's row (held to commit, which
    comes right after), so no two get the same value. Built once per dialect: every submission
    runs it."""
    insert = upsert_insert(dialect)
    # On the table, not the mapped class: a plain Core statement, without the ORM's bulk path.
    counters = cast(Table, ReportNumberCounter.__table__)
    return (
        insert(counters)
        .values(day=bindparam("day", type_=Date), last_value=1)
        .on_conflict_do_update(
            index_elements=[counters.c.day], set_={"last_value": counters.c.last_value + 1}
        )
        .returning(counters.c.last_value)
    )


async def next_report_number(session: AsyncSession, now: datetime) -> str:
    day = now.astimezone(CHINA_TZ).date()
    statement = _next_value_statement(session.get_bind().dialect.name)
    value = (await session.execute(statement, {"day": day})).scalar_one()
    return f"SSP-{day:%Y%m%d}-{value:06d}"
