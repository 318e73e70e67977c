"""Statistics for dashboards: the summary (三率), the unit sheet (一个单位一张表), the sheets by
community, category and courier company, a time series and a heat map. Definitions:
docs/product.md, "What the dashboards measure"."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse

from app.core.deps import CalendarDep, SessionDep, SettingsDep
from app.core.errors import Forbidden, NotFound, Unauthorized, ValidationFailed, error_responses
from app.core.responses import PresentedJSON
from app.labels.service import labels_in
from app.models.enums import DeclineReason
from app.stats import summary as summaries
from app.stats.couriers import courier_sheet
from app.stats.deps import MAX_CELL_M, MAX_CELLS, MIN_CELL_M, HeatAreaDep, StatsQueryDep
from app.stats.export_router import DOWNLOAD_RESPONSES, ExportFormatQuery, table_download
from app.stats.lights import light_counts
from app.stats.schemas import (
    CategorySheet,
    CommunitySheet,
    CourierSheet,
    HeatMap,
    Interval,
    LightCounts,
    SeriesMetric,
    StatsSummary,
    TimeSeries,
    UnitSheet,
)
from app.stats.series import heat_map, time_series
from app.stats.tabular import Cell
from app.stats.units import unit_sheet

router = APIRouter(prefix="/stats", tags=["statistics"])

ERRORS = error_responses(Unauthorized, Forbidden, NotFound, ValidationFailed)
FILTERS = (
    " Filters: `region_id` (its whole subtree), `community_id`, `unit_id` (cases the unit has "
    "a job on), `category` (a leaf, or a top class with its leaves), and the period `from`, "
    "`to` (RFC 3339; the cases filed in it; by default the last 30 days, at most three years). "
    "A place outside the caller's scope is 404. Rates are fractions from 0 to 1, null when "
    "their denominator is 0."
)


@router.get(
    "/summary",
    response_model=StatsSummary,
    summary="The case measures and the three rates (三率) of the counted cases",
    description="Counts by status, due to close, closure, rework, response, resolution and "
    "satisfaction rates, their weighted score, and hours to accept and to resolve (mean and "
    "90th percentile, in each category's kind of hours)." + FILTERS,
    responses=ERRORS,
)
async def summary(query: StatsQueryDep, session: SessionDep, settings: SettingsDep) -> StatsSummary:
    return await summaries.summary(session, query, settings)


@router.get(
    "/units",
    response_model=UnitSheet,
    summary="The unit sheet (一个单位一张表): one row per unit",
    description="The jobs sent to each unit in the period (the period applies to the sending), "
    "on the cases the caller may see: received, accepted on time, declined by reason, "
    "extensions, completed on time or late, overdue now, rework, hours, satisfaction of the "
    "cases it led, and its score. Unit staff see their own unit's row." + FILTERS,
    responses=ERRORS,
)
async def units(query: StatsQueryDep, session: SessionDep, settings: SettingsDep) -> UnitSheet:
    return await unit_sheet(session, query, settings)


@router.get(
    "/communities",
    response_model=CommunitySheet,
    summary="The case measures by community",
    description="One row per community (and one for cases waiting in a region's queue), the "
    "most cases first." + FILTERS,
    responses=ERRORS,
)
async def communities(
    query: StatsQueryDep, session: SessionDep, settings: SettingsDep
) -> CommunitySheet:
    return await summaries.by_community(session, query, settings)


@router.get(
    "/categories",
    response_model=CategorySheet,
    summary="The case measures by category",
    description="One row per leaf category, the most cases first." + FILTERS,
    responses=ERRORS,
)
async def categories(
    query: StatsQueryDep, session: SessionDep, settings: SettingsDep
) -> CategorySheet:
    return await summaries.by_category(session, query, settings)


@router.get(
    "/couriers",
    response_model=CourierSheet,
    summary="Courier participation by company and branch (快递小哥参与)",
    description="Per company and branch: couriers checked in now (in the communities in "
    "sight), couriers active in the period, their reports, valid reports and points." + FILTERS,
    responses=ERRORS,
)
async def couriers(query: StatsQueryDep, session: SessionDep) -> CourierSheet:
    return await courier_sheet(session, query)


@router.get(
    "/lights",
    response_model=LightCounts,
    summary="Open cases by the light of their running clock: green, yellow (临期), red (超期)",
    description="The open cases among those filed in the period, each read as the case list "
    "reads it now: the accept clock until the case is accepted, then the resolve clock; "
    "yellow from 80 % of the limit used, red once overdue. Resolved cases waiting for "
    "verification have no running clock (`stopped`)." + FILTERS,
    responses=ERRORS,
)
async def lights(query: StatsQueryDep, session: SessionDep, calendar: CalendarDep) -> LightCounts:
    return await light_counts(session, query, calendar)


@router.get(
    "/timeseries",
    response_model=TimeSeries,
    summary="Cases submitted, accepted, closed, or clocks recorded overdue, per day, week or month",
    description="Buckets are days, ISO weeks (from Monday) or months of China time, every "
    "bucket of the period listed (0 for none). The period here is the time of the event "
    "counted: a case accepted in the period counts whenever it was filed." + FILTERS,
    responses=ERRORS,
)
async def timeseries(
    query: StatsQueryDep,
    session: SessionDep,
    interval: Interval = Interval.day,
    metric: SeriesMetric = SeriesMetric.submitted,
) -> TimeSeries:
    return await time_series(session, query, interval, metric)


@router.get(
    "/heatmap",
    response_model=HeatMap,
    summary="Where the counted cases were filed: a GeoJSON grid of square cells with counts",
    description="`bbox` is minLng,minLat,maxLng,maxLat in WGS-84; `cell_m` the side of a cell "
    f"in metres ({MIN_CELL_M:g}–{MAX_CELL_M:g}); at most {MAX_CELLS:,} cells. Only cells with "
    "cases are listed, each with its count and how many are still open." + FILTERS,
    responses=ERRORS,
)
async def heatmap(query: StatsQueryDep, session: SessionDep, area: HeatAreaDep) -> PresentedJSON:
    box, cell_m = area
    return PresentedJSON(await heat_map(session, query, box, cell_m))


# The unit sheet's columns: (header, field of UnitRow).
UNIT_SHEET_COLUMNS: tuple[tuple[str, str], ...] = (
    ("单位", "name"),
    ("收到派单", "received"),
    ("接单", "accepted"),
    ("按时接单", "accepted_on_time"),
    ("接单率", "response_rate"),
    ("退单", "declined"),
    ("退单率", "decline_rate"),
    ("申请延期", "extensions_asked"),
    ("同意延期", "extensions_granted"),
    ("办结", "completed"),
    ("按期办结", "completed_on_time"),
    ("超期办结", "completed_late"),
    ("在办未超期", "pending_on_time"),
    ("超期未办结", "overdue_now"),
    ("返工", "reworked"),
    ("办结率", "completion_rate"),
    ("按期办结率", "on_time_completion_rate"),
    ("平均接单时长(小时)", "mean_hours_to_accept"),
    ("平均办结时长(小时)", "mean_hours_to_complete"),
    ("平均用时占比", "mean_share_of_time_used"),
    ("评价数", "ratings"),
    ("满意率", "satisfaction_rate"),
    ("综合得分", "score"),
)


@router.get(
    "/units/export",
    response_class=Response,
    summary="The unit sheet (一个单位一张表) as a CSV or Excel download",
    description="The rows of `GET /stats/units`, with Chinese column headers (declines by "
    "reason as one column each); rates as fractions, hours to one decimal in the file's "
    "numbers." + FILTERS,
    responses={**DOWNLOAD_RESPONSES, **ERRORS},
)
async def units_export(
    query: StatsQueryDep,
    session: SessionDep,
    settings: SettingsDep,
    export_format: ExportFormatQuery = "csv",
) -> StreamingResponse:
    sheet = await unit_sheet(session, query, settings)
    reasons = list(DeclineReason)
    names = labels_in("zh-CN").vocabularies["decline_reason"]
    headers = [header for header, _ in UNIT_SHEET_COLUMNS] + [
        f"退单：{names[reason]}" for reason in reasons
    ]
    rows: list[list[Cell]] = [
        [getattr(row, name) for _, name in UNIT_SHEET_COLUMNS]
        + [row.declined_by_reason[reason] for reason in reasons]
        for row in sheet.items
    ]
    return table_download(
        export_format,
        title="单位考核表",
        stem="suishoupai-units",
        headers=headers,
        rows=rows,
        now=query.now,
    )
