"""``POST /api/v1/uploads``: one photo per request, ahead of the report that claims it by id (what
a mini-program's ``wx.uploadFile`` can send). Tested here: the answer (id, signed links, size,
where and when the photo was taken, expiry), who may upload and read an upload, the same photo
checks as report intake, ``Idempotency-Key`` retries, the cap on uploads waiting for a report,
and the worker's removal of the uploads nobody claimed, rows and files. The reports that claim
uploads are tested in test_upload_claims.py."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock, FrozenClock
from app.core.config import Settings
from app.demo.seed import demo_id
from app.integrations.delivery import new_http_client
from app.models import Photo, Report, Upload
from app.photos.pending import expire_uploads
from app.worker import run_once
from tests.conftest import LoginFn
from tests.reports.conftest import COMMUNITY_1_POINT, photo_bytes

CHINA = timezone(timedelta(hours=8))
SIGNED_LINK = re.compile(
    r"/api/v1/photos/(?P<id>[0-9a-f-]{36})\?size=(?P<size>display|thumbnail)"
    r"&expires=(?P<expires>\d+)&signature=(?P<signature>[0-9a-f]+)"
)
# DSCN0010.jpg's EXIF: 43° 28' 2.814" N, 11° 53' 6.456" E (Tuscany), taken 2008-10-22 16:28:39
# (no offset in the file: read as China time).
DSCN0010_LAT = 43 + 28 / 60 + 2.814 / 3600
DSCN0010_LNG = 11 + 53 / 60 + 6.45599999 / 3600
DSCN0010_TAKEN = datetime(2008, 10, 22, 16, 28, 39, tzinfo=CHINA)


# --- helpers --------------------------------------------------------------------------------


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, database_url: str, settings_for: Callable[..., Settings]
) -> Settings:
    """The suite's settings, with whatever a test overrides (an ``indirect`` parameter)."""
    overrides: dict[str, Any] = getattr(request, "param", {})
    return settings_for(database_url, **overrides)


@pytest.fixture
def clock(app: FastAPI) -> FrozenClock:
    """The app's clock, stopped at the present (whole seconds) until a test moves it."""
    frozen = FrozenClock(Clock().now().replace(microsecond=0))
    app.state.clock = frozen
    return frozen


