"""Reports filed as JSON naming photos uploaded first (``POST /api/v1/reports`` with
``photo_ids``): the way a mini-program files, since ``wx.uploadFile`` sends one file per
request. Tested here: the photos keep the upload ids, in the order given; every id that cannot
be claimed (someone else's, expired, used, unknown, listed twice, too many or none) is refused
naming it, and a refused report — before or after its claim — stores nothing and leaves the
uploads claimable; two reports racing for one upload cannot both get it; JSON and multipart
make the same report; a claimed photo follows its report's visibility. The uploads themselves
are tested in test_uploads.py."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock, FrozenClock
from app.core.geo import wgs84_to_gcj02
from app.demo.seed import demo_id
from app.models import Photo, Report, Upload
from app.photos import pending
from tests.conftest import LoginFn
from tests.reports.conftest import COMMUNITY_1_POINT, SubmitFn, photo_bytes

CHINA = timezone(timedelta(hours=8))
COMMUNITY_1_ID = str(demo_id("community", "陕坝镇", "东街社区"))
# A grid of 头道桥社区, in another township than the point: refused by the routing, which runs
# after the uploads are claimed.
TOUDAOQIAO_GRID = str(demo_id("grid", "头道桥镇", "头道桥社区", "第一网格"))
FAR = "exif_far_from_report"
OLD = "taken_long_before_submission"

# --- helpers --------------------------------------------------------------------------------


@pytest.fixture
def clock(app: FastAPI) -> FrozenClock:
    """The app's clock, stopped at the present (whole seconds) until a test moves it."""
    frozen = FrozenClock(Clock().now().replace(microsecond=0))
    app.state.clock = frozen
    return frozen


