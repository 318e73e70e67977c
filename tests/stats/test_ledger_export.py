"""The ledger (台账) download: `GET /api/v1/reports/export` and `python -m app export reports`.

Three cases: resident1 reports a street light in 东街社区 that staff1 accepts and whistles
unit1's unit to; courier1 reports a manhole cover in 东街社区; resident1 reports parking in
头道桥社区, outside staff1's community. Each caller's file lists the cases their case list shows,
with the people shown as that list shows them, and no text a spreadsheet would run."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal, RoleGrant
from app.core.workcalendar import CHINA_TZ
from app.demo.seed import demo_id
from app.models import Community, Report
from app.models.enums import Role
from app.reports.queries import ReportFilters
from app.stats.ledger import LedgerQuery, ledger_batches
from app.stats.tabular import Cell, csv_chunks, xlsx_chunks
from tests.conftest import LoginFn
from tests.support import command_env, run_command

EXPORT = "/api/v1/reports/export"
PHOTO = Path(__file__).resolve().parents[1] / "fixtures" / "photos" / "Canon_40D.jpg"
BOM = b"\xef\xbb\xbf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEAD_UNIT = str(demo_id("unit", "旗农牧和科技局"))  # unit1's, paired with 东街社区
HEADERS = [
    "案件编号",
    "状态",
    "类别",
    "来源",
    "优先级",
    "描述",
    "地址",
    "纬度",
    "经度",
    "所属区域",
    "社区",
    "网格",
    "上报人",
    "上报人电话",
    "上报时间",
    "立案时间",
    "派遣时间",
    "办结时间",
    "结案时间",
    "受理时限",
    "办结时限",
    "主办单位",
    "督办级别",
    "返工次数",
    "挂账时长(小时)",
    "结案类型",
    "满意度",
]
TIME = "%Y-%m-%d %H:%M:%S"

Row = dict[str, Any]


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _centre(session: AsyncSession, name: str) -> tuple[float, float]:
    community = await session.scalar(select(Community).where(Community.name == name))
    assert community is not None
    assert community.center_lat is not None
    assert community.center_lng is not None
    return community.center_lat, community.center_lng


@dataclass
class Cases:
    light: dict[str, Any]  # 东街社区, resident1, accepted and whistled to unit1's unit
    manhole: dict[str, Any]  # 东街社区, courier1, submitted
    parking: dict[str, Any]  # 头道桥社区, resident1, submitted


@pytest.fixture
async def cases(client: httpx.AsyncClient, login: LoginFn, session: AsyncSession) -> Cases:
    async def file(username: str, community: str, category: str, description: str) -> Any:
        lat, lng = await _centre(session, community)
        data = {"category_code": category, "description": description}
        data |= {"lat": str(lat), "lng": str(lng)}
        photos = [("photos", ("a.jpg", PHOTO.read_bytes(), "image/jpeg"))]
        answer = await client.post(
            "/api/v1/reports", data=data, files=photos, headers=await login(username)
        )
        return ok(answer, 201)

    light = await file("resident1", "东街社区", "street_light_failure", "=1+1 路灯不亮")
    manhole = await file("courier1", "东街社区", "manhole_cover", "@SUM(1,2) 井盖丢了")
    parking = await file("resident1", "头道桥社区", "chaotic_parking", "-2号楼门口乱停车")
    staff1 = await login("staff1")
    url = f"/api/v1/reports/{light['id']}"
    ok(await client.post(f"{url}/accept", json={}, headers=staff1))
    ok(await client.post(f"{url}/whistle", json={"unit_ids": [LEAD_UNIT]}, headers=staff1))
    return Cases(light, manhole, parking)


async def download(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> httpx.Response:
    response = await client.get(EXPORT, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response


def read_csv(response: httpx.Response) -> list[Row]:
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(BOM)
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert lines[0] == HEADERS
    # Records end with a line feed, as COPY ends them (a line break inside a quoted cell is the
    # cell's own).
    assert response.content.startswith(BOM + ",".join(HEADERS).encode() + b"\n")
    assert response.content.endswith(b"\n")
    assert not response.content.endswith(b"\r\n")
    return [dict(zip(HEADERS, line, strict=True)) for line in lines[1:]]


def read_xlsx(response: httpx.Response) -> list[Row]:
    assert response.headers["content-type"] == XLSX
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.active
    assert sheet is not None
    assert sheet.title == "台账"
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])
    lines = list(sheet.iter_rows(values_only=True))
    assert list(lines[0]) == HEADERS
    return [dict(zip(HEADERS, line, strict=True)) for line in lines[1:]]


def numbers(rows: list[Row]) -> list[str]:
    return [row["案件编号"] for row in rows]


def china_time(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(CHINA_TZ).strftime(TIME)


async def test_each_caller_downloads_the_cases_they_may_see_oldest_first(
    client: httpx.AsyncClient, login: LoginFn, cases: Cases
) -> None:
    light, manhole, parking = (
        cases.light["number"],
        cases.manhole["number"],
        cases.parking["number"],
    )
    expected = {
        "admin": [light, manhole, parking],
        "viewer": [light, manhole, parking],
        "staff1": [light, manhole],
        "unit1": [light],
        "resident1": [light, parking],
        "courier1": [manhole],
    }
    for username, seen in expected.items():
        headers = await login(username)
        assert numbers(read_csv(await download(client, headers))) == seen, username
        xlsx = read_xlsx(await download(client, headers, format="xlsx"))
        assert numbers(xlsx) == seen, username


async def test_a_row_shows_the_case_with_its_times_in_china_time(
    client: httpx.AsyncClient, login: LoginFn, cases: Cases
) -> None:
    staff1 = await login("staff1")
    case = ok(await client.get(f"/api/v1/reports/{cases.light['id']}", headers=staff1))
    (row,) = [
        r for r in read_csv(await download(client, staff1)) if r["案件编号"] == case["number"]
    ]
    deadlines = {d["kind"]: d["due_at"] for d in case["deadlines"]}
    assert row | {"上报人电话": "…"} == {
        "案件编号": case["number"],
        "状态": "已吹哨",
        "类别": "路灯故障",
        "来源": "居民上报",
        "优先级": "一般",
        "描述": "'=1+1 路灯不亮",
        "地址": "",
        "纬度": str(case["location"]["lat"]),
        "经度": str(case["location"]["lng"]),
        "所属区域": case["region"]["name"],
        "社区": "东街社区",
        "网格": case["grid"]["name"] if case["grid"] else "",
        "上报人": "吴桂兰",
        "上报人电话": "…",
        "上报时间": china_time(case["created_at"]),
        "立案时间": china_time(case["accepted_at"]),
        "派遣时间": china_time(case["dispatched_at"]),
        "办结时间": "",
        "结案时间": "",
        "受理时限": china_time(deadlines["accept"]),
        "办结时限": china_time(deadlines["resolve"]),
        "主办单位": "旗农牧和科技局",
        "督办级别": "",
        "返工次数": "0",
        "挂账时长(小时)": "0.0",
        "结案类型": "",
        "满意度": "",
    }


async def test_the_excel_file_holds_real_dates_and_numbers(
    client: httpx.AsyncClient, login: LoginFn, cases: Cases
) -> None:
    admin = await login("admin")
    as_text = read_csv(await download(client, admin))
    as_cells = read_xlsx(await download(client, admin, format="xlsx"))
    for text, cells in zip(as_text, as_cells, strict=True):
        assert isinstance(cells["上报时间"], datetime)
        assert cells["上报时间"].strftime(TIME) == text["上报时间"]
        assert cells["纬度"] == float(text["纬度"])
        assert cells["返工次数"] == 0
        assert cells["描述"] == text["描述"]
        # Empty cells are empty in both.
        assert cells["结案时间"] is None
        assert text["结案时间"] == ""
    assert as_cells[0]["立案时间"].strftime(TIME) == as_text[0]["立案时间"]


async def test_text_a_spreadsheet_would_run_is_written_with_a_leading_apostrophe(
    client: httpx.AsyncClient, login: LoginFn, cases: Cases, session: AsyncSession
) -> None:
    # The API strips a description's leading blanks; a tab from anywhere else is guarded too.
    await session.execute(
        update(Report)
        .where(Report.id == uuid.UUID(cases.parking["id"]))
        .values(address='\t=HYPERLINK("http://x")', description="\r+1 门口乱停车")
    )
    await session.commit()
    admin = await login("admin")
    expected = {
        cases.light["number"]: ("'=1+1 路灯不亮", ""),
        cases.manhole["number"]: ("'@SUM(1,2) 井盖丢了", ""),
        cases.parking["number"]: ("'\r+1 门口乱停车", '\'\t=HYPERLINK("http://x")'),
    }
    for rows in (
        read_csv(await download(client, admin)),
        read_xlsx(await download(client, admin, format="xlsx")),
    ):
        shown = {row["案件编号"]: (row["描述"], row["地址"] or "") for row in rows}
        assert shown == expected
        # Numbers stay numbers: a negative one would not be touched either.
        assert all(not str(row["纬度"]).startswith("'") for row in rows)


async def test_the_reporter_is_shown_as_the_case_list_shows_them(
    client: httpx.AsyncClient, login: LoginFn, cases: Cases
) -> None:
    resident_phone = ok(await client.get("/api/v1/me", headers=await login("resident1")))["phone"]
    assert resident_phone
    seen: dict[str, dict[str, tuple[str, str]]] = {}
    for username in ("admin", "staff1", "resident1", "viewer", "unit1", "courier1"):
        headers = await login(username)
        listed = ok(await client.get("/api/v1/reports", headers=headers))["items"]
        from_list = {
            item["number"]: (
                (item["reporter"] or {}).get("display_name") or "",
                (item["reporter"] or {}).get("phone") or "",
            )
            for item in listed
        }
        for rows in (
            read_csv(await download(client, headers)),
            read_xlsx(await download(client, headers, format="xlsx")),
        ):
            shown = {r["案件编号"]: (r["上报人"] or "", r["上报人电话"] or "") for r in rows}
            assert shown == from_list, username
        seen[username] = from_list
    light = cases.light["number"]
    # Masked for the community's staff and for admins; in full for the reporter; no people for
    # dashboards and units.
    assert seen["staff1"][light][0] == "吴桂兰"
    assert "*" in seen["staff1"][light][1]
    assert seen["staff1"][light][1] != resident_phone
    assert seen["admin"][light] == seen["staff1"][light]
    assert seen["resident1"][light] == ("吴桂兰", resident_phone)
    assert seen["viewer"][light] == ("", "")
    assert seen["unit1"][light] == ("", "")


async def test_the_list_filters_choose_the_rows(
    client: httpx.AsyncClient, login: LoginFn, cases: Cases
) -> None:
    admin = await login("admin")
    light, manhole, parking = (
        cases.light["number"],
        cases.manhole["number"],
        cases.parking["number"],
    )

    async def chosen(**params: Any) -> list[str]:
        return numbers(read_csv(await download(client, admin, **params)))

    assert await chosen(status="dispatched") == [light]
    assert await chosen(status=["submitted", "accepted"]) == [manhole, parking]
    assert await chosen(category="manhole_cover") == [manhole]
    assert await chosen(community_id=cases.light["community"]["id"]) == [light, manhole]
    assert await chosen(unit_id=LEAD_UNIT) == [light]
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert await chosen(created_from=later) == []
    assert numbers(read_xlsx(await download(client, admin, format="xlsx", q="井盖"))) == [manhole]


async def test_the_file_is_an_attachment_named_with_the_day(
    client: httpx.AsyncClient, login: LoginFn, cases: Cases
) -> None:
    day = datetime.now(CHINA_TZ).strftime("%Y%m%d")
    headers = await login("staff1")
    for params, extension in (
        ({}, "csv"),
        ({"format": "csv"}, "csv"),
        ({"format": "xlsx"}, "xlsx"),
    ):
        response = await download(client, headers, **params)
        assert response.headers["content-disposition"] == (
            f'attachment; filename="suishoupai-ledger-{day}.{extension}"; '
            f"filename*=UTF-8''%E5%8F%B0%E8%B4%A6-{day}.{extension}"
        )
        assert response.headers["cache-control"] == "no-store"


async def test_an_unknown_format_or_no_sign_in_is_refused(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    refused = await client.get(EXPORT, params={"format": "pdf"}, headers=await login("admin"))
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert [error["loc"] for error in refused.json()["errors"]] == [["query", "format"]]
    anonymous = await client.get(EXPORT)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"


async def test_rows_read_a_batch_at_a_time_are_the_rows_read_at_once(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, cases: Cases
) -> None:
    admin = Principal(
        user_id=None,
        username="cli",
        grants=(RoleGrant(role=Role.admin, scope_type=None, scope_id=None, scope_name=None),),
    )
    query = LedgerQuery(admin, ReportFilters(), datetime.now(UTC))
    batches = [batch async for batch in ledger_batches(app.state.sessionmaker, query, batch_size=2)]
    assert [len(batch) for batch in batches] == [2, 1]
    downloaded = read_csv(await download(client, await login("admin")))
    assert [row[0] for batch in batches for row in batch] == numbers(downloaded)


async def test_the_command_writes_the_ledger_to_a_file(
    database_url: str, cases: Cases, tmp_path: Path
) -> None:
    output = tmp_path / "台账.xlsx"
    status, printed = await run_command(
        "export",
        "reports",
        "--format",
        "xlsx",
        "--output",
        str(output),
        "--status",
        "dispatched",
        "--status",
        "submitted",
        "--category",
        "street_light_failure",
        env=command_env(database_url),
    )
    assert status == 0, printed
    assert f"Wrote 1 cases to {output}." in printed
    sheet = openpyxl.load_workbook(output).active
    assert sheet is not None
    lines = list(sheet.iter_rows(values_only=True))
    assert list(lines[0]) == HEADERS
    assert [line[0] for line in lines[1:]] == [cases.light["number"]]
    # The administrator's view: the reporter's name, the phone masked.
    row = dict(zip(HEADERS, lines[1], strict=True))
    assert row["上报人"] == "吴桂兰"
    assert "*" in str(row["上报人电话"])
    assert not output.with_name(output.name + ".part").exists()


async def test_a_table_in_memory_reads_back_as_written() -> None:
    """What the writers make of awkward values: a sheet name Excel would refuse, Excel's own
    escapes and characters XML cannot hold, an empty float, dates and a line break in a cell."""
    day = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)  # 07:30 on the 5th in China
    table: list[list[Cell]] = [
        ["_x0041_ a\x01b", float("nan"), -3, day, day.date(), True, "两行\n文字"]
    ]
    names = ["文本", "小数", "整数", "时间", "日期", "是否", "备注"]
    book = openpyxl.load_workbook(
        io.BytesIO(b"".join([chunk async for chunk in xlsx_chunks("单位/考核[表]", names, table)]))
    )
    sheet = book.active
    assert sheet is not None
    assert sheet.title == "单位_考核_表_"
    (row,) = list(sheet.iter_rows(min_row=2, values_only=True))
    # openpyxl shows Excel's escape as it is stored; Excel shows "_x0041_ ab".
    assert row == (
        "_x005F_x0041_ ab",
        None,
        -3,
        datetime(2026, 12, 5, 7, 30),
        datetime(2026, 12, 4),
        True,
        "两行\n文字",
    )
    text = b"".join([chunk async for chunk in csv_chunks(names, table)]).decode("utf-8-sig")
    assert (
        text.split("\n", 1)[1]
        == '_x0041_ a\x01b,,-3,2026-12-05 07:30:00,2026-12-04,TRUE,"两行\n文字"\n'
    )


async def test_a_head_request_answers_what_the_download_is_without_reading_the_cases(
    client: httpx.AsyncClient, login: LoginFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A HEAD (a download manager's first look, a link checker) costs nothing: no case is read
    for a body that is never sent."""

    def no_reading(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the ledger was read for a HEAD request")

    monkeypatch.setattr("app.stats.export_router.ledger_text_batches", no_reading)
    headers = await login("admin")
    for export_format, media_type in (("csv", "text/csv"), ("xlsx", "spreadsheetml")):
        response = await client.head(
            f"/api/v1/reports/export?format={export_format}", headers=headers
        )
        assert response.status_code == 200, response.text
        assert media_type in response.headers["content-type"]
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.headers["cache-control"] == "no-store"
        assert response.content == b""
    refused = await client.head("/api/v1/reports/export")
    assert refused.status_code == 401
