"""Turning an uploaded photo into what we keep: an upright, metadata-free display image and a
thumbnail, plus the facts read from it (GPS position, capture time, SHA-256 of the upload).

Pure and synchronous CPU work; the API runs it off the event loop through ``app.photos.pool``.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import pillow_heif
from PIL import Image, ImageCms

from app.photos.exceptions import (
    CorruptedImage,
    NotAnImage,
    PhotoRejected,
    PhotoTooLarge,
    TooManyPixels,
    UnsupportedFormat,
)
from app.photos.exif import GpsPosition, read_metadata
from app.photos.integrity import verify_isobmff_boxes, verify_jpeg_structure

__all__ = [
    "DISPLAY_MAX_SIDE",
    "JPEG_QUALITY",
    "MAX_PHOTO_BYTES",
    "MAX_PHOTO_PIXELS",
    "STORED_CONTENT_TYPE",
    "STORED_EXTENSION",
    "THUMB_MAX_SIDE",
    "CorruptedImage",
    "GpsPosition",
    "NotAnImage",
    "PhotoRejected",
    "PhotoTooLarge",
    "ProcessedPhoto",
    "TooManyPixels",
    "UnsupportedFormat",
    "process_photo",
]

MAX_PHOTO_BYTES: Final = 15 * 1024 * 1024
MAX_PHOTO_PIXELS: Final = 50_000_000
DISPLAY_MAX_SIDE: Final = 2048
THUMB_MAX_SIDE: Final = 320
# JPEG rather than WebP: libjpeg-turbo encodes the display image in ~6 ms where libwebp takes
# ~160 ms, which alone would break the throughput budget; WebP saves ~45% of bytes we can afford.
JPEG_QUALITY: Final = 85
STORED_CONTENT_TYPE: Final = "image/jpeg"
STORED_EXTENSION: Final = "jpg"


# Thumbnails, depth maps and auxiliary images inside a HEIC are decoded for nothing otherwise.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


@dataclass(frozen=True, slots=True)
class ProcessedPhoto:
    display_bytes: bytes
    display_width: int
    display_height: int
    thumb_bytes: bytes
    thumb_width: int
    thumb_height: int
    content_type: str
    extension: str
    sha256: str
    original_format: str
    gps: GpsPosition | None
    taken_at: datetime | None


def process_photo(
    data: bytes,
    *,
    max_pixels: int,
    max_bytes: int | None = None,
    display_max: int = DISPLAY_MAX_SIDE,
    thumb_max: int = THUMB_MAX_SIDE,
    sha256: str | None = None,
) -> ProcessedPhoto:
    """Raises a ``PhotoRejected`` subclass for anything we do not store. ``max_bytes`` is for
    callers that did not already stop reading the upload at the limit; ``sha256`` for callers
    that already hashed ``data``."""
    if max_bytes is not None and len(data) > max_bytes:
        raise PhotoTooLarge(f"the photo is {len(data)} bytes; at most {max_bytes} are accepted")
    sha256 = sha256 or hashlib.sha256(data).hexdigest()
    image_format = _accepted_format(data)
    if image_format == "JPEG":
        verify_jpeg_structure(data)
    elif image_format == "HEIF":
        verify_isobmff_boxes(data)
    # Closing the original also frees any derived image that turned out to be the same object,
    # so everything is encoded inside the block.
    with _open(data, image_format, max_pixels) as image:
        display = _decode_to_fit(image, display_max)
        # Read after decoding: a PNG may carry its EXIF after the image data.
        metadata = read_metadata(image)
        display = _to_srgb(display, image.info.get("icc_profile"))
        display = _upright(display, metadata.orientation)
        thumb = _resized_to_fit(display, thumb_max)
        return ProcessedPhoto(
            display_bytes=_encode(display),
            display_width=display.width,
            display_height=display.height,
            thumb_bytes=_encode(thumb),
            thumb_width=thumb.width,
            thumb_height=thumb.height,
            content_type=STORED_CONTENT_TYPE,
            extension=STORED_EXTENSION,
            sha256=sha256,
            original_format=image_format,
            gps=metadata.gps,
            taken_at=metadata.taken_at,
        )


_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)


def _accepted_format(data: bytes) -> str:
    """The Pillow format name, from the leading bytes alone: a file that claims to be one of our
    formats and then fails to open is corrupted, not 'not an image'."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "HEIF"
    other_format = _pillow_format(data)
    if other_format is None:
        raise NotAnImage("the file is not an image")
    raise UnsupportedFormat(
        f"{other_format} images are not accepted; send JPEG, PNG, WebP or HEIC/HEIF"
    )


