"""Case numbers SSP-<county>-YYYYMMDD-NNNNNN: which county a place counts in, and numbers without
gaps per county and day while filings in several counties commit and roll back at once."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.workcalendar import CHINA_TZ
from app.demo.seed import demo_id
from app.models import Region
from app.models.enums import RegionLevel
from app.reports.numbering import NO_COUNTY_CODE, county_code, take_number
from tests.conftest import LoginFn
from tests.reports.conftest import COMMUNITY_1_POINT, photo_bytes

CITY = demo_id("region", "巴彦淖尔市")
# 16:30 UTC on 31 December is 00:30 on 1 January in Beijing: the numbers are the new year's.
LATE_UTC = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)


async def _region(
    session: AsyncSession, name: str, code: str | None, level: RegionLevel, parent: Region | None
) -> Region:
    region_id = uuid.uuid4()
    parent_path = parent.path if parent is not None else "/"
    region = Region(
        id=region_id,
        name=name,
        code=code,
        level=level,
        parent_id=parent.id if parent is not None else None,
        path=f"{parent_path}{region_id}/",
    )
    session.add(region)
    await session.flush()
    return region


async def test_a_place_counts_in_its_county(session: AsyncSession) -> None:
    city = await session.get(Region, CITY)
    assert city is not None
    # The demo's towns: 陕坝镇 (150826100) in 杭锦后旗 (150826).
    seat = await session.get(Region, demo_id("region", "陕坝镇"))
    assert seat is not None
    assert await county_code(session, seat.path) == "150826"

    # A county entered without its code: its township's nine-digit code starts with it.
    uncoded = await _region(session, "临河区", None, RegionLevel.county, city)
    town = await _region(session, "车站街道", "150802001", RegionLevel.township, uncoded)
    assert await county_code(session, town.path) == "150802"
    # A queue report of the county itself: nothing coded below it, the city's code above.
    assert await county_code(session, uncoded.path) == "150800"
    # A code that is not a division code is passed over.
    odd = await _region(session, "试点区", "PILOT1", RegionLevel.county, city)
    assert await county_code(session, odd.path) == "150800"

    # A tree without any code at all.
    root = await _region(session, "无码盟", None, RegionLevel.city, None)
    county = await _region(session, "无码旗", None, RegionLevel.county, root)
    assert await county_code(session, county.path) == NO_COUNTY_CODE
    await session.rollback()


async def test_numbers_are_gap_free_per_county_and_day_while_filings_race(app: FastAPI) -> None:
    """Forty filings in four counties at once, one in five rolled back after taking its number:
    the committed numbers of each county are 1, 2, 3, … with no gap and no repeat."""
    counties = ["150802", "150821", "150822", "150826"]
    rng = random.Random(17)
    plans = [(counties[i % 4], rng.random() < 0.2, rng.random() / 50) for i in range(40)]
    committed: dict[str, list[str]] = defaultdict(list)

    async def file(county: str, roll_back: bool, pause: float) -> None:
        async with app.state.sessionmaker() as session:
            number = await take_number(session, uuid.uuid4(), county, LATE_UTC)
            await asyncio.sleep(pause)  # the rest of the commit's work, the lock held
            if roll_back:
                await session.rollback()
            else:
                await session.commit()
                committed[county].append(number)

    await asyncio.gather(*(file(*plan) for plan in plans))
    for county in counties:
        expected = sum(1 for c, back, _ in plans if c == county and not back)
        numbers = sorted(committed[county])
        assert numbers == [f"SSP-{county}-20270101-{n:06d}" for n in range(1, expected + 1)]


async def test_a_filed_report_is_numbered_in_its_county_and_beijing_day(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn
) -> None:
    headers = await login("courier1")
    numbers = []
    for _ in range(2):
        response = await client.post(
            "/api/v1/reports",
            data={
                "category_code": "chaotic_parking",
                "description": "巷子里乱停车，消防车进不去",
                "lat": str(COMMUNITY_1_POINT[0]),
                "lng": str(COMMUNITY_1_POINT[1]),
            },
            files=[("photos", ("a.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg"))],
            headers=headers,
        )
        assert response.status_code == 201, response.text
        numbers.append(response.json()["number"])
    today = app.state.clock.now().astimezone(CHINA_TZ)
    assert numbers == [f"SSP-150826-{today:%Y%m%d}-{n:06d}" for n in (1, 2)]
