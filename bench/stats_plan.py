"""The statistics the benchmark times (bench/stats.py): who asks, what they ask the API, the
hand-written statement answering the same (bench/stats_hand_sql.py), and how the two answers
are compared figure by figure."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

import httpx
from reads_hand_sql import AUTH_SQL, caller_from_auth, numbered
from reads_plan import Account
from stats_hand_sql import communities_sql, heatmap_sql, series_sql, summary_sql, units_sql

CHINA = dt.timezone(dt.timedelta(hours=8))
METRES_PER_DEGREE_LAT = 111_320.0
MAX_CELLS = 10_000  # the API's limit on a heat map's box
# The settings' defaults (SSP_STATS_WEIGHT_*, SSP_STATS_BASICALLY_SATISFIED_WEIGHT).
WEIGHTS = {
    "w_response": 0.1,
    "w_resolution": 0.5,
    "w_satisfaction": 0.4,
    "basically_weight": 0.9,
}


@dataclass
class Stat:
    name: str
    label: str
    account: Account
    path: str  # the API's
    sql: str | None  # the hand SQL's statement, with :name placeholders (None: API only)
    args: dict[str, Any]
    budget_p95_ms: float | None
    budget_ratio: float | None = 3.0
    compare: str | None = None  # how the answers are compared (see ``differences``)

    def statement(self) -> tuple[str, list[str]]:
        assert self.sql is not None
        return numbered(self.sql)


async def hand_sql(conn: Any, stat: Stat, statement: tuple[str, list[str]]) -> str:
    """The caller's auth lookup, then the one statement answering the statistic."""
    account = stat.account
    rows = await conn.fetch(AUTH_SQL, account.user_id, account.session_id)
    values = {**stat.args, **caller_from_auth(rows, account.user_id).values()}
    sql, names = statement
    answer: str = await conn.fetchval(sql, *(values[n] for n in names))
    return answer


async def api(client: httpx.AsyncClient, stat: Stat) -> bytes:
    response = await client.get(stat.path, headers=stat.account.headers)
    if response.status_code != 200:
        raise RuntimeError(f"{stat.name}: {response.status_code} {response.text[:500]}")
    return response.content


# --- the periods and places -------------------------------------------------------------------


def month_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, 1, tzinfo=CHINA)


def periods(now: dt.datetime) -> dict[str, tuple[dt.datetime, dt.datetime]]:
    """The last whole month and the twelve whole months before this one, China time."""
    this_month = month_start(now.astimezone(CHINA).date())
    last_month = month_start((this_month - dt.timedelta(days=1)).date())
    year_ago = this_month.replace(year=this_month.year - 1)
    return {"month": (last_month, this_month), "year": (year_ago, this_month)}


def cell_degrees(min_lat: float, max_lat: float, cell_m: float) -> tuple[float, float]:
    """A square of ``cell_m`` metres in degrees (latitude, longitude) at the box's middle, as
    the API's heat map measures it."""
    middle = math.radians((min_lat + max_lat) / 2)
    dlat = cell_m / METRES_PER_DEGREE_LAT
    return dlat, cell_m / (METRES_PER_DEGREE_LAT * max(math.cos(middle), 0.01))


async def banner_box(db: Any, cell_m: float) -> tuple[tuple[float, float, float, float], bool]:
    """The box around every community of the banner (with the half-width of a community's
    square around its centre), and whether it had to be cut, from the north, to the API's
    limit of cells."""
    row = await db.fetchrow(
        "SELECT min(center_lat) - 0.005 AS s, max(center_lat) + 0.005 AS n, "
        "min(center_lng) - 0.005 AS w, max(center_lng) + 0.005 AS e FROM communities"
    )
    south, north, west, east = row["s"], row["n"], row["w"], row["e"]
    cut = False
    while True:
        dlat, dlng = cell_degrees(south, north, cell_m)
        cells = math.ceil((north - south) / dlat) * math.ceil((east - west) / dlng)
        if cells <= MAX_CELLS:
            return (west, south, east, north), cut
        south += dlat
        cut = True


