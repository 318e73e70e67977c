"""Hostile uploads through ``POST /api/v1/reports``: files built to exhaust memory, to be taken for
something they are not, or to smuggle a payload or metadata through to what we store and serve.

Already covered elsewhere, and not repeated here (``tests/reports/test_intake_validation.py``):
a real PNG decompression bomb (20000×20000 and 8000×8000), a JPEG cut after its headers and a
phone JPEG cut in half, an SVG, a GIF, a PDF and plain text under their own names, a zero-byte
file, a file over ``SSP_MAX_PHOTO_BYTES`` and a request over ``SSP_MAX_REQUEST_BYTES``, ten
photos; and (``test_intake_photos.py``) a corrupted sample JPEG and HTML sent as ``image/jpeg``.
This file covers the remaining cases: sizes declared in a header but not backed by data, formats
renamed to ``.jpg``, JPEG polyglots and oversized metadata.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models import Photo, Report
from tests.conftest import LoginFn
from tests.reports.conftest import SubmitFn, photo_bytes

JPEG_EOI = b"\xff\xd9"


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


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_declaring(width: int, height: int) -> bytes:
    """A PNG of a few dozen bytes whose header declares ``width``×``height`` 8-bit RGB pixels,
    with one row of image data: what a decoder would allocate is decided by the header alone."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" + b"\x00" * 3 * min(width, 64))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def small_jpeg(size: tuple[int, int] = (64, 48), **save: Any) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "orange").save(buffer, "JPEG", **save)
    return buffer.getvalue()


def jpeg_declaring(width: int, height: int) -> bytes:
    """A valid small JPEG whose frame header (SOF0) is rewritten to declare ``width``×``height``."""
    data = bytearray(small_jpeg())
    sof = data.index(b"\xff\xc0")
    # FFC0, length (2), precision (1), then height and width (2 each).
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def gif_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(buffer, "GIF")
    return buffer.getvalue()


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
    b'<script>alert(document.cookie)</script><circle cx="50" cy="50" r="40"/></svg>'
)


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.html", "<script>alert('zip')</script>")
    return buffer.getvalue()


HTML_PAYLOAD = b"<html><body><script>alert('polyglot')</script></body></html>"


def jpeg_with_html_comment() -> bytes:
    """A JPEG whose COM segment is an HTML page, with HTML appended after the end marker too:
    sniffed as HTML by a browser that ignores the content type."""
    return small_jpeg(comment=HTML_PAYLOAD) + HTML_PAYLOAD


def jpeg_with_giant_metadata() -> bytes:
    """A real camera photo carrying a 60 kB EXIF UserComment and a 60 kB COM comment."""
    marker = b"GIANT-COMMENT-"
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Hostile camera"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.UserComment] = (
        b"ASCII\x00\x00\x00" + (marker * 4300)[:60_000]
    )
    buffer = io.BytesIO()
    with Image.open(io.BytesIO(photo_bytes("DSCN0010.jpg"))) as image:
        image.save(buffer, "JPEG", exif=exif, comment=(marker * 4300)[:60_000])
    data = buffer.getvalue()
    assert data.count(marker) > 8000  # both copies really are in the upload
    return data


async def assert_refused(
    response: httpx.Response,
    *,
    name: str,
    reason: str,
    client: httpx.AsyncClient,
    headers: dict[str, str],
    session: AsyncSession,
    settings: Settings,
) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert problem["code"] == "photo_rejected"
    [error] = problem["errors"]
    assert error["loc"] == ["body", "photos", 0]
    assert name in error["msg"]
    assert f": {reason}: " in error["msg"], error["msg"]
    assert "Traceback" not in response.text
    # Nothing left: no case the submitter can see, no row, no file in the photo store.
    listed = await client.get("/api/v1/reports", headers=headers)
    assert listed.status_code == 200
    assert listed.json()["items"] == []
    assert await row_counts(session) == (0, 0)
    assert stored_files(settings) == set()