def plain_jpeg(colour: str = "teal") -> bytes:
    """A small JPEG without any EXIF, as a phone sends a photo it made smaller."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "JPEG")
    return buffer.getvalue()


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    name: str = "Canon_40D.jpg",
    data: bytes | None = None,
    **fields: object,
) -> str:
    """One photo uploaded as ``wx.uploadFile`` sends it; its upload id."""
    response = await client.post(
        "/api/v1/uploads",
        files={"file": (name, photo_bytes(name) if data is None else data, "image/jpeg")},
        data={name: str(value) for name, value in fields.items()},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    upload_id: str = response.json()["id"]
    return upload_id


def report_body(photo_ids: list[str], **overrides: Any) -> dict[str, Any]:
    return {
        "category_code": "chaotic_parking",
        "description": "巷子里乱停车，消防车进不去",
        "lat": COMMUNITY_1_POINT[0],
        "lng": COMMUNITY_1_POINT[1],
        "photo_ids": photo_ids,
        **overrides,
    }


async def file_json(
    client: httpx.AsyncClient, headers: dict[str, str], photo_ids: list[str], **overrides: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/reports", json=report_body(photo_ids, **overrides), headers=headers
    )


def _without(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code
    return problem


async def counts(session: AsyncSession) -> tuple[int, int, int]:
    """Reports, photos and uploads, as the API committed them so far."""
    await session.rollback()
    found = []
    for table in (Report, Photo, Upload):
        found.append(await session.scalar(select(func.count()).select_from(table)) or 0)
    await session.rollback()
    return found[0], found[1], found[2]


async def upload_ids(session: AsyncSession) -> set[str]:
    await session.rollback()
    ids = {str(i) for i in await session.scalars(select(Upload.id))}
    await session.rollback()
    return ids


async def photo_rows(session: AsyncSession, report_id: str) -> list[Photo]:
    await session.rollback()
    rows = list(
        await session.scalars(
            select(Photo).where(Photo.report_id == uuid.UUID(report_id)).order_by(Photo.position)
        )
    )
    session.expunge_all()
    await session.rollback()
    return rows


async def stored(app: FastAPI, keys: list[str]) -> list[bool]:
    return [await app.state.photo_storage.exists(key) for key in keys]


# --- claiming -------------------------------------------------------------------------------


async def test_a_json_report_claims_its_uploads_in_the_order_given(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    courier = await login("courier1")
    canon = await upload(client, courier, "Canon_40D.jpg")
    landscape = await upload(client, courier, "landscape_3.jpg")
    portrait = await upload(client, courier, "portrait_6.jpg")
    await session.rollback()
    uploads = {
        str(u.id): (u.display_key, u.thumbnail_key, u.sha256)
        for u in await session.scalars(select(Upload))
    }
    await session.rollback()

    order = [landscape, portrait, canon]
    response = await file_json(client, courier, order)
    assert response.status_code == 201, response.text
    assert "idempotent-replayed" not in response.headers
    body = response.json()
    assert response.headers["location"] == f"/api/v1/reports/{body['id']}"
    assert body["status"] == "submitted"
    assert body["community"] == {"id": COMMUNITY_1_ID, "name": "东街社区"}
    assert [p["id"] for p in body["photos"]] == order
    assert [(p["width"], p["height"]) for p in body["photos"]] == [
        (600, 450),
        (450, 600),
        (100, 68),
    ]

    # The photos took over the uploads' ids and files; the uploads are used up.
    rows = await photo_rows(session, body["id"])
    assert [str(r.id) for r in rows] == order
    assert [r.position for r in rows] == [0, 1, 2]
    assert [(r.display_key, r.thumbnail_key, r.sha256) for r in rows] == [uploads[i] for i in order]
    assert (
        await stored(app, [key for r in rows for key in (r.display_key, r.thumbnail_key)])
        == [True] * 6
    )
    assert await counts(session) == (1, 3, 0)
    read = await client.get(f"/api/v1/reports/{body['id']}", headers=courier)
    assert [p["id"] for p in read.json()["photos"]] == order


async def test_the_phones_position_and_time_flag_the_photo_as_exif_does(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    """A photo made smaller by the phone has no EXIF; what the phone sent along stands in for
    it, on the report's photo and in its flags."""
    courier = await login("courier1")
    far_north = (COMMUNITY_1_POINT[0] + 0.02, COMMUNITY_1_POINT[1])  # some 2.2 km
    taken_at = datetime.now(CHINA).replace(microsecond=0) - timedelta(hours=48)
    doubtful = await upload(
        client,
        courier,
        "tmp_far.jpg",
        plain_jpeg("navy"),
        taken_lat=far_north[0],
        taken_lng=far_north[1],
        taken_at=taken_at.isoformat(),
    )
    here = await upload(
        client,
        courier,
        "tmp_here.jpg",
        plain_jpeg("olive"),
        taken_lat=COMMUNITY_1_POINT[0],
        taken_lng=COMMUNITY_1_POINT[1],
        taken_at=datetime.now(CHINA).replace(microsecond=0).isoformat(),
    )
    response = await file_json(client, courier, [doubtful, here])
    assert response.status_code == 201, response.text
    first, second = response.json()["photos"]
    assert first["exif_location"] == {"lat": far_north[0], "lng": far_north[1]}
    assert datetime.fromisoformat(first["exif_taken_at"]) == taken_at
    assert set(first["flags"]) == {FAR, OLD}
    assert second["flags"] == []


# --- refusals -------------------------------------------------------------------------------


Ids = dict[str, str]  # the test's uploads by name: mine1, mine2 (courier1's), theirs (courier2's)


def _ten(ids: Ids) -> list[str]:
    return [ids["mine1"], ids["mine2"], *(str(uuid.uuid4()) for _ in range(8))]


REFUSED: dict[str, tuple[Callable[[Ids], list[str]], list[tuple[list[Any], str]]]] = {
    # name: (the photo_ids sent, [(loc, a fragment of its message)])
    "someone-elses": (
        lambda ids: [ids["mine1"], ids["theirs"]],
        [(["body", "photo_ids", 1], "upload {theirs} is not one of yours")],
    ),
    "unknown": (
        lambda ids: [ids["unknown"], ids["mine1"]],
        [(["body", "photo_ids", 0], "upload {unknown} does not exist or is already used")],
    ),
    "several-bad": (
        lambda ids: [ids["theirs"], ids["mine1"], ids["unknown"]],
        [
            (["body", "photo_ids", 0], "upload {theirs} is not one of yours"),
            (["body", "photo_ids", 2], "upload {unknown} does not exist or is already used"),
        ],
    ),
    "listed-twice": (
        lambda ids: [ids["mine1"], ids["mine2"], ids["mine1"]],
        [(["body", "photo_ids", 2], "upload {mine1} is listed twice")],
    ),
    "ten": (_ten, [(["body", "photo_ids"], "send 1 to 9 photos, not 10")]),
    "none": (lambda ids: [], [(["body", "photo_ids"], "")]),
    "not-an-id": (lambda ids: [ids["mine1"], "photo-1"], [(["body", "photo_ids", 1], "")]),
}