async def export_window(db: Any, end: dt.datetime, rows: int) -> dt.datetime:
    """The start of the period ending at ``end`` that holds ``rows`` reports."""
    start: dt.datetime | None = await db.fetchval(
        "SELECT created_at FROM reports WHERE created_at < $1 "
        "ORDER BY created_at DESC LIMIT 1 OFFSET $2",
        end,
        rows - 1,
    )
    if start is None:
        raise SystemExit(
            f"fewer than {rows:,} reports were filed before {end:%Y-%m-%d}: load more "
            "(--reports) or export fewer (--export-rows)"
        )
    return start


def query(**values: Any) -> str:
    return str(
        httpx.QueryParams(
            {k: v.isoformat() if isinstance(v, dt.datetime) else str(v) for k, v in values.items()}
        )
    )


# --- the statistics ---------------------------------------------------------------------------


def _summaries(accounts: dict[str, Account], now: dt.datetime) -> list[Stat]:
    month, year = periods(now)["month"], periods(now)["year"]
    supervisor, staff1 = accounts["supervisor"], accounts["staff1"]
    return [
        Stat(
            "summary_banner_month",
            "summary, banner, a month (supervisor)",
            supervisor,
            f"/api/v1/stats/summary?{query(**{'from': month[0], 'to': month[1]})}",
            summary_sql(supervisor.caller),
            {"from": month[0], "to": month[1], "now": now, **WEIGHTS},
            100.0,
            compare="object",
        ),
        Stat(
            "summary_community_year",
            "summary, community (30 %), a year (its staff)",
            staff1,
            f"/api/v1/stats/summary?{query(**{'from': year[0], 'to': year[1]})}",
            summary_sql(staff1.caller),
            {"from": year[0], "to": year[1], "now": now, **WEIGHTS},
            100.0,
            compare="object",
        ),
        Stat(
            "summary_small_community_year",
            "summary, community (0.5 %), a year (its staff)",
            accounts["staff9"],
            f"/api/v1/stats/summary?{query(**{'from': year[0], 'to': year[1]})}",
            summary_sql(accounts["staff9"].caller),
            {"from": year[0], "to": year[1], "now": now, **WEIGHTS},
            100.0,
            compare="object",
        ),
    ]


def _sheets(accounts: dict[str, Account], now: dt.datetime) -> list[Stat]:
    month = periods(now)["month"]
    supervisor = accounts["supervisor"]
    args = {"from": month[0], "to": month[1], "now": now, **WEIGHTS}
    path = query(**{"from": month[0], "to": month[1]})
    return [
        Stat(
            "units_banner_month",
            "unit sheet, banner, a month (supervisor)",
            supervisor,
            f"/api/v1/stats/units?{path}",
            units_sql(supervisor.caller),
            args,
            150.0,
            compare="units",
        ),
        Stat(
            "communities_banner_month",
            "by community, banner, a month (supervisor)",
            supervisor,
            f"/api/v1/stats/communities?{path}",
            communities_sql(supervisor.caller),
            args,
            None,
            None,
            compare="communities",
        ),
        Stat(
            "categories_banner_month",
            "by category, banner, a month (supervisor)",
            supervisor,
            f"/api/v1/stats/categories?{path}",
            None,
            args,
            None,
            None,
        ),
        Stat(
            "couriers_banner_month",
            "couriers by company, banner, a month (supervisor)",
            supervisor,
            f"/api/v1/stats/couriers?{path}",
            None,
            args,
            None,
            None,
        ),
    ]


