"""Photo intake on real phone and camera photos: what is refused, what is read from EXIF, and
what is stored (upright, resized, stripped of every piece of metadata)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import struct
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image, ImageChops, ImageFile, ImageOps, ImageStat
from PIL import _imaging as pillow_core  # Image.core: the C library, with its allocation counts

from app.core.errors import DomainError
from app.photos import pool
from app.photos.processing import (
    MAX_PHOTO_BYTES,
    MAX_PHOTO_PIXELS,
    CorruptedImage,
    NotAnImage,
    PhotoRejected,
    PhotoTooLarge,
    ProcessedPhoto,
    TooManyPixels,
    UnsupportedFormat,
    process_photo,
)

PHOTOS = Path(__file__).resolve().parents[1] / "fixtures" / "photos"
HMD = "HMD_Nokia_8.3_5G.jpg"
IPHONE = "iphone_13_pro_max.HEIC"
GOOD_PHOTOS = [
    HMD,
    IPHONE,
    "DSCN0010.jpg",
    "Canon_40D.jpg",
    "portrait_6.jpg",
    "portrait_8.jpg",
    "landscape_3.jpg",
    "image01088.jpg",
]


def photo(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


def process(data: bytes) -> ProcessedPhoto:
    return process_photo(data, max_bytes=MAX_PHOTO_BYTES, max_pixels=MAX_PHOTO_PIXELS)


@cache
def processed(name: str) -> ProcessedPhoto:
    return process(photo(name))


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def encoded(image: Image.Image, image_format: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def mean_difference(first: Image.Image, second: Image.Image) -> float:
    channels = ImageStat.Stat(ImageChops.difference(first.convert("RGB"), second.convert("RGB")))
    return sum(channels.mean) / 3


def shape_difference(stored: Image.Image, reference: Image.Image) -> float:
    """Mean difference of small, equalised greyscale copies: blind to the tone and colour changes
    of conversion to sRGB, sharp to a turn or a flip."""
    size = (max(1, stored.width // 8), max(1, stored.height // 8))

    def normalised(image: Image.Image) -> Image.Image:
        return ImageOps.equalize(image.convert("L").resize(size))

    return mean_difference(normalised(stored), normalised(reference))


def rejection(data: bytes) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as caught:
        process(data)
    return caught.value


# --- What is stored ---------------------------------------------------------------------------


def test_phone_photo_is_stored_as_display_image_and_thumbnail() -> None:
    data = photo(HMD)
    result = processed(HMD)

    assert result.original_format == "JPEG"
    assert result.content_type == "image/jpeg"
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert (result.display_width, result.display_height) == (2048, 878)
    assert (result.thumb_width, result.thumb_height) == (320, 137)
    display, thumb = decoded(result.display_bytes), decoded(result.thumb_bytes)
    assert (display.format, display.size) == ("JPEG", (2048, 878))
    assert (thumb.format, thumb.size) == ("JPEG", (320, 137))


def test_the_display_image_looks_like_the_original() -> None:
    original = decoded(photo(HMD)).resize((256, 110))
    display = decoded(processed(HMD).display_bytes).resize((256, 110))
    assert mean_difference(original, display) < 3


@pytest.mark.parametrize("name", GOOD_PHOTOS)
def test_stored_images_fit_the_size_limits_and_report_their_size(name: str) -> None:
    result = processed(name)
    display, thumb = decoded(result.display_bytes), decoded(result.thumb_bytes)
    assert display.size == (result.display_width, result.display_height)
    assert thumb.size == (result.thumb_width, result.thumb_height)
    assert max(display.size) <= 2048
    assert max(thumb.size) <= 320
    assert display.mode == thumb.mode == "RGB"


@pytest.mark.parametrize("name", GOOD_PHOTOS)
def test_stored_images_carry_no_metadata(name: str) -> None:
    result = processed(name)
    for data in (result.display_bytes, result.thumb_bytes):
        image = decoded(data)
        assert not image.getexif()
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(image.info)
        assert b"Exif\x00\x00" not in data
        assert b"http://ns.adobe.com/xap/" not in data


def test_metadata_planted_in_every_place_is_stripped() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Secret phone"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (39.0, 54.0, 27.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (116.0, 23.0, 17.0),
        }
    )
    data = encoded(
        decoded(photo("DSCN0010.jpg")),
        "JPEG",
        exif=exif,
        comment=b"courier 13800138000",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret</x:xmpmeta>',
        icc_profile=decoded(photo("Canon_40D.jpg")).info["icc_profile"],
    )
    result = process(data)
    assert result.gps == pytest.approx((39 + 54 / 60 + 27 / 3600, 116 + 23 / 60 + 17 / 3600))
    for stored in (result.display_bytes, result.thumb_bytes):
        image = decoded(stored)
        assert not image.getexif()
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(image.info)
        for secret in (b"Secret phone", b"13800138000", b"secret"):
            assert secret not in stored


# --- Orientation ----------------------------------------------------------------------------------

WRONG_TURN = {
    "portrait_6.jpg": Image.Transpose.ROTATE_90,
    "portrait_8.jpg": Image.Transpose.ROTATE_270,
    "landscape_3.jpg": None,
}


@pytest.mark.parametrize(
    ("name", "swapped"),
    [("portrait_6.jpg", True), ("portrait_8.jpg", True), ("landscape_3.jpg", False)],
)
def test_stored_images_are_upright(name: str, swapped: bool) -> None:
    raw = decoded(photo(name))
    raw_width, raw_height = raw.size
    result = processed(name)
    display, thumb = decoded(result.display_bytes), decoded(result.thumb_bytes)

    assert display.size == ((raw_height, raw_width) if swapped else (raw_width, raw_height))
    assert (thumb.width > thumb.height) == (display.width > display.height)

    upright = ImageOps.exif_transpose(raw)
    wrong_turn = WRONG_TURN[name]
    turned_wrong = raw if wrong_turn is None else raw.transpose(wrong_turn)
    for stored in (display, thumb):
        assert shape_difference(stored, upright) < 6
        assert shape_difference(stored, turned_wrong) > 40


@pytest.mark.parametrize("image_format", ["PNG", "WEBP", "JPEG"])
def test_orientation_is_honoured_in_every_format(image_format: str) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    landscape = Image.new("RGB", (80, 40), "red")
    landscape.paste("blue", (0, 0, 40, 40))  # blue on the left: on top once turned upright
    result = process(encoded(landscape, image_format, exif=exif))
    display = decoded(result.display_bytes)
    assert display.size == (40, 80)
    assert display.getpixel((20, 10)) == pytest.approx((0, 0, 255), abs=24)
    assert display.getpixel((20, 70)) == pytest.approx((255, 0, 0), abs=24)


def test_heic_from_an_iphone_is_accepted_and_converted_to_jpeg() -> None:
    result = processed(IPHONE)
    assert result.original_format == "HEIF"
    assert result.content_type == "image/jpeg"
    # 3024×4032 portrait: libheif has already applied the rotation, which must not happen twice.
    assert (result.display_width, result.display_height) == (1536, 2048)
    assert (result.thumb_width, result.thumb_height) == (240, 320)
    assert decoded(result.display_bytes).format == "JPEG"


# --- What is read from EXIF ---------------------------------------------------------------------


def expected_position(name: str) -> tuple[float, float]:
    """Decimal degrees from the raw GPS rationals, in exact arithmetic."""
    gps = Image.open(PHOTOS / name).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    def degrees(values: tuple[Any, ...], ref: str, negative: str) -> float:
        exact = sum(
            Fraction(value.numerator, value.denominator) / 60**index
            for index, value in enumerate(values)
        )
        return float(-exact if ref == negative else exact)

    return (
        degrees(gps[ExifTags.GPS.GPSLatitude], gps[ExifTags.GPS.GPSLatitudeRef], "S"),
        degrees(gps[ExifTags.GPS.GPSLongitude], gps[ExifTags.GPS.GPSLongitudeRef], "W"),
    )


@pytest.mark.parametrize(
    ("name", "near"), [("DSCN0010.jpg", (43.4674, 11.8851)), (HMD, (60.1467, 24.9068))]
)
def test_gps_position_is_read_from_exif(name: str, near: tuple[float, float]) -> None:
    gps = processed(name).gps
    assert gps is not None
    assert gps == pytest.approx(expected_position(name), abs=1e-9)
    assert gps == pytest.approx(near, abs=1e-4)


def test_capture_time_keeps_the_offset_the_phone_wrote() -> None:
    assert processed(HMD).taken_at == datetime(
        2022, 8, 14, 14, 12, 31, tzinfo=timezone(timedelta(hours=3))
    )
    assert processed(IPHONE).taken_at == datetime(
        2022, 2, 16, 12, 55, 41, 762000, tzinfo=timezone(timedelta(hours=1))
    )


def test_capture_time_without_offset_is_china_time() -> None:
    taken_at = processed("DSCN0010.jpg").taken_at
    assert taken_at == datetime(2008, 10, 22, 16, 28, 39, tzinfo=timezone(timedelta(hours=8)))
    assert taken_at.utcoffset() == timedelta(hours=8)


def test_photos_without_gps_or_time_give_none() -> None:
    assert processed("Canon_40D.jpg").gps is None  # a GPS IFD with nothing but the version
    assert processed(IPHONE).gps is None
    assert processed("portrait_6.jpg").taken_at is None


def test_broken_exif_does_not_stop_the_photo() -> None:
    result = processed("image01088.jpg")
    assert (result.gps, result.taken_at) == (None, None)
    assert decoded(result.display_bytes).size == (425, 120)


def with_exif(exif: Image.Exif) -> bytes:
    return encoded(Image.new("RGB", (64, 48), "orange"), "JPEG", exif=exif)


def test_southern_and_western_positions_are_negative() -> None:
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            ExifTags.GPS.GPSLatitudeRef: "S",
            ExifTags.GPS.GPSLatitude: (33.0, 51.0, 54.0),
            ExifTags.GPS.GPSLongitudeRef: "W",
            ExifTags.GPS.GPSLongitude: (70.0, 39.0, 0.0),
        }
    )
    gps = process(with_exif(exif)).gps
    assert gps == pytest.approx((-(33 + 51 / 60 + 54 / 3600), -(70 + 39 / 60)))


@pytest.mark.parametrize(
    "gps_tags",
    [
        {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (30.0, 0.0, 0.0)},
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (95.0, 0.0, 0.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (120.0, 0.0, 0.0),
        },
        {
            ExifTags.GPS.GPSLatitudeRef: "Q",
            ExifTags.GPS.GPSLatitude: (30.0, 0.0, 0.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (120.0, 0.0, 0.0),
        },
        {
            ExifTags.GPS.GPSStatus: "V",
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (30.0, 0.0, 0.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (120.0, 0.0, 0.0),
        },
    ],
    ids=["latitude only", "out of range", "unknown reference", "receiver without fix"],
)
def test_unusable_gps_gives_none(gps_tags: dict[int, Any]) -> None:
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(gps_tags)
    assert process(with_exif(exif)).gps is None


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
@pytest.mark.parametrize(
    "app1",
    [b"Exif\x00\x00" + b"\xde\xad\xbe\xef" * 8, b"Exif\x00\x00MM\x00*\x00\x00\xff\xff\xff\xff"],
    ids=["garbage", "IFD offset past the end"],
)
def test_malformed_exif_is_ignored(app1: bytes) -> None:
    clean = encoded(Image.new("RGB", (64, 48), "teal"), "JPEG")
    data = clean[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + clean[2:]
    result = process(data)
    assert (result.gps, result.taken_at) == (None, None)
    assert (result.display_width, result.display_height) == (64, 48)


# --- What is refused ----------------------------------------------------------------------------


def test_rejections_are_422_problems_with_a_reason() -> None:
    error = rejection(b"hello")
    assert isinstance(error, DomainError)
    assert (error.status_code, error.code) == (422, "photo_rejected")
    assert error.reason_code == "not_an_image"
    assert error.message == error.detail == "the file is not an image"


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b'<rect width="10" height="10"/></svg>',
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        "隐患：路灯不亮".encode(),
        b"",
    ],
    ids=["svg", "pdf", "text", "empty"],
)
def test_files_that_are_not_images_are_refused(data: bytes) -> None:
    assert isinstance(rejection(data), NotAnImage)


def animated(image_format: str) -> bytes:
    frames = [Image.new("RGB", (32, 32), colour) for colour in ("red", "green", "blue")]
    return encoded(frames[0], image_format, save_all=True, append_images=frames[1:], duration=100)


def jpeg_with_frame_marker(marker: int) -> bytes:
    data = encoded(Image.new("RGB", (32, 32), "red"), "JPEG")
    return data.replace(b"\xff\xc0", bytes([0xFF, marker]), 1)


@pytest.mark.parametrize(
    "data",
    [
        animated("GIF"),
        animated("WEBP"),
        animated("PNG"),
        encoded(Image.new("RGB", (32, 32), "red"), "GIF"),
        encoded(Image.new("RGB", (32, 32), "red"), "BMP"),
        encoded(Image.new("RGB", (32, 32), "red"), "TIFF"),
        jpeg_with_frame_marker(0xC9),
        jpeg_with_frame_marker(0xC3),
    ],
    ids=[
        "animated gif",
        "animated webp",
        "animated png",
        "gif",
        "bmp",
        "tiff",
        "arithmetic-coded jpeg",
        "lossless jpeg",
    ],
)
def test_other_image_formats_and_animations_are_refused(data: bytes) -> None:
    assert isinstance(rejection(data), UnsupportedFormat)


def test_content_decides_not_the_name_or_declared_type() -> None:
    assert process(encoded(Image.new("RGB", (40, 30), "red"), "PNG")).original_format == "PNG"
    assert process(encoded(Image.new("RGB", (40, 30), "red"), "WEBP")).original_format == "WEBP"


def test_transparent_areas_become_white() -> None:
    image = Image.new("RGBA", (40, 30), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 20, 30))
    display = decoded(process(encoded(image, "PNG")).display_bytes)
    assert display.getpixel((35, 15)) == pytest.approx((255, 255, 255), abs=8)
    assert display.getpixel((5, 15)) == pytest.approx((0, 0, 255), abs=8)


def mpo(image: Image.Image) -> bytes:
    return encoded(image, "MPO", save_all=True, append_images=[image.rotate(90)])


@pytest.mark.parametrize(
    "make",
    [
        lambda image: encoded(image, "JPEG", progressive=True),
        lambda image: encoded(image, "JPEG", restart_marker_blocks=3),
        lambda image: encoded(image, "JPEG", progressive=True, restart_marker_rows=2),
        lambda image: encoded(image, "JPEG", subsampling="4:4:4", restart_marker_blocks=5),
        lambda image: encoded(image.convert("L"), "JPEG", restart_marker_blocks=7),
        lambda image: encoded(image.convert("CMYK"), "JPEG", restart_marker_rows=1),
        lambda image: encoded(image, "JPEG") + b"trailer written by some phones",
        mpo,
    ],
    ids=[
        "progressive",
        "restart markers",
        "progressive with restart markers",
        "4:4:4",
        "greyscale",
        "cmyk",
        "data after the end",
        "multi-picture",
    ],
)
def test_valid_jpeg_variants_pass_the_structure_check(make: Any) -> None:
    data = make(decoded(photo("DSCN0010.jpg")).resize((333, 250)))
    result = process(data)
    assert (result.display_width, result.display_height) == (333, 250)
    assert mean_difference(decoded(result.display_bytes), decoded(data)) < 8


def test_the_damaged_sample_is_refused_as_corrupted() -> None:
    # Pillow decodes this file without complaint (libjpeg papers over the damage), full size
    # and in draft mode alike: only the structure check catches it.
    error = rejection(photo("corrupted.jpg"))
    assert isinstance(error, CorruptedImage)
    assert error.reason_code == "corrupted"


def truncated(data: bytes, keep: float) -> bytes:
    return data[: int(len(data) * keep)]


@pytest.mark.parametrize(
    "data",
    [
        truncated(photo(HMD), 0.5),
        truncated(photo(HMD), 0.99),
        photo(HMD)[:-2],
        truncated(photo(IPHONE), 0.5),
        truncated(photo(IPHONE), 0.99),
        truncated(encoded(decoded(photo("DSCN0010.jpg")), "PNG"), 0.6),
        truncated(encoded(decoded(photo("DSCN0010.jpg")), "WEBP"), 0.6),
        truncated(encoded(decoded(photo("DSCN0010.jpg")), "JPEG", progressive=True), 0.6),
        photo(HMD)[:40],
    ],
    ids=[
        "jpeg half",
        "jpeg 99%",
        "jpeg without end marker",
        "heic half",
        "heic 99%",
        "png",
        "webp",
        "progressive jpeg",
        "jpeg header only",
    ],
)
def test_truncated_images_are_refused_as_corrupted(data: bytes) -> None:
    assert isinstance(rejection(data), CorruptedImage)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_damaged_jpeg_data_is_refused() -> None:
    # A stretch of the image data overwritten, as on a failing SD card: with restart markers
    # (as in corrupted.jpg) the damage shows; the decoder alone would show grey blocks.
    data = encoded(decoded(photo("DSCN0010.jpg")), "JPEG", restart_marker_blocks=4)
    middle = len(data) // 2
    damaged = data[:middle] + b"\x00" * 4096 + data[middle + 4096 :]
    assert isinstance(rejection(damaged), CorruptedImage)


def png_declaring(width: int, height: int) -> bytes:
    """A valid PNG header and a few bytes of pixel data: a tiny file that claims a huge image."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        checksum = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", checksum)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    data = bytearray(encoded(Image.new("RGB", (16, 16), "red"), "JPEG"))
    start_of_frame = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, start_of_frame + 5, height, width)
    return bytes(data)