def assert_stored_clean(data: bytes, *, forbidden: list[bytes]) -> Image.Image:
    """A plain JPEG with no metadata segments and nothing after its end marker."""
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    image.load()
    assert not image.getexif()
    assert not {"exif", "xmp", "icc_profile", "comment", "photoshop"} & set(image.info)
    assert b"Exif\x00\x00" not in data
    assert data.endswith(JPEG_EOI)
    # The only segments before the image data are the ones the encoder itself writes.
    segments = []
    position = 2
    while data[position] == 0xFF and data[position + 1] != 0xDA:
        marker = data[position + 1]
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        segments.append(marker)
        position += 2 + length
    assert not {m for m in segments if m == 0xFE or 0xE1 <= m <= 0xEF}, segments
    for payload in forbidden:
        assert payload not in data
    return image


# --- refused --------------------------------------------------------------------------------


REFUSED = {
    # 900 MP declared in 80 bytes: refused from the header, before any pixel is decoded.
    "png-declares-30000x30000": ("bomb.png", png_declaring(30_000, 30_000), "too_many_pixels"),
    "jpeg-sof-declares-65000x65000": (
        "huge.jpg",
        jpeg_declaring(65_000, 65_000),
        "too_many_pixels",
    ),
    # Just over the 50 MP limit and under Pillow's own bomb limit: our limit must decide.
    "jpeg-sof-declares-8000x7000": ("big.jpg", jpeg_declaring(8_000, 7_000), "too_many_pixels"),
    "svg-renamed-jpg": ("photo.jpg", SVG, "not_an_image"),
    "gif-renamed-jpg": ("photo.jpg", gif_bytes(), "unsupported_format"),
    # The end marker and the last bytes of the scan missing.
    "jpeg-cut-inside-scan": ("cut.jpg", small_jpeg((640, 480))[:-200], "corrupted"),
}


@pytest.mark.parametrize(("name", "data", "reason"), list(REFUSED.values()), ids=list(REFUSED))
async def test_hostile_upload_is_refused_and_leaves_nothing(
    submit: SubmitFn,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
    name: str,
    data: bytes,
    reason: str,
) -> None:
    response = await submit("courier1", photos=[(name, data)])
    await assert_refused(
        response,
        name=name,
        reason=reason,
        client=client,
        headers=await login("courier1"),
        session=session,
        settings=settings,
    )


# --- accepted, with the payload stripped ------------------------------------------------------


ACCEPTED = {
    # A JPEG that is also a ZIP archive (the archive appended after the end marker).
    "jpeg-zip-polyglot": (
        photo_bytes("Canon_40D.jpg") + zip_archive(),
        [b"PK\x03\x04", b"PK\x05\x06", b"payload.html", b"<script"],
    ),
    "jpeg-html-polyglot": (jpeg_with_html_comment(), [b"<html", b"<script"]),
    "giant-exif-user-comment": (
        jpeg_with_giant_metadata(),
        [b"GIANT-COMMENT-", b"Hostile camera", b"NIKON"],
    ),
}


@pytest.mark.parametrize(("data", "forbidden"), list(ACCEPTED.values()), ids=list(ACCEPTED))
async def test_payload_is_not_stored_or_served(
    submit: SubmitFn,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
    data: bytes,
    forbidden: list[bytes],
) -> None:
    assert any(payload in data for payload in forbidden)  # the upload really carries it
    response = await submit("courier1", photos=[("upload.jpg", data)])
    assert response.status_code == 201, response.text
    [photo] = response.json()["photos"]
    headers = await login("courier1")
    for url in (photo["url"], photo["thumbnail_url"]):
        served = await client.get(url, headers=headers)
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert_stored_clean(served.content, forbidden=forbidden)
    display = await client.get(photo["url"], headers=headers)
    image = Image.open(io.BytesIO(display.content))
    assert image.size == (photo["width"], photo["height"])
    # What is on disk is what is served: the store holds no unstripped copy.
    files = stored_files(settings)
    assert len(files) == 2
    for key in files:
        assert_stored_clean((Path(settings.photo_dir) / key).read_bytes(), forbidden=forbidden)
    assert await row_counts(session) == (1, 1)
