"""Report intake with the real sample photos: decoded, turned upright, stripped of every piece of
metadata, resized, hashed, flagged when their EXIF disagrees with the report, and served back."""

from __future__ import annotations

import hashlib
import io
import math
import uuid
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.geo import haversine_m
from app.models import Photo, Report
from tests.conftest import LoginFn
from tests.reports.conftest import COMMUNITY_1_POINT, SubmitFn, photo_bytes

CHINA = timezone(timedelta(hours=8))
FAR = "exif_far_from_report"
OLD = "taken_long_before_submission"


# --- helpers --------------------------------------------------------------------------------


def stored_files(settings: Settings) -> set[str]:
    root = Path(settings.photo_dir)
    if not root.exists():
        return set()
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


async def row_counts(session: AsyncSession) -> tuple[int, int]:
    await session.rollback()  # a fresh snapshot: what the API committed so far
    reports = await session.scalar(select(func.count()).select_from(Report))
    photos = await session.scalar(select(func.count()).select_from(Photo))
    await session.rollback()
    return reports or 0, photos or 0


async def photo_rows(session: AsyncSession, report_id: str) -> list[Photo]:
    await session.rollback()
    rows = await session.scalars(
        select(Photo).where(Photo.report_id == uuid.UUID(report_id)).order_by(Photo.position)
    )
    result = list(rows)
    session.expunge_all()  # detached, so that ending the transaction does not expire them
    await session.rollback()
    return result


def exif_gps(name: str) -> tuple[float, float]:
    """The file's GPS position in decimal degrees, read here independently of the app."""
    gps = Image.open(io.BytesIO(photo_bytes(name))).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    def degrees(value: Any, ref: str, negative: str) -> float:
        d, m, s = (Fraction(str(float(part))) for part in value)
        total = float(d + m / 60 + s / 3600)
        return -total if ref.strip("\x00 ").upper() == negative else total

    return (
        degrees(gps[ExifTags.GPS.GPSLatitude], gps[ExifTags.GPS.GPSLatitudeRef], "S"),
        degrees(gps[ExifTags.GPS.GPSLongitude], gps[ExifTags.GPS.GPSLongitudeRef], "W"),
    )


def raw_size(name: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(photo_bytes(name))) as image:
        return image.size


