"""The reads the benchmark times (bench/reads.py): who asks, what they ask the API, and the
hand-written statement answering the same (bench/reads_hand_sql.py); the places and cases they
look at, and the deep pages they start from."""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from reads_hand_sql import (
    AUTH_SQL,
    Caller,
    caller_from_auth,
    detail_sql,
    jobs_sql,
    list_sql,
    nearby_sql,
    numbered,
    timeline_sql,
)

PASSWORD = "suishoupai-demo"
FIRST_PAGE = (dt.datetime.max.replace(tzinfo=dt.UTC), "ffffffff-ffff-ffff-ffff-ffffffffffff")


@dataclass
class Account:
    username: str
    token: str
    user_id: Any
    session_id: Any
    caller: Caller = field(default_factory=lambda: Caller(None))

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Read:
    name: str
    label: str
    account: Account
    path: str  # the API's
    sql: str  # the hand SQL's answer statement, with :name placeholders
    args: dict[str, Any]  # its parameters besides the caller's scope
    budget_p95_ms: float
    budget_ratio: float | None = 4.0

    def statement(self) -> tuple[str, list[str]]:
        return numbered(self.sql)


async def hand_sql(conn: Any, read: Read, statement: tuple[str, list[str]]) -> str:
    """The caller's auth lookup, then the one statement answering the read."""
    account = read.account
    rows = await conn.fetch(AUTH_SQL, account.user_id, account.session_id)
    values = {**read.args, **caller_from_auth(rows, account.user_id).values()}
    sql, names = statement
    answer: str = await conn.fetchval(sql, *(values[n] for n in names))
    return answer


async def api(client: httpx.AsyncClient, read: Read) -> bytes:
    response = await client.get(read.path, headers=read.account.headers)
    if response.status_code != 200:
        raise RuntimeError(f"{read.name}: {response.status_code} {response.text[:300]}")
    return response.content


# --- setting the reads up -------------------------------------------------------------------


