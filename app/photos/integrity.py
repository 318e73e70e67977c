"""Integrity checks that decoding alone does not make: libjpeg and libheif both paper over
damaged or missing image data instead of failing, so the container structure is checked here."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from app.photos.exceptions import CorruptedImage, UnsupportedFormat

_EOI, _SOS, _DRI = 0xD9, 0xDA, 0xDD
_RESTARTS = range(0xD0, 0xD8)
# Huffman-coded DCT frames: baseline, extended, progressive. Pillow's libjpeg cannot decode the
# arithmetic-coded ones, no camera writes lossless or hierarchical ones.
_DCT_FRAMES = frozenset({0xC0, 0xC1, 0xC2})
_OTHER_FRAMES = frozenset({0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# Segments that may stand between and after scans: DHT, DAC, DQT, DNL, DRI, APPn, COM.
_SEGMENTS = frozenset({0xC4, 0xCC, 0xDB, 0xDC, _DRI, *range(0xE0, 0xF0), 0xFE})
# Each scan is a pass over the whole image: a file with thousands of them costs minutes of CPU.
_MAX_JPEG_SCANS = 100
_MARKER_IN_SCAN = re.compile(rb"\xff[^\x00]")
_FILL = re.compile(rb"\xff+")


@dataclass(frozen=True, slots=True)
class _Frame:
    width: int
    height: int
    sampling: dict[int, tuple[int, int]]


def verify_jpeg_structure(data: bytes) -> None:
    """libjpeg conceals damaged or missing data (grey or shifted blocks) and only warns about
    it, and Pillow drops the warnings: so the markers are checked here. Restart markers out of
    order or short in number, a marker that cannot occur, or no end of image mean lost data.
    Bit errors that leave the markers intact cannot be seen this way."""
    try:
        _walk_jpeg_segments(data)
    except (IndexError, KeyError, ValueError, ZeroDivisionError, struct.error) as error:
        raise CorruptedImage("the JPEG headers are inconsistent") from error


def _walk_jpeg_segments(data: bytes) -> None:
    position = 2
    frame: _Frame | None = None
    restart_interval = 0
    scans = 0
    while True:
        marker, position = _read_marker(data, position)
        if marker == _EOI:
            if scans == 0:
                raise CorruptedImage("the JPEG file has no image data")
            return
        if marker in _OTHER_FRAMES:
            raise UnsupportedFormat(
                "arithmetic-coded, lossless and hierarchical JPEG are not accepted"
            )
        if marker not in _SEGMENTS and marker not in _DCT_FRAMES and marker != _SOS:
            raise CorruptedImage(f"the JPEG file has an invalid marker 0x{marker:02X}")
        (length,) = struct.unpack_from(">H", data, position)
        end = position + length
        if length < 2 or end > len(data):
            raise CorruptedImage("the JPEG file is cut short")
        body = data[position + 2 : end]
        if marker in _DCT_FRAMES:
            if frame is not None:
                raise CorruptedImage("the JPEG file has two frame headers")
            frame = _parse_frame(body)
        elif marker == _DRI:
            (restart_interval,) = struct.unpack_from(">H", body)
        elif marker == _SOS:
            scans += 1
            if frame is None or scans > _MAX_JPEG_SCANS:
                raise CorruptedImage("the JPEG scans are malformed")
            end = _skip_entropy_coded_data(data, end, restart_interval, _mcus_in_scan(frame, body))
        position = end


def _read_marker(data: bytes, position: int) -> tuple[int, int]:
    # Stray bytes between segments lose no image data, and libjpeg skips them too.
    next_marker = data.find(b"\xff", position)
    code_at = _after_fill(data, next_marker)
    if next_marker < 0 or code_at >= len(data):
        raise CorruptedImage("the JPEG file is cut short")
    return data[code_at], code_at + 1


def _after_fill(data: bytes, position: int) -> int:
    """Where the run of 0xFF bytes starting at ``position`` ends; any number may precede a
    marker code."""
    fill = _FILL.match(data, position)
    return position if fill is None else fill.end()


def _parse_frame(body: bytes) -> _Frame:
    _precision, height, width, components = struct.unpack_from(">BHHB", body)
    sampling = {}
    for index in range(components):
        component_id, factors = body[6 + 3 * index], body[7 + 3 * index]
        sampling[component_id] = (factors >> 4, factors & 0x0F)
    return _Frame(width=width, height=height, sampling=sampling)


def _mcus_in_scan(frame: _Frame, sos_body: bytes) -> int:
    """How many MCUs the scan codes, or 0 when the height comes later (a DNL marker)."""
    if frame.height == 0:
        return 0
    h_max = max(h for h, _ in frame.sampling.values())
    v_max = max(v for _, v in frame.sampling.values())
    if sos_body[0] == 1:
        # A single-component scan codes every 8×8 block of that component, unpadded.
        h, v = frame.sampling[sos_body[1]]
        columns = _ceil_div(_ceil_div(frame.width * h, h_max), 8)
        rows = _ceil_div(_ceil_div(frame.height * v, v_max), 8)
        return columns * rows
    return _ceil_div(frame.width, 8 * h_max) * _ceil_div(frame.height, 8 * v_max)


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def _skip_entropy_coded_data(data: bytes, position: int, restart_interval: int, mcus: int) -> int:
    """Where the marker that ends the scan starting at ``position`` begins."""
    expected_restart = 0
    restarts = 0
    while True:
        found = _MARKER_IN_SCAN.search(data, position)
        if found is None:
            raise CorruptedImage("the JPEG image data is cut short")
        code_at = _after_fill(data, found.start())
        if code_at >= len(data):
            raise CorruptedImage("the JPEG image data is cut short")
        code = data[code_at]
        if code == 0x00:  # fill bytes before a stuffed 0xFF data byte
            position = code_at + 1
            continue
        if code in _RESTARTS:
            if restart_interval == 0 or code - 0xD0 != expected_restart:
                raise CorruptedImage("the JPEG image data is damaged (restarts out of order)")
            expected_restart = (expected_restart + 1) % 8
            restarts += 1
            position = code_at + 1
            continue
        # libjpeg ignores a restart marker after the last interval, and so do we.
        expected = _ceil_div(mcus, restart_interval) - 1 if restart_interval and mcus else None
        if expected is not None and restarts not in (expected, expected + 1):
            raise CorruptedImage("the JPEG image data is incomplete (restart markers missing)")
        return found.start()


def verify_isobmff_boxes(data: bytes) -> None:
    """libheif decodes a HEIC whose tiles are cut off, painting the missing ones green: the
    top-level boxes must account for every byte they claim."""
    position = 0
    while position < len(data):
        if len(data) - position < 8:
            raise CorruptedImage("the HEIF file ends inside a box header")
        (size,) = struct.unpack_from(">I", data, position)
        if size == 0:  # the last box runs to the end of the file
            return
        if size == 1:
            if len(data) - position < 16:
                raise CorruptedImage("the HEIF file ends inside a box header")
            (size,) = struct.unpack_from(">Q", data, position + 8)
        if size < 8 or position + size > len(data):
            raise CorruptedImage("the HEIF file is cut short")
        position += size