def dms(value: float) -> tuple[float, float, float]:
    degrees = math.floor(value)
    minutes_full = (value - degrees) * 60
    minutes = math.floor(minutes_full)
    seconds = round((minutes_full - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def jpeg_with_exif(
    *, gps: tuple[float, float] | None = None, taken_at: datetime | None = None
) -> bytes:
    """A small JPEG whose EXIF says where and when (China time, no offset tag) it was taken."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Test phone"
    if gps is not None:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(
            {
                ExifTags.GPS.GPSLatitudeRef: "N",
                ExifTags.GPS.GPSLatitude: dms(gps[0]),
                ExifTags.GPS.GPSLongitudeRef: "E",
                ExifTags.GPS.GPSLongitude: dms(gps[1]),
            }
        )
    if taken_at is not None:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken_at.astimezone(
            CHINA
        ).strftime("%Y:%m:%d %H:%M:%S")
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def point_north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return (point[0] + metres / 111_195.0, point[1])


def assert_clean_jpeg(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    image.load()
    assert not image.getexif()
    assert not {"exif", "xmp", "icc_profile", "comment", "photoshop"} & set(image.info)
    assert b"Exif\x00\x00" not in data
    assert b"http://ns.adobe.com/xap" not in data
    return image


# --- the large phone photo ------------------------------------------------------------------


async def test_phone_jpeg_is_stored_resized_and_stripped(
    submit: SubmitFn,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
) -> None:
    data = photo_bytes("HMD_Nokia_8.3_5G.jpg")
    response = await submit("courier1", photos=[("HMD_Nokia_8.3_5G.jpg", data)])
    assert response.status_code == 201, response.text
    body = response.json()
    [photo] = body["photos"]
    assert max(photo["width"], photo["height"]) == 2048
    assert (photo["width"], photo["height"]) == (2048, 878)  # 4608×1976, aspect kept
    assert max(photo["thumbnail_width"], photo["thumbnail_height"]) <= 320
    # Signed links, which an <img> opens without a bearer token.
    assert photo["url"].startswith(f"/api/v1/photos/{photo['id']}?size=display&expires=")
    assert photo["thumbnail_url"].startswith(f"/api/v1/photos/{photo['id']}?size=thumbnail&")

    headers = await login("courier1")
    display = await client.get(photo["url"], headers=headers)
    assert display.status_code == 200
    assert display.headers["content-type"] == "image/jpeg"
    image = assert_clean_jpeg(display.content)
    assert image.size == (photo["width"], photo["height"])
    # Nothing of the phone's EXIF survives in the bytes.
    assert b"HMD Global" not in display.content
    assert b"Nokia" not in display.content
    assert "private" in display.headers["cache-control"]
    etag = display.headers["etag"]
    assert etag

    thumb = await client.get(photo["thumbnail_url"], headers=headers)
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/jpeg"
    thumb_image = assert_clean_jpeg(thumb.content)
    assert thumb_image.size == (photo["thumbnail_width"], photo["thumbnail_height"])
    assert max(thumb_image.size) <= 320
    assert thumb.headers["etag"]
    assert thumb.headers["etag"] != etag
    assert thumb.headers["cache-control"]

    not_modified = await client.get(photo["url"], headers={**headers, "If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    thumb_not_modified = await client.get(
        photo["thumbnail_url"], headers={**headers, "If-None-Match": thumb.headers["etag"]}
    )
    assert thumb_not_modified.status_code == 304
    # The display's tag does not validate the thumbnail.
    other = await client.get(photo["thumbnail_url"], headers={**headers, "If-None-Match": etag})
    assert other.status_code == 200

    # The stored objects are exactly the display and thumbnail images, and stripped too.
    [row] = await photo_rows(session, body["id"])
    assert stored_files(settings) == {row.display_key, row.thumbnail_key}
    assert row.sha256 == hashlib.sha256(data).hexdigest()
    assert row.size_bytes == len(data)
    assert row.content_type == "image/jpeg"
    assert row.original_format == "JPEG"
    assert row.original_filename == "HMD_Nokia_8.3_5G.jpg"
    for key in (row.display_key, row.thumbnail_key):
        assert_clean_jpeg((Path(settings.photo_dir) / key).read_bytes())

    # EXIF facts are kept as data: the GPS position (Finland) and the capture time (2022).
    lat, lng = exif_gps("HMD_Nokia_8.3_5G.jpg")
    assert photo["exif_location"]["lat"] == pytest.approx(lat, abs=1e-9)
    assert photo["exif_location"]["lng"] == pytest.approx(lng, abs=1e-9)
    assert 59 < lat < 61
    assert 24 < lng < 26
    assert datetime.fromisoformat(photo["exif_taken_at"]) == datetime(
        2022, 8, 14, 14, 12, 31, tzinfo=timezone(timedelta(hours=3))
    )
    assert set(photo["flags"]) == {FAR, OLD}

    # Another caller may not fetch, with their token, the photo of a report it cannot see.
    outsider = await client.get(f"/api/v1/photos/{photo['id']}", headers=await login("resident1"))
    assert outsider.status_code == 404
    assert outsider.headers["content-type"] == "application/problem+json"


async def test_photo_of_another_community_is_hidden_from_its_staff(
    submit: SubmitFn, client: httpx.AsyncClient, login: LoginFn
) -> None:
    response = await submit("courier1")
    assert response.status_code == 201, response.text
    url = f"/api/v1/photos/{response.json()['photos'][0]['id']}"  # the bearer form
    assert (await client.get(url, headers=await login("staff1"))).status_code == 200
    assert (await client.get(url, headers=await login("staff2"))).status_code == 404
    assert (await client.get(url)).status_code == 401


# --- EXIF position and time: flags, not refusals ---------------------------------------------


async def test_photo_with_gps_in_italy_is_flagged_far(submit: SubmitFn) -> None:
    response = await submit("courier1", photos=[("DSCN0010.jpg", photo_bytes("DSCN0010.jpg"))])
    assert response.status_code == 201, response.text
    [photo] = response.json()["photos"]
    lat, lng = exif_gps("DSCN0010.jpg")
    assert photo["exif_location"] == {
        "lat": pytest.approx(lat, abs=1e-9),
        "lng": pytest.approx(lng, abs=1e-9),
    }
    assert set(photo["flags"]) == {FAR, OLD}
    assert (photo["width"], photo["height"]) == (640, 480)


async def test_photo_without_usable_gps_is_not_flagged_far(submit: SubmitFn) -> None:
    response = await submit("courier1", photos=[("Canon_40D.jpg", photo_bytes("Canon_40D.jpg"))])
    assert response.status_code == 201, response.text
    [photo] = response.json()["photos"]
    assert photo["exif_location"] is None
    assert photo["flags"] == [OLD]  # taken in 2008
    assert datetime.fromisoformat(photo["exif_taken_at"]) == datetime(
        2008, 5, 30, 15, 56, 1, tzinfo=CHINA
    )


async def test_photo_with_broken_exif_is_accepted_unflagged(submit: SubmitFn) -> None:
    response = await submit("courier1", photos=[("image01088.jpg", photo_bytes("image01088.jpg"))])
    assert response.status_code == 201, response.text
    [photo] = response.json()["photos"]
    assert (photo["width"], photo["height"]) == raw_size("image01088.jpg")
    assert photo["flags"] == []
    assert photo["exif_location"] is None
    assert photo["exif_taken_at"] is None


@pytest.mark.parametrize(
    ("distance_m", "hours_ago", "expected"),
    [
        pytest.param(0, 0.1, set(), id="here-now"),
        pytest.param(400, 23, set(), id="just-inside-both-limits"),
        pytest.param(700, 0.1, {FAR}, id="700m-away"),
        pytest.param(0, 25, {OLD}, id="25h-ago"),
        pytest.param(2000, 48, {FAR, OLD}, id="far-and-old"),
    ],
)
async def test_flags_follow_the_limits(
    submit: SubmitFn, distance_m: float, hours_ago: float, expected: set[str]
) -> None:
    taken = datetime.now(UTC) - timedelta(hours=hours_ago)
    gps = point_north_of(COMMUNITY_1_POINT, distance_m)
    data = jpeg_with_exif(gps=gps, taken_at=taken)
    response = await submit("courier1", photos=[("crafted.jpg", data)])
    assert response.status_code == 201, response.text
    [photo] = response.json()["photos"]
    assert set(photo["flags"]) == expected
    exif_lat, exif_lng = photo["exif_location"]["lat"], photo["exif_location"]["lng"]
    assert haversine_m(exif_lat, exif_lng, *COMMUNITY_1_POINT) == pytest.approx(distance_m, abs=5)
    # Whole seconds in EXIF.
    assert abs(datetime.fromisoformat(photo["exif_taken_at"]) - taken) < timedelta(seconds=1)


async def test_flags_compare_with_the_converted_point(submit: SubmitFn) -> None:
    """The photo's GPS is WGS-84; a GCJ-02 report point ~500 m off in raw numbers must not
    make a photo taken on the spot look far away."""
    from app.core.geo import wgs84_to_gcj02

    gcj = wgs84_to_gcj02(*COMMUNITY_1_POINT)
    assert haversine_m(*gcj, *COMMUNITY_1_POINT) > 50  # the shift is real here
    data = jpeg_with_exif(gps=COMMUNITY_1_POINT, taken_at=datetime.now(UTC))
    response = await submit(
        "courier1", lat=gcj[0], lng=gcj[1], coord_system="gcj02", photos=[("here.jpg", data)]
    )
    assert response.status_code == 201, response.text
    assert response.json()["photos"][0]["flags"] == []


# --- orientation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "portrait"),
    [("portrait_6.jpg", True), ("portrait_8.jpg", True), ("landscape_3.jpg", False)],
)
async def test_photos_are_turned_upright(
    submit: SubmitFn, client: httpx.AsyncClient, login: LoginFn, name: str, portrait: bool
) -> None:
    raw_width, raw_height = raw_size(name)
    assert raw_width > raw_height  # stored sideways or upside down, as the camera wrote it
    response = await submit("courier1", photos=[(name, photo_bytes(name))])
    assert response.status_code == 201, response.text
    [photo] = response.json()["photos"]
    expected = (raw_height, raw_width) if portrait else (raw_width, raw_height)
    assert (photo["width"], photo["height"]) == expected
    assert (photo["thumbnail_width"] > photo["thumbnail_height"]) is not portrait
    served = await client.get(photo["url"], headers=await login("courier1"))
    image = assert_clean_jpeg(served.content)
    assert image.size == expected  # upright pixels, with no orientation tag left to apply
    thumb = await client.get(photo["thumbnail_url"], headers=await login("courier1"))
    assert assert_clean_jpeg(thumb.content).size == (
        photo["thumbnail_width"],
        photo["thumbnail_height"],
    )


# --- HEIC -------------------------------------------------------------------------------------


async def test_iphone_heic_is_accepted_and_served_as_jpeg(
    submit: SubmitFn, client: httpx.AsyncClient, login: LoginFn, session: AsyncSession
) -> None:
    data = photo_bytes("iphone_13_pro_max.HEIC")
    response = await submit("courier1", photos=[("IMG_0001.HEIC", data)])
    assert response.status_code == 201, response.text
    body = response.json()
    [photo] = body["photos"]
    assert (photo["width"], photo["height"]) == (1536, 2048)  # 3024×4032, portrait
    assert max(photo["thumbnail_width"], photo["thumbnail_height"]) == 320
    assert photo["flags"] == [OLD]  # taken 2022, no GPS
    assert photo["exif_location"] is None

    [row] = await photo_rows(session, body["id"])
    assert row.content_type == "image/jpeg"
    assert row.original_format == "HEIF"
    assert row.display_key.endswith(".jpg")
    assert row.sha256 == hashlib.sha256(data).hexdigest()
    assert row.original_filename == "IMG_0001.HEIC"

    served = await client.get(photo["url"], headers=await login("courier1"))
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert assert_clean_jpeg(served.content).size == (1536, 2048)


# --- refusals with real files -----------------------------------------------------------------


async def test_corrupted_jpeg_is_refused_naming_the_file(
    submit: SubmitFn, session: AsyncSession, settings: Settings
) -> None:
    response = await submit("courier1", photos=[("corrupted.jpg", photo_bytes("corrupted.jpg"))])
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "photo_rejected"
    assert problem["errors"][0]["loc"] == ["body", "photos", 0]
    assert "corrupted.jpg" in problem["errors"][0]["msg"]
    assert "corrupted.jpg" in problem["detail"]
    assert await row_counts(session) == (0, 0)
    assert stored_files(settings) == set()


async def test_one_bad_photo_refuses_the_whole_report(
    submit: SubmitFn, session: AsyncSession, settings: Settings
) -> None:
    response = await submit(
        "courier1",
        photos=[
            ("good.jpg", photo_bytes("Canon_40D.jpg")),
            ("notes.txt", b"just some text, not a picture"),
            ("also-good.jpg", photo_bytes("landscape_3.jpg")),
        ],
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "photo_rejected"
    assert [e["loc"] for e in problem["errors"]] == [["body", "photos", 1]]
    assert "notes.txt" in problem["errors"][0]["msg"]
    assert await row_counts(session) == (0, 0)
    assert stored_files(settings) == set()


async def test_the_bytes_decide_not_the_declared_type(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, settings: Settings
) -> None:
    form = {
        "category_code": "chaotic_parking",
        "description": "井盖丢了",
        "lat": str(COMMUNITY_1_POINT[0]),
        "lng": str(COMMUNITY_1_POINT[1]),
    }
    headers = await login("courier1")
    jpeg_as_text = [("photos", ("photo", photo_bytes("Canon_40D.jpg"), "text/plain"))]
    accepted = await client.post("/api/v1/reports", data=form, files=jpeg_as_text, headers=headers)
    assert accepted.status_code == 201, accepted.text
    text_as_jpeg = [("photos", ("photo.jpg", b"<html>not a photo</html>", "image/jpeg"))]
    refused = await client.post("/api/v1/reports", data=form, files=text_as_jpeg, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["code"] == "photo_rejected"
    assert await row_counts(session) == (1, 1)
    assert len(stored_files(settings)) == 2


# --- several photos ---------------------------------------------------------------------------


async def test_several_photos_keep_their_order_and_hashes(
    submit: SubmitFn,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
) -> None:
    names = ["portrait_6.jpg", "Canon_40D.jpg", "landscape_3.jpg", "image01088.jpg"]
    uploads = [(name, photo_bytes(name)) for name in names]
    response = await submit("courier1", photos=uploads)
    assert response.status_code == 201, response.text
    body = response.json()
    sizes = [(p["width"], p["height"]) for p in body["photos"]]
    assert sizes == [(450, 600), (100, 68), (600, 450), raw_size("image01088.jpg")]
    assert len({p["id"] for p in body["photos"]}) == 4

    rows = await photo_rows(session, body["id"])
    assert [r.position for r in rows] == [0, 1, 2, 3]
    assert [str(r.id) for r in rows] == [p["id"] for p in body["photos"]]
    assert [r.original_filename for r in rows] == names
    assert [r.sha256 for r in rows] == [hashlib.sha256(data).hexdigest() for _, data in uploads]
    assert [r.size_bytes for r in rows] == [len(data) for _, data in uploads]
    assert stored_files(settings) == {k for r in rows for k in (r.display_key, r.thumbnail_key)}

    # Reading the case back gives the same photos in the same order.
    read = await client.get(f"/api/v1/reports/{body['id']}", headers=await login("courier1"))
    assert read.status_code == 200
    assert [p["id"] for p in read.json()["photos"]] == [p["id"] for p in body["photos"]]
    assert await row_counts(session) == (1, 4)


async def test_the_same_photo_twice_is_stored_twice(
    submit: SubmitFn, session: AsyncSession
) -> None:
    data = photo_bytes("Canon_40D.jpg")
    response = await submit("courier1", photos=[("a.jpg", data), ("b.jpg", data)])
    assert response.status_code == 201, response.text
    rows = await photo_rows(session, response.json()["id"])
    assert len(rows) == 2
    assert rows[0].sha256 == rows[1].sha256
    assert rows[0].display_key != rows[1].display_key


async def test_png_and_webp_are_accepted(submit: SubmitFn, session: AsyncSession) -> None:
    def encoded(fmt: str, mode: str) -> bytes:
        buffer = io.BytesIO()
        Image.new(mode, (300, 200), (10, 120, 200, 128)[: len(mode)]).save(buffer, fmt)
        return buffer.getvalue()

    response = await submit(
        "courier1",
        photos=[("a.png", encoded("PNG", "RGBA")), ("b.webp", encoded("WEBP", "RGB"))],
    )
    assert response.status_code == 201, response.text
    rows = await photo_rows(session, response.json()["id"])
    assert [r.original_format for r in rows] == ["PNG", "WEBP"]
    assert {r.content_type for r in rows} == {"image/jpeg"}
    assert [(r.width, r.height) for r in rows] == [(300, 200), (300, 200)]
