"""Case numbers SSP-YYYYMMDD-NNNNNN: per China-time day, gap-free, unique under concurrency."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.workcalendar import CHINA_TZ
from app.models import ReportNumberCounter


async def next_report_number(session: AsyncSession, now: datetime) -> str:
    day = now.astimezone(CHINA_TZ).date()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # One atomic upsert: concurrent submissions queue on the day's row (held to commit, which
    # comes right after), so no two get the same value.
    upsert = (
        insert(ReportNumberCounter)
        .values(day=day, last_value=1)
        .on_conflict_do_update(
            index_elements=[ReportNumberCounter.day],
            set_={"last_value": ReportNumberCounter.__table__.c.last_value + 1},
        )
        .returning(ReportNumberCounter.last_value)
    )
    value = (await session.execute(upsert)).scalar_one()
    return f"SSP-{day:%Y%m%d}-{value:06d}"