@pytest.mark.parametrize("case", list(REFUSED), ids=list(REFUSED))
async def test_a_bad_photo_id_is_refused_naming_it_and_changes_nothing(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, case: str
) -> None:
    courier, other = await login("courier1"), await login("courier2")
    ids = {
        "mine1": await upload(client, courier, "Canon_40D.jpg"),
        "mine2": await upload(client, courier, "image01088.jpg"),
        "theirs": await upload(client, other, "Canon_40D.jpg"),
        "unknown": str(uuid.uuid4()),
    }
    photo_ids, expected = REFUSED[case]

    response = await file_json(client, courier, photo_ids(ids))
    problem = assert_problem(response, 422, "validation_error")
    errors = {tuple(e["loc"]): e["msg"] for e in problem["errors"]}
    for loc, fragment in expected:
        assert tuple(loc) in errors, problem
        assert fragment.format(**ids) in errors[tuple(loc)]
    assert len(errors) == len(expected), problem
    assert await counts(session) == (0, 0, 3)

    # Nothing was taken: every upload can still be filed, by its own uploader.
    mine = await file_json(client, courier, [ids["mine1"], ids["mine2"]])
    assert mine.status_code == 201, mine.text
    theirs = await file_json(client, other, [ids["theirs"]])
    assert theirs.status_code == 201, theirs.text
    assert await counts(session) == (2, 3, 0)