async def sign_in(client: httpx.AsyncClient, db: Any, username: str) -> Account:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    if response.status_code != 200:
        raise RuntimeError(f"login {username}: {response.status_code} {response.text}")
    token: str = response.json()["access_token"]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    account = Account(username, token, uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"]))
    rows = await db.fetch(AUTH_SQL, account.user_id, account.session_id)
    account.caller = caller_from_auth(rows, account.user_id)
    return account


async def walk_api(
    client: httpx.AsyncClient, account: Account, path: str, pages: int
) -> tuple[str, int]:
    """The path of page ``pages + 1`` following next_cursor (or of the last page, when the
    list is shorter), and how many pages it skipped."""
    url, skipped = path, 0
    for _ in range(pages):
        cursor = (await client.get(url, headers=account.headers)).json()["next_cursor"]
        if cursor is None:
            break
        url, skipped = f"{path}&{httpx.QueryParams({'cursor': cursor})}", skipped + 1
    return url, skipped


async def walk_sql(db: Any, read: Read, pages: int) -> dict[str, Any]:
    """The hand SQL's arguments for page ``pages + 1``, following each page's last row."""
    args = dict(read.args)
    statement = read.statement()
    for _ in range(pages):
        step = Read(**{**read.__dict__, "args": args})
        last = json.loads(await hand_sql(db, step, statement))["last"]
        args = {
            **args,
            "after_at": dt.datetime.fromisoformat(last[0]),
            "after_id": uuid.UUID(last[1]),
        }
    return args


async def fixtures(db: Any) -> dict[str, Any]:
    """The places and rows the reads look at."""
    big = await db.fetchval(
        "SELECT ra.community_id FROM role_assignments ra JOIN users u ON u.id = ra.user_id "
        "WHERE u.username = 'staff1'"
    )
    center = await db.fetchrow("SELECT center_lat, center_lng FROM communities WHERE id = $1", big)
    report = await db.fetchval(
        "SELECT r.id FROM reports r WHERE r.community_id = $1 AND r.status = 'dispatched' "
        "ORDER BY EXISTS (SELECT 1 FROM jobs j WHERE j.report_id = r.id AND NOT j.is_lead) "
        "DESC, r.created_at DESC LIMIT 1",
        big,
    )
    categories = await db.fetch(
        "SELECT category_code, count(*) FROM reports WHERE community_id = $1 "
        "GROUP BY 1 ORDER BY 2 DESC LIMIT 3",
        big,
    )
    return {
        "lat": center["center_lat"],
        "lng": center["center_lng"],
        "report": report,
        "top_category": categories[0]["category_code"],
        "category": categories[-1]["category_code"],
    }


def _list_read(
    name: str, label: str, account: Account, now: dt.datetime, query: dict[str, str]
) -> Read:
    filters = []
    args: dict[str, Any] = {
        "limit": 50,
        "after_at": FIRST_PAGE[0],
        "after_id": uuid.UUID(FIRST_PAGE[1]),
        "now": now,
    }
    if "category" in query:
        filters = [
            "category_code = :category",
            "created_at >= :created_from",
            "created_at < :created_to",
        ]
        args |= {
            "category": query["category"],
            "created_from": dt.datetime.fromisoformat(query["created_from"]),
            "created_to": dt.datetime.fromisoformat(query["created_to"]),
        }
    path = f"/api/v1/reports?{httpx.QueryParams({'limit': '50', **query})}"
    return Read(name, label, account, path, list_sql(account.caller, tuple(filters)), args, 25.0)


def _nearby_read(
    name: str, label: str, account: Account, spot: dict[str, Any], category: str | None
) -> Read:
    lat, lng, radius = spot["lat"], spot["lng"], 100.0
    dlat = radius / 111_320.0
    dlng = radius / (111_320.0 * math.cos(math.radians(lat)))
    query = {"lat": str(lat), "lng": str(lng), "radius_m": str(radius)}
    args: dict[str, Any] = {
        "lat": lat,
        "lng": lng,
        "lng_scale": 111_320.0 * math.cos(math.radians(lat)),
        "min_lat": lat - dlat,
        "max_lat": lat + dlat,
        "min_lng": lng - dlng,
        "max_lng": lng + dlng,
        "radius2": radius * radius,
        "limit": 5,
    }
    if category:
        query["category"] = category
        args["category"] = category
    path = f"/api/v1/reports/nearby?{httpx.QueryParams(query)}"
    return Read(name, label, account, path, nearby_sql(category is not None), args, 15.0, None)


def _case_reads(accounts: dict[str, Account], spot: dict[str, Any], now: dt.datetime) -> list[Read]:
    """One case as its community's staff reads it, and the biggest unit's inbox."""
    staff1 = accounts["staff1"]
    detail_args = {"report": spot["report"], "now": now}
    return [
        Read(
            "detail",
            "report detail",
            staff1,
            f"/api/v1/reports/{spot['report']}",
            detail_sql(staff1.caller),
            detail_args,
            10.0,
        ),
        Read(
            "timeline",
            "timeline",
            staff1,
            f"/api/v1/reports/{spot['report']}/timeline",
            timeline_sql(staff1.caller),
            detail_args,
            10.0,
        ),
        Read(
            "unit_inbox",
            "unit inbox /jobs (biggest unit)",
            accounts["unit6"],
            "/api/v1/jobs?limit=50",
            jobs_sql(accounts["unit6"].caller),
            {"limit": 50, "now": now},
            25.0,
        ),
    ]


async def build_reads(
    client: httpx.AsyncClient, db: Any, accounts: dict[str, Account], now: dt.datetime
) -> list[Read]:
    spot = await fixtures(db)
    staff1, staff9 = accounts["staff1"], accounts["staff9"]
    period = {
        "category": spot["category"],
        "created_from": (now - dt.timedelta(days=180)).isoformat(),
        "created_to": (now - dt.timedelta(days=120)).isoformat(),
    }
    reads = [
        _list_read("list_big", "list, first page (big community)", staff1, now, {}),
        _list_read("list_small", "list, first page (small community)", staff9, now, {}),
        _list_read("page50_big", "50th page by cursor (big community)", staff1, now, {}),
        _list_read("page50_small", "50th page by cursor (small community)", staff9, now, {}),
        _list_read(
            "region", "supervisor's region list (township)", accounts["supervisor2"], now, {}
        ),
        _list_read("category_period", "category + period (big community)", staff1, now, period),
        _list_read(
            "category_period_banner",
            "category + period (banner supervisor)",
            accounts["supervisor"],
            now,
            period,
        ),
    ]
    reads += [
        *_case_reads(accounts, spot, now),
        _nearby_read("nearby", "nearby, no category (100 m)", accounts["courier1"], spot, None),
        _nearby_read(
            "nearby_category",
            "nearby with a category (100 m)",
            accounts["courier1"],
            spot,
            spot["top_category"],
        ),
    ]
    await skip_to_deep_pages(client, db, reads)
    return reads


async def skip_to_deep_pages(client: httpx.AsyncClient, db: Any, reads: list[Read]) -> None:
    """The 50th-page reads start where 49 pages of the list end, in the API and in SQL."""
    for read in reads:
        if read.name.startswith("page50"):
            read.path, skipped = await walk_api(client, read.account, read.path, 49)
            read.args = await walk_sql(db, read, skipped)
            if skipped < 49:  # a small data set: the list ends sooner
                read.label += f" (page {skipped + 1}: the last)"