def _series(accounts: dict[str, Account], now: dt.datetime, box: Any) -> list[Stat]:
    month, year = periods(now)["month"], periods(now)["year"]
    supervisor = accounts["supervisor"]
    days = {
        "first_day": year[0].date(),
        "last_day": (year[1] - dt.timedelta(days=1)).date(),
    }
    stats = [
        Stat(
            f"series_{metric}_year_day",
            f"time series, {metric}, a year by day (supervisor)",
            supervisor,
            "/api/v1/stats/timeseries?"
            + query(**{"from": year[0], "to": year[1], "interval": "day", "metric": metric}),
            series_sql(supervisor.caller, metric),
            {"from": year[0], "to": year[1], **days},
            200.0,
            compare="items",
        )
        for metric in ("submitted", "overdue")
    ]
    (west, south, east, north), cell_m = box, 250.0
    dlat, dlng = cell_degrees(south, north, cell_m)
    stats.append(
        Stat(
            "heatmap_banner_month",
            "heat map, banner, 250 m cells, a month (supervisor)",
            supervisor,
            "/api/v1/stats/heatmap?"
            + query(
                **{
                    "from": month[0],
                    "to": month[1],
                    "bbox": f"{west},{south},{east},{north}",
                    "cell_m": cell_m,
                }
            ),
            heatmap_sql(supervisor.caller),
            {
                "from": month[0],
                "to": month[1],
                "min_lat": south,
                "max_lat": north,
                "min_lng": west,
                "max_lng": east,
                "dlat": dlat,
                "dlng": dlng,
            },
            200.0,
            compare="cells",
        )
    )
    return stats


async def build_stats(
    db: Any, accounts: dict[str, Account], now: dt.datetime
) -> tuple[list[Stat], dict[str, Any]]:
    box, cut = await banner_box(db, 250.0)
    stats = [*_summaries(accounts, now), *_sheets(accounts, now), *_series(accounts, now, box)]
    return stats, {"heatmap_box": box, "heatmap_box_cut_to_the_cell_limit": cut}


# --- comparing the answers --------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a == b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def _walk(api: Any, hand: Any, path: str, out: list[dict[str, Any]]) -> None:
    """The fields of ``hand`` whose value in ``api`` differs (the API may say more)."""
    if isinstance(hand, dict):
        if not isinstance(api, dict):
            out.append({"field": path, "api": api, "hand_sql": hand})
            return
        for key, value in hand.items():
            _walk(api.get(key), value, f"{path}.{key}" if path else key, out)
    elif isinstance(hand, list):
        if not isinstance(api, list) or len(api) != len(hand):
            out.append({"field": path, "api": api, "hand_sql": hand})
            return
        for k, (a, h) in enumerate(zip(api, hand, strict=True)):
            _walk(a, h, f"{path}[{k}]", out)
    elif not _same(api, hand):
        out.append({"field": path, "api": api, "hand_sql": hand})


def _keyed(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {str(item[key]): item for item in items}


def _cells(api: dict[str, Any], stat: Stat) -> list[dict[str, Any]]:
    """The API's features as (row, col, count, open), from each cell's south-west corner."""
    cells = []
    for feature in api["features"]:
        west, south = feature["geometry"]["coordinates"][0][0]
        cells.append(
            {
                "row": round((south - stat.args["min_lat"]) / stat.args["dlat"]),
                "col": round((west - stat.args["min_lng"]) / stat.args["dlng"]),
                "count": feature["properties"]["count"],
                "open": feature["properties"]["open"],
            }
        )
    return sorted(cells, key=lambda c: (c["row"], c["col"]))


def differences(stat: Stat, api_answer: bytes, hand_answer: str) -> list[dict[str, Any]]:
    """Every figure where the API and the hand SQL disagree (empty: the same answer)."""
    api, hand = json.loads(api_answer), json.loads(hand_answer)
    out: list[dict[str, Any]] = []
    if stat.compare == "object":
        _walk(api, hand, "", out)
    elif stat.compare in ("units", "communities"):
        key = "unit_id" if stat.compare == "units" else "community_id"
        api_rows, hand_rows = _keyed(api["items"], key), _keyed(hand, key)
        if [str(i[key]) for i in api["items"]] != [str(i[key]) for i in hand]:
            out.append({"field": "order", "api": list(api_rows), "hand_sql": list(hand_rows)})
        for name, row in hand_rows.items():
            _walk(api_rows.get(name, {}), row, name, out)
    elif stat.compare == "items":
        _walk(api["items"], hand, "items", out)
    elif stat.compare == "cells":
        _walk(_cells(api, stat), hand, "cells", out)
    return out