def plain_jpeg() -> bytes:
    """A small JPEG without any EXIF, as a phone sends a photo it made smaller."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, "JPEG")
    return buffer.getvalue()


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    name: str = "Canon_40D.jpg",
    data: bytes | None = None,
    *,
    key: str | None = None,
    **fields: object,
) -> httpx.Response:
    """One photo in ``file`` and the optional fields, as ``wx.uploadFile`` sends them."""
    return await client.post(
        "/api/v1/uploads",
        files={"file": (name, photo_bytes(name) if data is None else data, "image/jpeg")},
        data={name: str(value) for name, value in fields.items()},
        headers={**headers, **({"Idempotency-Key": key} if key else {})},
    )


async def uploaded(
    client: httpx.AsyncClient, headers: dict[str, str], name: str = "Canon_40D.jpg", **kw: Any
) -> dict[str, Any]:
    response = await upload(client, headers, name, **kw)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def upload_rows(session: AsyncSession) -> list[Upload]:
    await session.rollback()  # a fresh snapshot: what the API committed so far
    rows = list(await session.scalars(select(Upload).order_by(Upload.created_at)))
    session.expunge_all()
    await session.rollback()
    return rows


async def count(session: AsyncSession, table: type[Report] | type[Photo]) -> int:
    await session.rollback()
    counted = await session.scalar(select(func.count()).select_from(table))
    await session.rollback()
    return counted or 0


async def files_exist(app: FastAPI, row: Upload) -> list[bool]:
    storage = app.state.photo_storage
    return [await storage.exists(row.display_key), await storage.exists(row.thumbnail_key)]


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code
    return problem


async def report_with(
    client: httpx.AsyncClient, headers: dict[str, str], photo_ids: list[str]
) -> httpx.Response:
    return await client.post(
        "/api/v1/reports",
        json={
            "category_code": "chaotic_parking",
            "description": "巷子里乱停车，消防车进不去",
            "lat": COMMUNITY_1_POINT[0],
            "lng": COMMUNITY_1_POINT[1],
            "photo_ids": photo_ids,
        },
        headers=headers,
    )


# --- the answer -----------------------------------------------------------------------------


async def test_an_upload_answers_its_id_size_links_and_expiry(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    clock: FrozenClock,
) -> None:
    data = photo_bytes("Canon_40D.jpg")
    response = await upload(client, await login("courier1"), "Canon_40D.jpg", data)
    assert response.status_code == 201, response.text
    assert "idempotent-replayed" not in response.headers
    body = response.json()
    photo_id = str(uuid.UUID(body["id"]))
    assert body["content_type"] == "image/jpeg"
    assert (body["width"], body["height"]) == (100, 68)
    assert body["size_bytes"] == len(data)
    # The Canon's EXIF has a capture time and a GPS block without a position.
    assert body["exif"]["lat"] is None
    assert body["exif"]["lng"] is None
    assert datetime.fromisoformat(body["exif"]["taken_at"]) == datetime(
        2008, 5, 30, 15, 56, 1, tzinfo=CHINA
    )
    assert datetime.fromisoformat(body["expires_at"]) == clock.now() + timedelta(hours=24)
    for field, size in (("thumbnail_url", "thumbnail"), ("display_url", "display")):
        link = SIGNED_LINK.fullmatch(body[field])
        assert link, body[field]
        assert (link["id"], link["size"]) == (photo_id, size)
        # Valid for the settings' hour, rounded up to a quarter of an hour.
        expires = datetime.fromtimestamp(int(link["expires"]), UTC)
        assert timedelta(hours=1) <= expires - clock.now() < timedelta(hours=1, minutes=15)

    # One row for the caller, its files stored; no report and no photo of one yet.
    [row] = await upload_rows(session)
    assert str(row.id) == photo_id
    assert row.uploader_id == demo_id("user", "courier1")
    assert row.original_filename == "Canon_40D.jpg"
    assert row.size_bytes == len(data)
    assert await files_exist(app, row) == [True, True]
    assert await count(session, Report) == 0
    assert await count(session, Photo) == 0


async def test_the_signed_links_open_the_upload_without_signing_in(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    courier = await login("courier1")
    body = await uploaded(client, courier, "landscape_3.jpg")
    thumbnail = await client.get(body["thumbnail_url"])
    assert thumbnail.status_code == 200, thumbnail.text
    assert thumbnail.headers["content-type"].startswith("image/")
    with Image.open(io.BytesIO(thumbnail.content)) as image:
        assert max(image.size) <= 320
    display = await client.get(body["display_url"])
    assert display.status_code == 200, display.text
    assert display.headers["content-type"].startswith("image/")
    with Image.open(io.BytesIO(display.content)) as image:
        assert image.size == (body["width"], body["height"])
    # The uploader's token opens the same image.
    with_token = await client.get(f"/api/v1/photos/{body['id']}", headers=courier)
    assert with_token.status_code == 200
    assert with_token.content == display.content


async def test_an_altered_link_opens_nothing(client: httpx.AsyncClient, login: LoginFn) -> None:
    body = await uploaded(client, await login("courier1"))
    link = urlsplit(body["thumbnail_url"])
    query = {name: values[0] for name, values in parse_qs(link.query).items()}
    signature = query["signature"]
    altered = ("0" if signature[0] != "0" else "1") + signature[1:]
    for changed in (
        {"signature": altered},
        {"size": "display"},  # the thumbnail's signature does not open the display size
        {"expires": str(int(query["expires"]) + 900)},
    ):
        url = link.path + "?" + "&".join(f"{k}={v}" for k, v in (query | changed).items())
        response = await client.get(url)
        assert response.status_code in (401, 403), (changed, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get(f"/api/v1/photos/{body['id']}")).status_code == 401


async def test_only_the_uploader_reads_an_upload_with_a_token(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    body = await uploaded(client, await login("courier1"))
    url = f"/api/v1/photos/{body['id']}"
    assert (await client.get(url, headers=await login("courier1"))).status_code == 200
    for other in ("courier2", "staff1", "admin"):
        response = await client.get(url, headers=await login(other))
        assert response.status_code == 404, (other, response.text)


# --- who may upload -------------------------------------------------------------------------


async def test_uploading_needs_a_signed_in_person(
    app: FastAPI, client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    anonymous = await upload(client, {})
    assert_problem(anonymous, 401, "unauthorized")
    created = await client.post(
        "/api/v1/api-keys",
        json={"name": "大屏", "region_id": str(demo_id("region", "巴彦淖尔市"))},
        headers=await login("admin"),
    )
    assert created.status_code == 201, created.text
    with_key = await upload(client, {"Authorization": f"Bearer {created.json()['key']}"})
    assert_problem(with_key, 403, "forbidden")
    assert await upload_rows(session) == []
    assert not any(app.state.settings.photo_dir.rglob("*.*"))


# --- the photo checks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "name", "data", "reason"),
    [
        pytest.param({}, "notes.jpg", b"this is not a picture\n" * 20, "not_an_image", id="text"),
        pytest.param({}, "head.jpg", photo_bytes("Canon_40D.jpg")[:400], None, id="truncated"),
        pytest.param({"max_photo_bytes": 5000}, "Canon_40D.jpg", None, "too_large", id="bytes"),
        pytest.param(
            {"max_photo_pixels": 5000}, "Canon_40D.jpg", None, "too_many_pixels", id="pixels"
        ),
    ],
    indirect=["settings"],
)
async def test_a_bad_photo_is_refused_and_nothing_is_kept(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    name: str,
    data: bytes | None,
    reason: str | None,
) -> None:
    response = await upload(client, await login("courier1"), name, data)
    problem = assert_problem(response, 422, "photo_rejected")
    [error] = problem["errors"]
    assert error["loc"][0] == "body"
    assert name in error["msg"]
    if reason:
        assert reason in error["msg"]
    assert "Traceback" not in response.text
    assert await upload_rows(session) == []
    assert not any(app.state.settings.photo_dir.rglob("*.*"))


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        pytest.param({"taken_at": "2026-01-01T08:00:00"}, "taken_at", id="time-without-zone"),
        pytest.param({"taken_at": "yesterday"}, "taken_at", id="time-garbage"),
        pytest.param({"taken_lat": "91", "taken_lng": "107"}, "taken_lat", id="lat-91"),
        pytest.param({"taken_lat": "40", "taken_lng": "181"}, "taken_lng", id="lng-181"),
        pytest.param({"taken_lat": "nan", "taken_lng": "107"}, "taken_lat", id="lat-nan"),
    ],
)
async def test_bad_phone_fields_are_refused(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    fields: dict[str, str],
    loc: str,
) -> None:
    response = await upload(client, await login("courier1"), "Canon_40D.jpg", None, **fields)
    problem = assert_problem(response, 422, "validation_error")
    assert ["body", loc] in [e["loc"] for e in problem["errors"]], problem
    assert await upload_rows(session) == []
    assert not any(app.state.settings.photo_dir.rglob("*.*"))


async def test_an_upload_without_a_file_is_refused(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    response = await client.post(
        "/api/v1/uploads", data={"taken_lat": "40.8"}, headers=await login("courier1")
    )
    problem = assert_problem(response, 422, "validation_error")
    assert ["body", "file"] in [e["loc"] for e in problem["errors"]], problem
    assert await upload_rows(session) == []


# --- where and when the photo was taken -----------------------------------------------------


async def test_the_files_exif_says_where_and_when(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    body = await uploaded(client, await login("courier1"), "DSCN0010.jpg")
    assert body["exif"]["lat"] == pytest.approx(DSCN0010_LAT, abs=1e-6)
    assert body["exif"]["lng"] == pytest.approx(DSCN0010_LNG, abs=1e-6)
    assert datetime.fromisoformat(body["exif"]["taken_at"]) == DSCN0010_TAKEN
    assert (body["width"], body["height"]) == (640, 480)


async def test_a_photo_without_exif_takes_what_the_phone_says(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    taken_at = datetime(2026, 3, 1, 9, 30, 5, tzinfo=CHINA)
    body = await uploaded(
        client,
        await login("courier1"),
        "tmp_small.jpg",
        data=plain_jpeg(),
        taken_lat=COMMUNITY_1_POINT[0],
        taken_lng=COMMUNITY_1_POINT[1],
        taken_at=taken_at.isoformat(),
    )
    assert body["exif"]["lat"] == COMMUNITY_1_POINT[0]
    assert body["exif"]["lng"] == COMMUNITY_1_POINT[1]
    assert datetime.fromisoformat(body["exif"]["taken_at"]) == taken_at


async def test_a_photo_without_exif_or_fields_says_nothing(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    body = await uploaded(client, await login("courier1"), "tmp_small.jpg", data=plain_jpeg())
    assert body["exif"] == {"lat": None, "lng": None, "taken_at": None}


async def test_the_files_exif_wins_over_the_phones_fields(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    body = await uploaded(
        client,
        await login("courier1"),
        "DSCN0010.jpg",
        taken_lat=COMMUNITY_1_POINT[0],
        taken_lng=COMMUNITY_1_POINT[1],
        taken_at=datetime(2026, 3, 1, 9, 30, tzinfo=CHINA).isoformat(),
    )
    assert body["exif"]["lat"] == pytest.approx(DSCN0010_LAT, abs=1e-6)
    assert body["exif"]["lng"] == pytest.approx(DSCN0010_LNG, abs=1e-6)
    assert datetime.fromisoformat(body["exif"]["taken_at"]) == DSCN0010_TAKEN


async def test_the_phone_fills_in_only_what_the_exif_lacks(
    client: httpx.AsyncClient, login: LoginFn
) -> None:
    """The Canon's EXIF has a time but no position: the phone's position is used, its time not."""
    body = await uploaded(
        client,
        await login("courier1"),
        taken_lat=COMMUNITY_1_POINT[0],
        taken_lng=COMMUNITY_1_POINT[1],
        taken_at=datetime(2026, 3, 1, 9, 30, tzinfo=CHINA).isoformat(),
    )
    assert (body["exif"]["lat"], body["exif"]["lng"]) == COMMUNITY_1_POINT
    assert datetime.fromisoformat(body["exif"]["taken_at"]) == datetime(
        2008, 5, 30, 15, 56, 1, tzinfo=CHINA
    )


# --- retries --------------------------------------------------------------------------------


async def test_a_retry_with_the_same_key_gets_the_same_upload(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    clock: FrozenClock,
) -> None:
    courier = await login("courier1")
    key = str(uuid.uuid4())
    first = await upload(client, courier, "portrait_6.jpg", key=key)
    assert first.status_code == 201, first.text
    files_before = sorted(app.state.settings.photo_dir.rglob("*.*"))
    retry = await upload(client, courier, "portrait_6.jpg", key=key)
    assert retry.status_code == 201, retry.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    [row] = await upload_rows(session)
    assert str(row.id) == first.json()["id"]
    assert sorted(app.state.settings.photo_dir.rglob("*.*")) == files_before
    # The key is the caller's own: someone else's request with it is a request of its own.
    other = await upload(client, await login("courier2"), "portrait_6.jpg", key=key)
    assert other.status_code == 201, other.text
    assert "idempotent-replayed" not in other.headers
    assert other.json()["id"] != first.json()["id"]


async def test_the_same_key_with_another_photo_is_refused(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    courier = await login("courier1")
    key = str(uuid.uuid4())
    first = await upload(client, courier, "Canon_40D.jpg", key=key)
    assert first.status_code == 201, first.text
    reused = await upload(client, courier, "landscape_3.jpg", key=key)
    assert_problem(reused, 422, "idempotency_key_reused")
    # The same photo with other phone fields is another request too.
    other_fields = await upload(
        client, courier, "Canon_40D.jpg", key=key, taken_lat=40, taken_lng=107
    )
    assert_problem(other_fields, 422, "idempotency_key_reused")
    assert [str(row.id) for row in await upload_rows(session)] == [first.json()["id"]]


# --- the cap on uploads waiting for a report ------------------------------------------------


@pytest.mark.parametrize("settings", [{"max_pending_uploads": 2}], ids=["cap-2"], indirect=True)
async def test_uploads_waiting_for_a_report_are_capped(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, clock: FrozenClock
) -> None:
    # Tokens are checked against the wall clock: both are issued before the app's clock moves.
    courier, other = await login("courier1"), await login("courier2")
    key = str(uuid.uuid4())
    first = await uploaded(client, courier, key=key)
    clock.advance(minutes=10)
    second = await uploaded(client, courier)
    clock.advance(minutes=10)

    refused = await upload(client, courier)
    problem = assert_problem(refused, 429, "rate_limited")
    # Room comes back when the oldest upload expires, 24 h after it was sent.
    assert int(refused.headers["retry-after"]) == (24 * 60 - 20) * 60
    assert "2" in problem["detail"]
    assert len(await upload_rows(session)) == 2
    # A retry of an upload already made is still answered; another person has room of their own.
    replay = await upload(client, courier, key=key)
    assert replay.status_code == 201, replay.text
    assert replay.json()["id"] == first["id"]
    assert (await upload(client, other)).status_code == 201

    # Filing a report with an upload makes room for one more.
    filed = await report_with(client, courier, [second["id"]])
    assert filed.status_code == 201, filed.text
    assert (await upload(client, courier)).status_code == 201
    assert_problem(await upload(client, courier), 429, "rate_limited")


# --- expiry ---------------------------------------------------------------------------------


async def test_the_worker_removes_expired_uploads_rows_and_files(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    courier = await login("courier1")
    early = await uploaded(client, courier, "Canon_40D.jpg")
    clock.advance(minutes=20)
    late = await uploaded(client, courier, "landscape_3.jpg")
    rows = {str(row.id): row for row in await upload_rows(session)}
    assert set(rows) == {early["id"], late["id"]}

    # 24 h and 10 minutes after the first upload: it has expired, the second has not.
    clock.advance(hours=23, minutes=50)
    async with new_http_client(settings) as http:
        result = await run_once(
            app.state.sessionmaker,
            settings,
            clock,
            app.state.calendar,
            http,
            storage=app.state.photo_storage,
        )
    assert result.failed_steps == []
    assert result.uploads_expired == 1
    assert [str(row.id) for row in await upload_rows(session)] == [late["id"]]
    assert await files_exist(app, rows[early["id"]]) == [False, False]
    assert await files_exist(app, rows[late["id"]]) == [True, True]

    # The expired one is gone for its uploader too; the other is still theirs to file.
    gone = await client.get(f"/api/v1/photos/{early['id']}", headers=courier)
    assert gone.status_code == 404
    refused = await report_with(client, courier, [early["id"]])
    problem = assert_problem(refused, 422, "validation_error")
    assert problem["errors"][0]["loc"] == ["body", "photo_ids", 0]
    assert "does not exist or is already used" in problem["errors"][0]["msg"]
    filed = await report_with(client, courier, [late["id"]])
    assert filed.status_code == 201, filed.text
    assert [p["id"] for p in filed.json()["photos"]] == [late["id"]]


async def test_expiry_leaves_claimed_photos_and_waiting_uploads_alone(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    clock: FrozenClock,
) -> None:
    courier = await login("courier1")
    claimed = await uploaded(client, courier, "Canon_40D.jpg")
    waiting = await uploaded(client, courier, "landscape_3.jpg")
    filed = await report_with(client, courier, [claimed["id"]])
    assert filed.status_code == 201, filed.text
    storage = app.state.photo_storage

    # Just before the expiry nothing goes; at it, the unclaimed upload goes and the photo stays.
    just_before = clock.now() + timedelta(hours=24, seconds=-1)
    assert await expire_uploads(app.state.sessionmaker, storage, just_before) == 0
    assert len(await upload_rows(session)) == 1
    at_expiry = clock.now() + timedelta(hours=24)
    assert await expire_uploads(app.state.sessionmaker, storage, at_expiry) == 1
    assert await upload_rows(session) == []
    assert await expire_uploads(app.state.sessionmaker, storage, at_expiry) == 0

    await session.rollback()
    photo = await session.scalar(select(Photo).where(Photo.id == uuid.UUID(claimed["id"])))
    assert photo is not None
    assert await storage.exists(photo.display_key)
    assert await storage.exists(photo.thumbnail_key)
    await session.rollback()
    served = await client.get(f"/api/v1/photos/{claimed['id']}", headers=courier)
    assert served.status_code == 200
    assert (await client.get(f"/api/v1/photos/{waiting['id']}", headers=courier)).status_code == 404
