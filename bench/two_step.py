"""The two ways photos reach a report, side by side on one server: multipart with all the
photos in one request (a phone's app), and photos uploaded first, one per request as a
mini-program's ``wx.uploadFile`` sends them, then a JSON report naming them (``photo_ids``).

Budget (the README's Performance table): the two-step flow files at least 90 % of the reports/s
of multipart intake at the same photo work (9 photos a report). Also measured: the same two-step
flow with the photos made small on the phone first (the courier page's way: at most 2048 px,
JPEG at quality 85, EXIF facts sent as fields), in reports/s and bytes uploaded.

The flows alternate in rounds on the same server, so that drift of the machine touches both; the
reports/s of a flow is its reports over its wall time summed over its rounds. Used by
``bench/intake.py`` (``--two-step-reports``)."""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageOps

BUDGET_SHARE = 0.90
PHOTOS_PER_REPORT = 9
ROUNDS = 2  # per flow, alternating
PHONE_MAX_SIDE = 2048
PHONE_JPEG_QUALITY = 85


@dataclass
class Flow:
    name: str
    reports: int = 0
    seconds: float = 0.0
    bytes_sent: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def reports_per_s(self) -> float:
        return self.reports / self.seconds if self.seconds else 0.0


def phone_resized(photo: bytes) -> bytes:
    """The photo as the courier page sends it: turned upright, at most 2048 px, JPEG 85."""
    with Image.open(io.BytesIO(photo)) as original:
        image = ImageOps.exif_transpose(original)
        image.thumbnail((PHONE_MAX_SIDE, PHONE_MAX_SIDE))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=PHONE_JPEG_QUALITY)
        return out.getvalue()


def _fields(lat: float, lng: float, category: str) -> dict[str, str]:
    return {
        "category_code": category,
        "description": "电动车乱停放，堵住了消防通道 (bench)",
        "lat": str(lat),
        "lng": str(lng),
    }


def multipart(fields: dict[str, str], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A multipart body, built once and sent as it is: (field name, JPEG bytes) for files."""
    boundary = uuid.uuid4().hex
    parts = io.BytesIO()
    for name, value in fields.items():
        parts.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        )
        parts.write(value.encode() + b"\r\n")
    for index, (name, data) in enumerate(files):
        parts.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="p{index}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
        )
        parts.write(data + b"\r\n")
    parts.write(f"--{boundary}--\r\n".encode())
    return parts.getvalue(), f"multipart/form-data; boundary={boundary}"


# (path, content type, body, Idempotency-Key) → (status, answer): one request on a new
# connection, by the intake bench's lean client (a general-purpose client's CPU would be taken
# from the server's, and more of it by the flow that sends more requests).
Call = Callable[[str, str, bytes, str], Awaitable[tuple[int, bytes]]]


@dataclass(frozen=True)
class Bodies:
    report: tuple[bytes, str]  # multipart, with the photos
    upload: tuple[bytes, str]  # one photo, as wx.uploadFile sends it
    form: dict[str, str]


def bodies(photo: bytes, form: dict[str, str]) -> Bodies:
    return Bodies(
        report=multipart(form, [("photos", photo)] * PHOTOS_PER_REPORT),
        upload=multipart({"taken_lat": form["lat"], "taken_lng": form["lng"]}, [("file", photo)]),
        form=form,
    )


async def _multipart(call: Call, sent: Bodies) -> tuple[int, int]:
    body, content_type = sent.report
    status, _ = await call("/api/v1/reports", content_type, body, uuid.uuid4().hex)
    return status, len(body)


async def _two_step(call: Call, sent: Bodies) -> tuple[int, int]:
    body, content_type = sent.upload
    ids = []
    for _ in range(PHOTOS_PER_REPORT):
        status, answer = await call("/api/v1/uploads", content_type, body, uuid.uuid4().hex)
        if status != 201:
            return status, 0
        ids.append(json.loads(answer)["id"])
    form = sent.form
    report = json.dumps(
        {**form, "lat": float(form["lat"]), "lng": float(form["lng"]), "photo_ids": ids}
    ).encode()
    status, _ = await call("/api/v1/reports", "application/json", report, uuid.uuid4().hex)
    return status, PHOTOS_PER_REPORT * len(body) + len(report)


Filing = Callable[[Call, Bodies], Awaitable[tuple[int, int]]]


async def _round(
    call: Call, flow: Flow, filing: Filing, sent_bodies: Bodies, reports: int, clients: int
) -> None:
    queue = iter(range(reports))

    async def client() -> None:
        for _ in queue:
            status, sent = await filing(call, sent_bodies)
            if status == 201:
                flow.reports += 1
                flow.bytes_sent += sent
            else:
                flow.failures.append(str(status))

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    flow.seconds += time.perf_counter() - started


async def compare(
    call: Call,
    photo: bytes,
    point: tuple[float, float],
    category: str,
    reports: int,
    clients: int,
) -> dict[str, Any]:
    """``reports`` reports per flow and round; the figures of each flow and the ratio."""
    form = _fields(*point, category)
    small = phone_resized(photo)
    as_taken, as_resized = bodies(photo, form), bodies(small, form)
    flows = {
        "multipart": (Flow("multipart"), _multipart, as_taken),
        "two_step": (Flow("two_step"), _two_step, as_taken),
        "two_step_phone_resized": (Flow("two_step_phone_resized"), _two_step, as_resized),
    }
    for _, filing, sent in flows.values():  # warm-up, not counted
        await filing(call, sent)
    for _ in range(ROUNDS):
        for flow, filing, sent in flows.values():
            await _round(call, flow, filing, sent, reports, clients)
    multipart, two_step, resized = (flows[name][0] for name in flows)
    ratio = two_step.reports_per_s / multipart.reports_per_s if multipart.reports_per_s else 0.0
    return {
        "photos_per_report": PHOTOS_PER_REPORT,
        "reports_per_flow": reports * ROUNDS,
        "clients": clients,
        "flows": {
            flow.name: {
                "reports_per_s": round(flow.reports_per_s, 3),
                "seconds": round(flow.seconds, 2),
                "bytes_per_report": flow.bytes_sent // max(flow.reports, 1),
                "failures": len(flow.failures),
                "failure_examples": sorted(set(flow.failures))[:5],
            }
            for flow in (multipart, two_step, resized)
        },
        "phone_photo_bytes": {"original": len(photo), "resized": len(small)},
        "ratio_two_step_to_multipart": round(ratio, 3),
        "budget": {"share": BUDGET_SHARE, "within": ratio >= BUDGET_SHARE},
        "phone_resized_speedup": round(
            resized.reports_per_s / two_step.reports_per_s if two_step.reports_per_s else 0.0, 2
        ),
    }
