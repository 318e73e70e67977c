"""Report intake: every kind of bad input is refused with a problem naming the field or the file,
and leaves nothing behind; coordinates are converted and the report is routed."""

from __future__ import annotations

import io
import math
import re
import struct
import uuid
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.geo import wgs84_to_bd09, wgs84_to_gcj02
from app.core.workcalendar import CHINA_TZ
from app.demo.organisation import organisation
from app.demo.seed import demo_id
from app.main import create_app
from app.models import Photo, Report
from tests.conftest import LoginFn
from tests.reports.conftest import COMMUNITY_1_POINT, community_centre, photo_bytes

MiB = 1024 * 1024
COMMUNITY_1_ID = str(demo_id("community", "陕坝镇", "东街社区"))
PASSWORD = "suishoupai-demo"


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


async def nothing_changed(session: AsyncSession, settings: Settings) -> None:
    assert await row_counts(session) == (0, 0)
    assert stored_files(settings) == set()


def assert_problem(
    response: httpx.Response, status: int, code: str, loc: list[Any] | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["code"] == code
    assert problem["status"] == status
    if loc is not None:
        assert loc in [e["loc"] for e in problem["errors"]], problem
    return problem


def canon() -> tuple[str, bytes]:
    return ("Canon_40D.jpg", photo_bytes("Canon_40D.jpg"))


def png_header_bomb(width: int, height: int) -> bytes:
    """A real 1-bit PNG of ``width``×``height`` all-black pixels: a few tens of kB that would
    decode to width×height pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" * (1 + math.ceil(width / 8))
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def gif_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(buffer, "GIF")
    return buffer.getvalue()


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
    b'<circle cx="50" cy="50" r="40" fill="red"/></svg>'
)
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


# --- bad fields -------------------------------------------------------------------------------


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


@dataclass(frozen=True)
class Bad:
    fields: dict[str, Any]
    loc: list[Any]
    msg: str | None = None  # a fragment of the error's message
    code: str = "validation_error"


BAD_FIELDS = {
    "unknown-category": Bad({"category_code": "no_such_category"}, ["body", "category_code"]),
    "category-class": Bad({"category_code": "event_street_order"}, ["body", "category_code"]),
    "lat-nan": Bad({"lat": "nan"}, ["body", "lat"]),
    "lat-inf": Bad({"lat": "inf"}, ["body", "lat"]),
    "lng-minus-inf": Bad({"lng": "-inf"}, ["body", "lng"]),
    "lat-91": Bad({"lat": "91"}, ["body", "lat"]),
    "lng-181": Bad({"lng": "181"}, ["body", "lng"]),
    "lat-not-a-number": Bad({"lat": "forty"}, ["body", "lat"]),
    "missing-lat": Bad({"lat": None}, ["body", "lat"]),
    "missing-lng": Bad({"lng": None}, ["body", "lng"]),
    "paris": Bad({"lat": 48.85, "lng": 2.35}, ["body", "lat"], "outside China"),
    "zero-island": Bad({"lat": 0, "lng": 0}, ["body", "lat"], "outside China"),
    "swapped": Bad(
        {"lat": COMMUNITY_1_POINT[1], "lng": COMMUNITY_1_POINT[0]}, ["body", "lat"]
    ),  # 107° is not a latitude
    "unknown-coord-system": Bad({"coord_system": "utm"}, ["body", "coord_system"]),
    "empty-description": Bad({"description": ""}, ["body", "description"]),
    "blank-description": Bad({"description": " \n\t "}, ["body", "description"]),
    "long-description": Bad({"description": "乱" * 2001}, ["body", "description"]),
    "missing-description": Bad({"description": None}, ["body", "description"]),
    "future-occurred-at": Bad({"occurred_at": in_days(1)}, ["body", "occurred_at"], "future"),
    "old-occurred-at": Bad({"occurred_at": in_days(-31)}, ["body", "occurred_at"], "30 days"),
    "naive-occurred-at": Bad({"occurred_at": "2026-01-01T08:00:00"}, ["body", "occurred_at"]),
    "garbage-occurred-at": Bad({"occurred_at": "yesterday"}, ["body", "occurred_at"]),
    "unknown-grid": Bad({"grid_id": str(uuid.uuid4())}, ["body", "grid_id"], "no such grid"),
    "malformed-grid": Bad({"grid_id": "grid-1"}, ["body", "grid_id"]),
    "long-address": Bad({"address": "街" * 301}, ["body", "address"]),
    "courier-claims-hotline": Bad({"source": "hotline"}, ["body", "source"]),
}


@pytest.fixture
def post_report(client: httpx.AsyncClient, login: LoginFn) -> Callable[..., Any]:
    """Like ``submit``, but a field given as None is left out of the form."""

    async def _post(
        username: str = "courier1",
        *,
        photos: list[tuple[str, bytes]] | None = None,
        extra_files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
        headers: dict[str, str] | None = None,
        **overrides: Any,
    ) -> httpx.Response:
        fields: dict[str, Any] = {
            "category_code": "chaotic_parking",
            "description": "巷子里乱停车，消防车进不去",
            "lat": COMMUNITY_1_POINT[0],
            "lng": COMMUNITY_1_POINT[1],
        }
        fields.update(overrides)
        data = {k: str(v) for k, v in fields.items() if v is not None}
        files = [
            ("photos", (name, content, "image/jpeg"))
            for name, content in (photos if photos is not None else [canon()])
        ]
        files += extra_files or []
        return await client.post(
            "/api/v1/reports",
            data=data,
            files=files,
            headers={**(await login(username)), **(headers or {})},
        )

    return _post


@pytest.mark.parametrize("case", list(BAD_FIELDS.values()), ids=list(BAD_FIELDS))
async def test_bad_fields_are_refused_and_change_nothing(
    post_report: Callable[..., Any], session: AsyncSession, settings: Settings, case: Bad
) -> None:
    response = await post_report(**case.fields)
    problem = assert_problem(response, 422, case.code, case.loc)
    if case.msg:
        [error] = [e for e in problem["errors"] if e["loc"] == case.loc]
        assert case.msg in error["msg"]
    assert "Traceback" not in response.text
    await nothing_changed(session, settings)


async def test_several_bad_fields_are_reported_together(
    post_report: Callable[..., Any], session: AsyncSession, settings: Settings
) -> None:
    response = await post_report(
        category_code="no_such_category",
        description="   ",
        occurred_at=in_days(2),
        photos=[canon()] * 10,
    )
    problem = assert_problem(response, 422, "validation_error")
    locs = [e["loc"] for e in problem["errors"]]
    for loc in (
        ["body", "category_code"],
        ["body", "description"],
        ["body", "occurred_at"],
        ["body", "photos"],
    ):
        assert loc in locs
    await nothing_changed(session, settings)


async def test_edges_of_the_limits_are_accepted(
    post_report: Callable[..., Any], session: AsyncSession
) -> None:
    response = await post_report(
        description="乱" * 2000,
        occurred_at=in_days(-29),
        address="街" * 300,
        photos=[canon()] * 9,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["description"]) == 2000
    assert len(body["photos"]) == 9
    assert await row_counts(session) == (1, 9)


async def test_description_and_address_are_trimmed(post_report: Callable[..., Any]) -> None:
    response = await post_report(description="  井盖丢了  ", address=" 东街12号 ")
    assert response.status_code == 201, response.text
    assert response.json()["description"] == "井盖丢了"
    assert response.json()["address"] == "东街12号"


async def test_a_viewer_cannot_submit(
    post_report: Callable[..., Any], session: AsyncSession, settings: Settings
) -> None:
    response = await post_report("viewer")
    assert_problem(response, 403, "forbidden")
    await nothing_changed(session, settings)


async def test_submitting_needs_a_login(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    response = await client.post(
        "/api/v1/reports",
        data={"category_code": "chaotic_parking", "description": "x", "lat": "40.8", "lng": "107"},
        files=[("photos", canon())],
    )
    assert_problem(response, 401, "unauthorized")
    await nothing_changed(session, settings)


# --- bad photos -------------------------------------------------------------------------------


BAD_PHOTOS = {
    "svg": ("drawing.svg", SVG),
    "plain-text": ("notes.jpg", b"this is not a picture at all\n" * 20),
    "pdf": ("scan.pdf", PDF),
    "empty-file": ("empty.jpg", b""),
    "gif": ("anim.gif", gif_bytes()),
    "bomb-400mp": ("bomb.png", png_header_bomb(20_000, 20_000)),
    "bomb-64mp": ("bomb64.png", png_header_bomb(8_000, 8_000)),  # under Pillow's own limit
    "jpeg-header-only": ("head.jpg", photo_bytes("Canon_40D.jpg")[:400]),
}


@pytest.mark.parametrize("index", [0, 2])
@pytest.mark.parametrize("case", list(BAD_PHOTOS.values()), ids=list(BAD_PHOTOS))
async def test_bad_photos_are_refused_naming_the_file(
    post_report: Callable[..., Any],
    session: AsyncSession,
    settings: Settings,
    case: tuple[str, bytes],
    index: int,
) -> None:
    name, data = case
    photos = [canon(), canon(), canon()]
    photos[index] = (name, data)
    response = await post_report(photos=photos)
    problem = assert_problem(response, 422, "photo_rejected", ["body", "photos", index])
    [error] = problem["errors"]
    assert name in error["msg"]
    assert f"photo {index}" in error["msg"]
    await nothing_changed(session, settings)


async def test_truncated_phone_jpeg_is_refused(
    post_report: Callable[..., Any], session: AsyncSession, settings: Settings
) -> None:
    data = photo_bytes("HMD_Nokia_8.3_5G.jpg")
    response = await post_report(photos=[("IMG_2041.jpg", data[: len(data) // 2])])
    problem = assert_problem(response, 422, "photo_rejected", ["body", "photos", 0])
    assert "IMG_2041.jpg" in problem["errors"][0]["msg"]
    assert "corrupted" in problem["errors"][0]["msg"]
    await nothing_changed(session, settings)


async def test_bomb_is_refused_for_its_pixels(post_report: Callable[..., Any]) -> None:
    response = await post_report(photos=[("bomb.png", png_header_bomb(20_000, 20_000))])
    problem = assert_problem(response, 422, "photo_rejected", ["body", "photos", 0])
    assert "too_many_pixels" in problem["errors"][0]["msg"]


async def test_zero_photos_are_refused(
    post_report: Callable[..., Any], session: AsyncSession, settings: Settings
) -> None:
    # No file at all (the client then sends a urlencoded form) …
    response = await post_report(photos=[])
    assert_problem(response, 422, "validation_error", ["body", "photos"])
    # … and a multipart form with some other file but none in `photos`.
    response = await post_report(photos=[], extra_files=[("attachment", (*canon(), "image/jpeg"))])
    assert_problem(response, 422, "validation_error", ["body", "photos"])
    await nothing_changed(session, settings)


async def test_ten_photos_are_refused(
    post_report: Callable[..., Any], session: AsyncSession, settings: Settings
) -> None:
    response = await post_report(photos=[canon()] * 10)
    problem = assert_problem(response, 422, "validation_error", ["body", "photos"])
    assert "10" in problem["errors"][0]["msg"]
    await nothing_changed(session, settings)


# --- file names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("C:\\x\\y.jpg", "y.jpg"),
        ("/var/www/photo.jpg", "photo.jpg"),
        ("现场照片.jpg", "现场照片.jpg"),
    ],
)
async def test_a_file_name_is_kept_as_a_name_only(
    post_report: Callable[..., Any], session: AsyncSession, settings: Settings, sent: str, kept: str
) -> None:
    response = await post_report(photos=[(sent, photo_bytes("Canon_40D.jpg"))])
    assert response.status_code == 201, response.text
    await session.rollback()
    row = await session.scalar(select(Photo))
    assert row is not None
    assert row.original_filename == kept
    # Stored under keys of our own making, inside the photo folder.
    files = stored_files(settings)
    assert files == {row.display_key, row.thumbnail_key}
    key = re.compile(r"(display|thumb)/\d{4}/\d{2}/\d{2}/[0-9a-f-]{36}\.jpg")
    assert all(key.fullmatch(f) for f in files), files
    await session.rollback()


async def test_a_refused_file_is_named_without_its_path(post_report: Callable[..., Any]) -> None:
    response = await post_report(photos=[("../../etc/passwd.jpg", b"root:x:0:0")])
    problem = assert_problem(response, 422, "photo_rejected", ["body", "photos", 0])
    assert "passwd.jpg" in problem["errors"][0]["msg"]
    assert "../" not in problem["errors"][0]["msg"]


# --- size limits (an app with small limits, so that nothing huge is held in memory) ----------


@dataclass
class Limited:
    client: httpx.AsyncClient
    headers: dict[str, str]
    max_photo_bytes: int
    max_request_bytes: int


@pytest.fixture
async def limited(
    database_url: str, settings_for: Callable[..., Settings]
) -> AsyncIterator[Limited]:
    settings = settings_for(database_url, max_photo_bytes=1 * MiB, max_request_bytes=3 * MiB)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            token = await http.post(
                "/api/v1/auth/token", data={"username": "courier1", "password": PASSWORD}
            )
            assert token.status_code == 200, token.text
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            yield Limited(http, headers, settings.max_photo_bytes, settings.max_request_bytes)
    finally:
        app.state.photo_pool.shutdown()
        await app.state.engine.dispose()


FORM = {
    "category_code": "chaotic_parking",
    "description": "巷子里乱停车",
    "lat": str(COMMUNITY_1_POINT[0]),
    "lng": str(COMMUNITY_1_POINT[1]),
}


def padded_jpeg(size: int) -> bytes:
    """A valid JPEG followed by padding, ``size`` bytes in all (decoders stop at the end marker)."""
    data = photo_bytes("Canon_40D.jpg")
    return data + b"\x00" * (size - len(data))


async def test_an_over_size_file_is_refused_naming_it(
    limited: Limited, session: AsyncSession, settings: Settings
) -> None:
    files = [
        ("photos", ("small.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg")),
        ("photos", ("huge.jpg", padded_jpeg(limited.max_photo_bytes + 1), "image/jpeg")),
    ]
    response = await limited.client.post(
        "/api/v1/reports", data=FORM, files=files, headers=limited.headers
    )
    problem = assert_problem(response, 422, "validation_error", ["body", "photos", 1])
    assert [e["loc"] for e in problem["errors"]] == [["body", "photos", 1]]
    assert "huge.jpg" in problem["errors"][0]["msg"]
    assert "1 MB" in problem["errors"][0]["msg"]
    await nothing_changed(session, settings)


async def test_a_file_just_at_the_limit_is_accepted(limited: Limited) -> None:
    files = [("photos", ("full.jpg", padded_jpeg(limited.max_photo_bytes), "image/jpeg"))]
    response = await limited.client.post(
        "/api/v1/reports", data=FORM, files=files, headers=limited.headers
    )
    assert response.status_code == 201, response.text


async def test_an_over_size_request_is_refused_with_413(
    limited: Limited, session: AsyncSession, settings: Settings
) -> None:
    # Four files each under the per-file limit, over the request limit together.
    part = padded_jpeg(limited.max_photo_bytes - 1000)
    files = [("photos", (f"p{i}.jpg", part, "image/jpeg")) for i in range(4)]
    response = await limited.client.post(
        "/api/v1/reports", data=FORM, files=files, headers=limited.headers
    )
    problem = assert_problem(response, 413, "payload_too_large")
    assert "3 MB" in problem["detail"]
    await nothing_changed(session, settings)


def multipart_body(boundary: str, photos: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    for name, value in FORM.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value.encode() + b"\r\n")
    for filename, data in photos:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
            f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
        )
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue()


async def test_an_over_size_stream_is_cut_off_as_it_arrives(
    limited: Limited, session: AsyncSession, settings: Settings
) -> None:
    """Without Content-Length (chunked) the body is counted as it streams and cut off at the
    limit: the rest of it is never read."""
    boundary = uuid.uuid4().hex
    body = multipart_body(boundary, [("big.jpg", padded_jpeg(900_000))] * 8)  # ~7 MiB
    chunk_size = 64 * 1024
    chunks = [body[i : i + chunk_size] for i in range(0, len(body), chunk_size)]
    sent = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal sent
        for chunk in chunks:
            sent += 1
            yield chunk

    response = await limited.client.post(
        "/api/v1/reports",
        content=stream(),
        headers={**limited.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_problem(response, 413, "payload_too_large")
    # Read up to just past the limit, not to the end.
    assert sent * chunk_size <= limited.max_request_bytes + 2 * chunk_size
    assert sent < len(chunks)
    await nothing_changed(session, settings)


async def test_a_stream_under_the_limit_is_accepted(limited: Limited) -> None:
    boundary = uuid.uuid4().hex
    body = multipart_body(boundary, [("a.jpg", photo_bytes("Canon_40D.jpg"))])

    async def stream() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 1000):
            yield body[i : i + 1000]

    response = await limited.client.post(
        "/api/v1/reports",
        content=stream(),
        headers={**limited.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 201, response.text


# --- coordinate systems -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "convert"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)]
)
async def test_chinese_map_coordinates_are_stored_as_wgs84(
    post_report: Callable[..., Any], session: AsyncSession, system: str, convert: Callable[..., Any]
) -> None:
    sent_lat, sent_lng = convert(*COMMUNITY_1_POINT)
    response = await post_report(lat=sent_lat, lng=sent_lng, coord_system=system)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["location"]["lat"] == pytest.approx(COMMUNITY_1_POINT[0], abs=1e-6)
    assert body["location"]["lng"] == pytest.approx(COMMUNITY_1_POINT[1], abs=1e-6)
    assert body["submitted_location"] == {
        "lat": sent_lat,
        "lng": sent_lng,
        "coord_system": system,
    }
    assert body["community"]["id"] == COMMUNITY_1_ID
    await session.rollback()
    report = await session.scalar(select(Report))
    assert report is not None
    assert report.lat == pytest.approx(COMMUNITY_1_POINT[0], abs=1e-6)
    assert report.lng == pytest.approx(COMMUNITY_1_POINT[1], abs=1e-6)
    assert (report.submitted_lat, report.submitted_lng) == (sent_lat, sent_lng)
    assert report.submitted_coord_system == system
    await session.rollback()


async def test_wgs84_is_the_default(post_report: Callable[..., Any]) -> None:
    response = await post_report()
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["location"] == {"lat": COMMUNITY_1_POINT[0], "lng": COMMUNITY_1_POINT[1]}
    assert body["submitted_location"]["coord_system"] == "wgs84"


# --- the answer and routing -------------------------------------------------------------------


async def test_the_answer_carries_the_case(post_report: Callable[..., Any]) -> None:
    response = await post_report(address="东街平房区12号", occurred_at=in_days(-1))
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/v1/reports/{body['id']}"
    assert response.headers["etag"]
    uuid.UUID(body["id"])
    match = re.fullmatch(r"SSP-150826-(\d{8})-(\d{6})", body["number"])
    assert match
    created = datetime.fromisoformat(body["created_at"])
    assert match.group(1) == created.astimezone(CHINA_TZ).strftime("%Y%m%d")
    assert body["status"] == "submitted"
    assert body["category"]["code"] == "chaotic_parking"
    assert body["community"] == {"id": COMMUNITY_1_ID, "name": "东街社区"}
    assert body["routing"] == {"method": "boundary", "distance_m": 0.0}
    assert body["source"] == "courier"
    assert [d["kind"] for d in body["deadlines"]] == ["accept"]
    assert datetime.fromisoformat(body["deadlines"][0]["due_at"]) > created
    assert body["possible_duplicates"] == []
    assert body["address"] == "东街平房区12号"
    assert body["version"] == 1


async def test_possible_duplicates_list_open_reports_close_by(
    post_report: Callable[..., Any],
) -> None:
    first = (await post_report()).json()
    other_category = await post_report(category_code="street_vending")
    assert other_category.json()["possible_duplicates"] == []
    lat, lng = COMMUNITY_1_POINT
    second = await post_report("resident1", lat=lat + 0.0002, lng=lng)  # ~22 m north
    assert second.status_code == 201, second.text
    [duplicate] = second.json()["possible_duplicates"]
    assert duplicate["id"] == first["id"]
    assert duplicate["number"] == first["number"]
    assert duplicate["distance_m"] == pytest.approx(22.2, abs=1)


def point_east_of_community_1(metres: float) -> tuple[float, float]:
    """A point ``metres`` east of 东街社区's east edge (the east edge of the whole town)."""
    quad = organisation().townships[0].lattice.cell(2, 0)
    (se_lng, se_lat), (ne_lng, ne_lat) = quad.se, quad.ne
    lat = (se_lat + ne_lat) / 2
    edge_lng = se_lng + (ne_lng - se_lng) * (lat - se_lat) / (ne_lat - se_lat)
    return lat, edge_lng + metres / (111_320 * math.cos(math.radians(lat)))


async def test_a_point_just_outside_goes_to_the_nearest_community(
    post_report: Callable[..., Any],
) -> None:
    lat, lng = point_east_of_community_1(300)
    response = await post_report(lat=lat, lng=lng)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["community"]["id"] == COMMUNITY_1_ID
    assert body["routing"]["method"] == "nearest"
    assert 250 < body["routing"]["distance_m"] <= 305


async def test_a_point_beyond_the_routing_distance_waits_in_the_region_queue(
    post_report: Callable[..., Any],
) -> None:
    lat, lng = point_east_of_community_1(1500)
    response = await post_report(lat=lat, lng=lng)
    assert response.status_code == 201, response.text
    assert response.json()["community"] is None
    assert response.json()["routing"]["method"] == "region_queue"


@pytest.mark.parametrize(
    ("username", "region"),
    [
        ("courier1", "陕坝镇"),  # the courier's branch
        ("resident1", "巴彦淖尔市"),  # the root
        ("supervisor", "杭锦后旗"),  # the supervisor's region
    ],
)
async def test_a_far_point_goes_to_the_reporters_region_queue(
    post_report: Callable[..., Any], username: str, region: str
) -> None:
    response = await post_report(username, lat=41.02, lng=107.15)  # ~18 km north of the town
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["community"] is None
    assert body["grid"] is None
    assert body["routing"]["method"] == "region_queue"
    assert body["region"] == {"id": str(demo_id("region", region)), "name": region}


EAST_STREET_GRID = demo_id("grid", "陕坝镇", "东街社区", "第二网格")
NORTH_STREET_GRID = demo_id("grid", "陕坝镇", "北街社区", "第二网格")
TOUDAOQIAO_GRID = demo_id("grid", "头道桥镇", "头道桥社区", "第一网格")


async def test_a_courier_cannot_send_a_report_to_another_community_by_its_grid(
    post_report: Callable[..., Any], session: AsyncSession, settings: Settings
) -> None:
    # courier1 stands in 东街社区 and names a grid of 头道桥社区, in another township.
    response = await post_report(grid_id=TOUDAOQIAO_GRID)
    problem = assert_problem(response, 422, "validation_error", ["body", "grid_id"])
    assert problem["detail"] == (
        "the grid 第一网格 is in 头道桥社区, but the point is routed to 东街社区; "
        "name a grid of 东街社区 or leave grid_id out"
    )
    await nothing_changed(session, settings)


async def test_a_grid_of_the_points_community_names_the_grid(
    post_report: Callable[..., Any],
) -> None:
    response = await post_report(grid_id=EAST_STREET_GRID)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["community"] == {"id": COMMUNITY_1_ID, "name": "东街社区"}
    assert body["grid"] == {"id": str(EAST_STREET_GRID), "name": "第二网格"}
    # The point routed the report; the grid only says where in the community.
    assert body["routing"] == {"method": "boundary", "distance_m": 0.0}


async def test_a_grid_worker_routes_by_a_grid_of_their_own_community(
    post_report: Callable[..., Any], session: AsyncSession
) -> None:
    lat, lng = await community_centre(session, "北街社区")
    without_grid = await post_report("grid1", lat=lat, lng=lng)
    assert without_grid.json()["community"]["name"] == "北街社区"
    # grid1 walks 东街社区: their own grid decides, wherever the phone thinks it is.
    response = await post_report("grid1", lat=lat, lng=lng, grid_id=EAST_STREET_GRID)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["routing"] == {"method": "grid", "distance_m": None}
    assert body["grid"] == {"id": str(EAST_STREET_GRID), "name": "第二网格"}
    assert body["community"] == {"id": COMMUNITY_1_ID, "name": "东街社区"}


async def test_a_grid_worker_cannot_route_by_another_communitys_grid(
    post_report: Callable[..., Any],
) -> None:
    response = await post_report("grid1", grid_id=NORTH_STREET_GRID)
    problem = assert_problem(response, 422, "validation_error", ["body", "grid_id"])
    assert "the grid 第二网格 is in 北街社区" in problem["detail"]


async def test_a_grid_for_a_point_in_no_community_is_refused(
    post_report: Callable[..., Any],
) -> None:
    lat, lng = point_east_of_community_1(1500)
    response = await post_report(lat=lat, lng=lng, grid_id=EAST_STREET_GRID)
    problem = assert_problem(response, 422, "validation_error", ["body", "grid_id"])
    assert problem["detail"] == (
        "the grid 第二网格 is in 东街社区, but the point is in no community's area; "
        "leave grid_id out"
    )


async def test_an_unknown_grid_leaves_nothing_behind(
    post_report: Callable[..., Any], session: AsyncSession, settings: Settings
) -> None:
    # Refused only after the photos were processed and stored: they must be removed again.
    response = await post_report(
        grid_id=uuid.uuid4(), photos=[canon(), ("p6.jpg", photo_bytes("portrait_6.jpg"))]
    )
    assert_problem(response, 422, "validation_error", ["body", "grid_id"])
    await nothing_changed(session, settings)
    # and the case number was not used up
    ok = await post_report()
    assert ok.json()["number"].endswith("-000001")