def _pillow_format(data: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.format
    except Exception:
        # Whatever any of Pillow's other plugins makes of these bytes, we take none of them.
        return None


# A multi-picture JPEG (MPO) or a HEIC sequence is a photo plus extras; an animated PNG or WebP
# is not a photo.
_ANIMATABLE_FORMATS = frozenset({"PNG", "WEBP"})


def _open(data: bytes, image_format: str, max_pixels: int) -> Image.Image:
    """Reads the header only: the pixel limit is enforced before any pixel is decoded."""
    try:
        image = Image.open(io.BytesIO(data), formats=[image_format])
    except Image.DecompressionBombError as error:
        raise TooManyPixels(f"the image has too many pixels (at most {max_pixels})") from error
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
        raise CorruptedImage(f"the {image_format} file cannot be read: {error}") from error
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise TooManyPixels(
            f"the image is {width}×{height} = {width * height} pixels; at most {max_pixels}"
        )
    if image_format in _ANIMATABLE_FORMATS and getattr(image, "is_animated", False):
        image.close()
        raise UnsupportedFormat("animated images are not accepted")
    return image


def _decode_to_fit(image: Image.Image, max_side: int) -> Image.Image:
    target = _fitting_size(image.size, max_side)
    if image.format in ("JPEG", "MPO") and target != image.size:
        # libjpeg then decodes at 1/2, 1/4 or 1/8 scale straight from the DCT coefficients: about
        # half the time of a full decode for a 9 MP phone photo, for the same display image.
        image.draft("RGB", target)
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as error:
        raise CorruptedImage(f"the image data is damaged or incomplete: {error}") from error
    try:
        colour_image = _without_alpha(image)
    except ValueError as error:  # a mode Pillow cannot convert, e.g. 16-bit with transparency
        raise UnsupportedFormat(f"{image.mode} images are not accepted") from error
    return _resized_to_fit(colour_image, max_side, target)


def _fitting_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    width, height = size
    scale = max_side / max(width, height)
    if scale >= 1:
        return size
    return max(1, round(width * scale)), max(1, round(height * scale))


def _resized_to_fit(
    image: Image.Image, max_side: int, target: tuple[int, int] | None = None
) -> Image.Image:
    size = target or _fitting_size(image.size, max_side)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)


# Modes that resize well and that an ICC transform can take as they are.
_COLOUR_MODES = frozenset({"RGB", "L", "CMYK"})


def _without_alpha(image: Image.Image) -> Image.Image:
    """Transparent areas become white, as a viewer shows them; JPEG has no alpha."""
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if not has_alpha:
        return image if image.mode in _COLOUR_MODES else image.convert("RGB")
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, "white")
    return Image.alpha_composite(white, rgba).convert("RGB")


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Browsers show untagged images as sRGB: colours from a wider space (iPhones shoot Display P3)
    are converted, not just relabelled, so they do not come out dull."""
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            if "sRGB" not in ImageCms.getProfileDescription(source):
                srgb = ImageCms.createProfile("sRGB")
                image = ImageCms.buildTransform(source, srgb, image.mode, "RGB").apply(image)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken or mismatched profile is ignored, as browsers ignore it
    return image if image.mode == "RGB" else image.convert("RGB")


_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    method = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    return image if method is None else image.transpose(method)


def _encode(image: Image.Image) -> bytes:
    # Derived images inherit the original's info, and the JPEG writer copies its comment from
    # there: with no info there is nothing to copy.
    image.info.clear()
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()