async def test_an_upload_already_filed_is_refused(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    courier = await login("courier1")
    used, fresh = await upload(client, courier), await upload(client, courier, "landscape_3.jpg")
    assert (await file_json(client, courier, [used])).status_code == 201

    again = await file_json(client, courier, [fresh, used])
    problem = assert_problem(again, 422, "validation_error")
    assert [e["loc"] for e in problem["errors"]] == [["body", "photo_ids", 1]]
    assert f"upload {used} does not exist or is already used" in problem["errors"][0]["msg"]
    assert await counts(session) == (1, 1, 1)
    assert (await file_json(client, courier, [fresh])).status_code == 201


async def test_an_expired_upload_is_refused(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, clock: FrozenClock
) -> None:
    courier = await login("courier1")  # tokens are checked against the wall clock
    old = await upload(client, courier, "Canon_40D.jpg")
    clock.advance(hours=1)
    recent = await upload(client, courier, "landscape_3.jpg")
    clock.advance(hours=23)  # the first has just expired (not yet removed), the second not

    response = await file_json(client, courier, [recent, old])
    problem = assert_problem(response, 422, "validation_error")
    assert [e["loc"] for e in problem["errors"]] == [["body", "photo_ids", 1]]
    assert f"upload {old} has expired" in problem["errors"][0]["msg"]
    assert await counts(session) == (0, 0, 2)
    filed = await file_json(client, courier, [recent])
    assert filed.status_code == 201, filed.text
    assert [p["id"] for p in filed.json()["photos"]] == [recent]


REFUSED_REPORTS: dict[str, tuple[dict[str, Any], list[str]]] = {
    # name: (the fields that make it fail, where the problem is)
    "outside-china": ({"lat": 48.85, "lng": 2.35}, ["body", "lat"]),
    "unknown-category": ({"category_code": "no_such_category"}, ["body", "category_code"]),
    "future-occurred-at": (
        {"occurred_at": (datetime.now(CHINA) + timedelta(days=1)).isoformat()},
        ["body", "occurred_at"],
    ),
    # Refused while routing, after the uploads were claimed.
    "grid-of-another-community": ({"grid_id": TOUDAOQIAO_GRID}, ["body", "grid_id"]),
    "unknown-grid": ({"grid_id": str(uuid.uuid4())}, ["body", "grid_id"]),
}


@pytest.mark.parametrize("case", list(REFUSED_REPORTS), ids=list(REFUSED_REPORTS))
async def test_a_refused_report_leaves_its_uploads_claimable(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, case: str
) -> None:
    fields, loc = REFUSED_REPORTS[case]
    courier = await login("courier1")
    ids = [await upload(client, courier), await upload(client, courier, "landscape_3.jpg")]
    await session.rollback()
    keys = [
        k for u in await session.scalars(select(Upload)) for k in (u.display_key, u.thumbnail_key)
    ]
    await session.rollback()

    refused = await file_json(client, courier, ids, **fields)
    problem = assert_problem(refused, 422, "validation_error")
    assert loc in [e["loc"] for e in problem["errors"]], problem
    assert await counts(session) == (0, 0, 2)
    assert await upload_ids(session) == set(ids)
    assert await stored(app, keys) == [True] * 4

    filed = await file_json(client, courier, ids)
    assert filed.status_code == 201, filed.text
    assert [p["id"] for p in filed.json()["photos"]] == ids
    # The refused report did not use up a case number either.
    assert filed.json()["number"].endswith("-000001")


BodyFn = Callable[[str], dict[str, Any]]  # an upload's id → the request's body and headers
OTHER_SHAPES: dict[str, tuple[BodyFn, int, str, list[Any] | None]] = {
    # name: (the request, its status, its problem's code, where the problem is)
    "text-plain": (
        lambda upload_id: {
            "content": f"photo_ids={upload_id}".encode(),
            "headers": {"Content-Type": "text/plain"},
        },
        415,
        "unsupported_media_type",
        None,
    ),
    "extra-key": (
        lambda upload_id: {"json": report_body([upload_id], nickname="小孙")},
        422,
        "validation_error",
        ["body", "nickname"],
    ),
    "files-field-in-json": (
        lambda upload_id: {"json": report_body([upload_id], photos=[upload_id])},
        422,
        "validation_error",
        ["body", "photos"],
    ),
    "no-photo-ids": (
        lambda upload_id: {"json": _without(report_body([upload_id]), "photo_ids")},
        422,
        "validation_error",
        ["body", "photo_ids"],
    ),
    "broken-json": (
        lambda upload_id: {
            "content": b'{"photo_ids": [',
            "headers": {"Content-Type": "application/json"},
        },
        422,
        "validation_error",
        ["body"],
    ),
}


@pytest.mark.parametrize("case", list(OTHER_SHAPES), ids=list(OTHER_SHAPES))
async def test_a_body_of_another_shape_is_refused(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, case: str
) -> None:
    build, status, code, loc = OTHER_SHAPES[case]
    courier = await login("courier1")
    upload_id = await upload(client, courier)
    request = build(upload_id)
    headers = {**courier, **request.pop("headers", {})}
    response = await client.post("/api/v1/reports", headers=headers, **request)
    problem = assert_problem(response, status, code)
    if loc is not None:
        assert loc in [e["loc"] for e in problem["errors"]], problem
    assert await counts(session) == (0, 0, 1)
    assert (await file_json(client, courier, [upload_id])).status_code == 201


# --- racing claims --------------------------------------------------------------------------


async def test_two_reports_claiming_one_upload_at_once_cannot_both_get_it(
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both requests are held until each has passed its checks and is about to claim: then
    they claim at the same moment. One gets the shared upload; the other is refused naming it,
    and its own upload stays claimable."""
    courier = await login("courier1")
    shared = await upload(client, courier, "Canon_40D.jpg")
    own = [await upload(client, courier, "landscape_3.jpg"), await upload(client, courier)]

    both_claiming = asyncio.Barrier(2)
    claim = pending.claim_uploads

    async def claim_together(*args: Any, **kwargs: Any) -> Any:
        await asyncio.wait_for(both_claiming.wait(), timeout=10)
        return await claim(*args, **kwargs)

    monkeypatch.setattr(pending, "claim_uploads", claim_together)
    responses = await asyncio.gather(
        file_json(client, courier, [shared, own[0]], description="第一份"),
        file_json(client, courier, [shared, own[1]], description="第二份"),
    )
    assert sorted(r.status_code for r in responses) == [201, 422], [r.text for r in responses]
    [won] = [r for r in responses if r.status_code == 201]
    [lost] = [r for r in responses if r.status_code == 422]
    problem = assert_problem(lost, 422, "validation_error")
    assert [e["loc"] for e in problem["errors"]] == [["body", "photo_ids", 0]]
    assert f"upload {shared} does not exist or is already used" in problem["errors"][0]["msg"]

    winner_own = won.json()["photos"][1]["id"]
    [loser_own] = [i for i in own if i != winner_own]
    assert [p["id"] for p in won.json()["photos"]] == [shared, winner_own]
    assert await counts(session) == (1, 2, 1)
    assert await upload_ids(session) == {loser_own}
    monkeypatch.undo()
    again = await file_json(client, courier, [loser_own])
    assert again.status_code == 201, again.text


# --- retries --------------------------------------------------------------------------------


async def test_a_retried_json_report_gets_the_first_answer(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    courier = await login("courier1")
    ids = [await upload(client, courier), await upload(client, courier, "landscape_3.jpg")]
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await file_json(client, {**courier, **key}, ids)
    assert first.status_code == 201, first.text
    # The uploads are used up by now: the retry is answered from the record, not claimed again.
    retry = await file_json(client, {**courier, **key}, ids)
    assert retry.status_code == 201, retry.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert await counts(session) == (1, 2, 0)

    reordered = await file_json(client, {**courier, **key}, ids[::-1])
    assert_problem(reordered, 422, "idempotency_key_reused")
    assert await counts(session) == (1, 2, 0)


# --- the same report either way -------------------------------------------------------------


def _photo_facts(photo: dict[str, Any]) -> dict[str, Any]:
    """A photo of an answer without what differs by nature (its id and links), its EXIF time
    as the instant it is (one answer may write it in UTC, the other in China time)."""
    facts = _without(photo, "id", "url", "thumbnail_url")
    if facts["exif_taken_at"] is not None:
        facts["exif_taken_at"] = datetime.fromisoformat(facts["exif_taken_at"])
    return facts


async def test_json_and_multipart_make_the_same_report(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    session: AsyncSession,
    clock: FrozenClock,
) -> None:
    names = ["DSCN0010.jpg", "portrait_6.jpg", "Canon_40D.jpg"]
    fields: dict[str, Any] = {
        "address": "东街平房区12号",
        "occurred_at": (clock.now() - timedelta(hours=3)).isoformat(),
        "grid_id": str(demo_id("grid", "陕坝镇", "东街社区", "第二网格")),
    }
    multipart = await submit(
        "courier1", photos=[(name, photo_bytes(name)) for name in names], **fields
    )
    assert multipart.status_code == 201, multipart.text
    courier = await login("courier1")
    ids = [await upload(client, courier, name) for name in names]
    as_json = await file_json(client, courier, ids, **fields)
    assert as_json.status_code == 201, as_json.text
    one, other = multipart.json(), as_json.json()

    assert other["number"] != one["number"]
    assert [d["id"] for d in other["possible_duplicates"]] == [one["id"]]
    assert _without(other, "id", "number", "photos", "possible_duplicates") == _without(
        one, "id", "number", "photos", "possible_duplicates"
    )
    assert other["community"] == {"id": COMMUNITY_1_ID, "name": "东街社区"}
    assert other["routing"] == {"method": "boundary", "distance_m": 0.0}
    assert [_photo_facts(p) for p in other["photos"]] == [_photo_facts(p) for p in one["photos"]]
    assert {FAR, OLD} <= set(other["photos"][0]["flags"])  # DSCN0010: Tuscany, 2008

    row_facts = (
        "content_type",
        "width",
        "height",
        "thumbnail_width",
        "thumbnail_height",
        "size_bytes",
        "sha256",
        "original_filename",
        "original_format",
        "exif_lat",
        "exif_lng",
        "exif_taken_at",
        "flags",
        "position",
        "kind",
        "uploaded_by_id",
    )

    def facts(rows: list[Photo]) -> list[tuple[Any, ...]]:
        return [tuple(getattr(row, name) for name in row_facts) for row in rows]

    assert facts(await photo_rows(session, other["id"])) == facts(
        await photo_rows(session, one["id"])
    )


# --- a mini-program's day -------------------------------------------------------------------


async def test_a_mini_program_files_a_report_from_three_uploads(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    """As ``wx.uploadFile`` sends each photo (the file in ``file``, ``formData`` as fields, the
    token in ``header``), then ``wx.request`` the report with ``wx.getLocation``'s GCJ-02."""
    authorization = await login("courier1")
    ids = []
    for index, name in enumerate(["portrait_6.jpg", "landscape_3.jpg", "Canon_40D.jpg"]):
        response = await client.post(
            "/api/v1/uploads",
            files={"file": (f"wxfile://tmp_{index}a7c3.jpg", photo_bytes(name), "image/jpeg")},
            data={"taken_lat": str(COMMUNITY_1_POINT[0]), "taken_lng": str(COMMUNITY_1_POINT[1])},
            headers={**authorization, "Idempotency-Key": f"wx-upload-{index}"},
        )
        assert response.status_code == 201, response.text
        assert response.json()["thumbnail_url"].startswith(
            f"/api/v1/photos/{response.json()['id']}?"
        )
        ids.append(response.json()["id"])

    gcj_lat, gcj_lng = wgs84_to_gcj02(*COMMUNITY_1_POINT)
    report = await client.post(
        "/api/v1/reports",
        json={
            "category_code": "chaotic_parking",
            "description": "巷口乱停车，消防车进不去",
            "lat": gcj_lat,
            "lng": gcj_lng,
            "coord_system": "gcj02",
            "photo_ids": ids,
        },
        headers={**authorization, "Idempotency-Key": "wx-report-1"},
    )
    assert report.status_code == 201, report.text
    body = report.json()
    assert body["submitted_location"] == {"lat": gcj_lat, "lng": gcj_lng, "coord_system": "gcj02"}
    assert body["location"]["lat"] == pytest.approx(COMMUNITY_1_POINT[0], abs=1e-6)
    assert body["location"]["lng"] == pytest.approx(COMMUNITY_1_POINT[1], abs=1e-6)
    assert body["community"] == {"id": COMMUNITY_1_ID, "name": "东街社区"}
    assert [p["id"] for p in body["photos"]] == ids
    # The phone's position is the converted report point: no photo looks far away.
    assert all(FAR not in p["flags"] for p in body["photos"])
    rows = await photo_rows(session, body["id"])
    assert [r.original_filename for r in rows] == [f"tmp_{i}a7c3.jpg" for i in range(3)]
    # The photos' links in the answer open them, as an <image> would.
    for photo in body["photos"]:
        opened = await client.get(photo["thumbnail_url"])
        assert opened.status_code == 200, opened.text
        assert opened.headers["content-type"].startswith("image/")


# --- who sees a claimed photo ---------------------------------------------------------------


async def test_a_claimed_photo_follows_its_reports_visibility(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    courier = await login("courier1")
    response = await client.post(
        "/api/v1/uploads",
        files={"file": ("a.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg")},
        headers=courier,
    )
    upload_id, link = response.json()["id"], response.json()["thumbnail_url"]
    url = f"/api/v1/photos/{upload_id}"
    readers = ("courier1", "courier2", "staff1", "staff2")

    async def status(name: str) -> int:
        return (await client.get(url, headers=await login(name))).status_code

    assert [await status(n) for n in readers] == [200, 404, 404, 404]
    assert (await file_json(client, courier, [upload_id])).status_code == 201
    # The report's: its reporter and 东街社区's staff, not another community's, nor a stranger.
    assert [await status(n) for n in readers] == [200, 404, 200, 404]
    assert (await client.get(link)).status_code == 200
    assert (await client.get(url)).status_code == 401