@pytest.mark.parametrize(
    "data",
    [png_declaring(20_000, 20_000), png_declaring(8_000, 8_000), jpeg_declaring(10_000, 6_000)],
    ids=["400 MP png", "64 MP png", "60 MP jpeg"],
)
def test_decompression_bombs_are_refused_before_decoding(data: bytes) -> None:
    assert len(data) < 2000
    images_allocated = pillow_core.get_stats()["new_count"]
    error = rejection(data)
    assert isinstance(error, TooManyPixels)
    assert error.reason_code == "too_many_pixels"
    assert pillow_core.get_stats()["new_count"] == images_allocated


def test_the_pixel_limit_is_configurable() -> None:
    data = photo("DSCN0010.jpg")  # 640×480
    with pytest.raises(TooManyPixels):
        process_photo(data, max_bytes=MAX_PHOTO_BYTES, max_pixels=640 * 480 - 1)
    assert process_photo(data, max_bytes=MAX_PHOTO_BYTES, max_pixels=640 * 480).gps is not None


def test_files_over_the_byte_limit_are_refused() -> None:
    data = photo("DSCN0010.jpg")
    with pytest.raises(PhotoTooLarge):
        process_photo(data, max_bytes=len(data) - 1, max_pixels=MAX_PHOTO_PIXELS)


