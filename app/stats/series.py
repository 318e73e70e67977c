"""A time series of cases submitted, accepted or closed, or of clocks recorded overdue, per day,
ISO week or month of China time, and a heat map of where the counted cases were filed."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.workcalendar import CHINA_TZ
from app.models import Report
from app.models.reports import OPEN_STATUS_VALUES
from app.reports.queries import METRES_PER_DEGREE_LAT
from app.stats.day_counts import events_per_day
from app.stats.schemas import (
    Interval,
    SeriesMetric,
    SeriesPoint,
    TimeSeries,
)
from app.stats.selection import StatsQuery, counted_cases
from app.stats.summary import period_of
from app.stats.timesql import day_from_number, floor_int, number


def _bucket_of(day: date, interval: Interval) -> date:
    if interval is Interval.day:
        return day
    if interval is Interval.week:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _all_buckets(query: StatsQuery, interval: Interval) -> list[date]:
    """Every bucket the period touches, so that a quiet day shows as 0, not as a gap."""
    first = query.start.astimezone(CHINA_TZ).date()
    last = (query.end - timedelta(microseconds=1)).astimezone(CHINA_TZ).date()
    if interval is Interval.week:
        first -= timedelta(days=first.weekday())
    elif interval is Interval.month:
        first = first.replace(day=1)
    buckets: list[date] = []
    day = first
    while day <= last:
        buckets.append(day)
        if interval is Interval.day:
            day += timedelta(days=1)
        elif interval is Interval.week:
            day += timedelta(days=7)
        else:
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return buckets


async def time_series(
    session: AsyncSession, query: StatsQuery, interval: Interval, metric: SeriesMetric
) -> TimeSeries:
    counts: dict[date, int] = {}
    for day, count in (await events_per_day(session, query, metric)).items():
        bucket = _bucket_of(day_from_number(day), interval)
        counts[bucket] = counts.get(bucket, 0) + count
    return TimeSeries(
        period=period_of(query),
        interval=interval,
        metric=metric,
        items=[
            SeriesPoint(start=start, count=counts.get(start, 0))
            for start in _all_buckets(query, interval)
        ],
    )


def cell_size(box: tuple[float, float, float, float], cell_m: float) -> tuple[float, float]:
    """A square of ``cell_m`` metres in degrees (latitude, longitude) at the box's middle."""
    min_lat, max_lat = box[1], box[3]
    middle = math.radians((min_lat + max_lat) / 2)
    dlat = cell_m / METRES_PER_DEGREE_LAT
    return dlat, cell_m / (METRES_PER_DEGREE_LAT * max(math.cos(middle), 0.01))


def cell_count(box: tuple[float, float, float, float], cell_m: float) -> int:
    dlat, dlng = cell_size(box, cell_m)
    min_lng, min_lat, max_lng, max_lat = box
    rows = max(math.ceil((max_lat - min_lat) / dlat), 1)
    columns = max(math.ceil((max_lng - min_lng) / dlng), 1)
    return rows * columns


async def heat_map(
    session: AsyncSession,
    query: StatsQuery,
    box: tuple[float, float, float, float],
    cell_m: float,
) -> dict[str, Any]:
    """The grid's cells with cases, as plain values in ``HeatMap``'s shape."""
    min_lng, min_lat, max_lng, max_lat = box
    dlat, dlng = cell_size(box, cell_m)
    row = floor_int((Report.lat - number(min_lat)) / number(dlat)).label("row")
    column = floor_int((Report.lng - number(min_lng)) / number(dlng)).label("col")
    statement = (
        select(
            row,
            column,
            func.count().label("count"),
            func.count().filter(Report.status.in_(OPEN_STATUS_VALUES)).label("open"),
        )
        .where(
            *counted_cases(query),
            and_(Report.lat.between(min_lat, max_lat), Report.lng.between(min_lng, max_lng)),
        )
        .group_by(row, column)
        .order_by(row, column)
    )
    features: list[dict[str, Any]] = []
    for cell in await session.execute(statement):
        south, west = min_lat + cell.row * dlat, min_lng + cell.col * dlng
        north, east = south + dlat, west + dlng
        ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
        # Plain values in HeatCell's shape: thousands of cells, written without validation.
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"count": cell.count, "open": cell.open},
            }
        )
    return {
        "type": "FeatureCollection",
        "cell_m": cell_m,
        "period": {"from": query.start, "to": query.end},
        "features": features,
    }