# --- The async entry point ------------------------------------------------------------------------


@pytest.fixture
def photo_pool() -> Iterator[pool.PhotoPool]:
    running = pool.PhotoPool(2)
    yield running
    running.shutdown()


async def test_photos_are_processed_off_the_event_loop(photo_pool: pool.PhotoPool) -> None:
    ticks = 0

    async def tick_while(work: asyncio.Future[ProcessedPhoto]) -> None:
        nonlocal ticks
        while not work.done():
            ticks += 1
            await asyncio.sleep(0.005)

    work = asyncio.ensure_future(
        photo_pool.process(photo(IPHONE), max_bytes=MAX_PHOTO_BYTES, max_pixels=MAX_PHOTO_PIXELS)
    )
    await tick_while(work)
    assert work.result() == processed(IPHONE)
    # The HEIC takes about half a second: a blocked loop would have ticked once.
    assert ticks > 10


async def test_rejections_come_back_from_the_pool(photo_pool: pool.PhotoPool) -> None:
    with pytest.raises(CorruptedImage):
        await photo_pool.process(
            photo("corrupted.jpg"), max_bytes=MAX_PHOTO_BYTES, max_pixels=MAX_PHOTO_PIXELS
        )


async def test_a_pool_of_one_works_through_a_queue() -> None:
    single = pool.PhotoPool(1)
    try:
        results = await asyncio.gather(
            *(
                single.process(photo(name), max_bytes=MAX_PHOTO_BYTES, max_pixels=MAX_PHOTO_PIXELS)
                for name in ("Canon_40D.jpg", "DSCN0010.jpg")
            )
        )
    finally:
        single.shutdown()
    assert results == [processed("Canon_40D.jpg"), processed("DSCN0010.jpg")]


def test_a_pool_of_zero_workers_has_one_per_cpu() -> None:
    photo_pool = pool.PhotoPool(0)
    assert photo_pool.workers == (os.cpu_count() or 1)
    photo_pool.shutdown()
    with pytest.raises(ValueError, match="negative"):
        pool.PhotoPool(-1)
