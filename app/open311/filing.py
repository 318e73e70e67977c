"""Filing a service request (``POST requests``): Open311's form read into the native submission,
which then takes the native path — the same checks, routing, duplicates, numbering, idempotency
and workflow as a report from the app.

Open311 differs from the app in four ways, each decided here: the caller is an integration's
filing key (not a person); the photo is optional (``media``), a ``media_url`` is kept as a link
and never fetched; the person it is filed for comes as contact fields, kept beside the case as
personal data; and a location may be an ``address_string`` alone — this server does not
geocode, so the address must name a community of the key's region, whose centre is used."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile

from app.auth.keys import Filer, filing_key_holder
from app.core.config import Settings
from app.core.errors import Forbidden, Unauthorized
from app.core.geo import CoordSystem
from app.core.workcalendar import CHINA_TZ
from app.models import Category, Community, Region
from app.open311.errors import Open311Error
from app.open311.params import check_jurisdiction
from app.open311.times import read_w3c
from app.photos.uploads import UploadedPhoto
from app.reports.submission import Contact, ReportSubmission, ThroughIntegration

MAX_DESCRIPTION: Final = 4000  # the specification's limit
MAX_ADDRESS: Final = 300  # a case's address
MAX_MEDIA_URL: Final = 2000
FORM_TYPES: Final = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# The specification's fields, a few attributes and room for a client's own: far fewer than this.
MAX_FORM_FIELDS: Final = 100
# Each contact field and its longest value.
CONTACT_FIELDS: Final = {
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "phone": 40,
    "device_id": 200,
    "account_id": 200,
}
ATTRIBUTE: Final = re.compile(r"attribute\[(.*)\]")
# What the services' definitions offer (app/open311/services.py).
KNOWN_ATTRIBUTES: Final = frozenset({"occurred_at"})
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_PHONE: Final = re.compile(r"\+?[0-9][0-9 ()\-]{2,38}")


@dataclass(frozen=True)
class Filing:
    """A checked request: who files it, and the submission for the native path."""

    filer: Filer
    submission: ReportSubmission
    account_id: str | None


class _Form:
    """The request's text fields (body first, then query string), trimmed; empty is absent."""

    def __init__(self, form: FormData, query: dict[str, str]) -> None:
        self.form = form
        self.query = query

    def text(self, name: str, longest: int | None = None) -> str | None:
        value = self.form.get(name)
        if isinstance(value, UploadFile):
            raise Open311Error(400, f"{name}: expected text, not a file")
        if value is None:
            value = self.query.get(name)
        value = (value or "").strip()
        if longest is not None and len(value) > longest:
            raise Open311Error(400, f"{name}: at most {longest:,} characters")
        return value or None


async def _filer(session: AsyncSession, api_key: str | None, now: datetime) -> Filer:
    if not api_key:
        raise Open311Error(403, "api_key is required to file a service request")
    try:
        return await filing_key_holder(session, api_key, now)
    except (Unauthorized, Forbidden) as exc:
        raise Open311Error(403, f"api_key: {exc.detail}") from None


async def _service(session: AsyncSession, code: str | None) -> Category:
    if code is None:
        raise Open311Error(400, "service_code is required: see services.json")
    category = await session.get(Category, code)
    if category is None or not category.is_leaf or not category.is_active:
        raise Open311Error(400, f"service_code: no service {code!r}; see services.json")
    return category


def _coordinate(name: str, text: str, limit: float) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > limit:
        raise Open311Error(400, f"{name}: a WGS-84 number from -{limit:g} to {limit:g}")
    return value


async def _community_named(
    session: AsyncSession, address: str, region_path: str
) -> tuple[float, float]:
    """The centre of the community of the key's region that the address names (the longest
    name found in it, so 东街社区 wins over 东街)."""
    rows = await session.execute(
        select(Community.name, Community.center_lat, Community.center_lng)
        .join(Region, Region.id == Community.region_id)
        .where(
            Region.path.startswith(region_path),
            Community.center_lat.is_not(None),
            Community.center_lng.is_not(None),
            func.length(Community.name) <= len(address),
        )
    )
    named = [row for row in rows if row.name in address]
    if not named:
        raise Open311Error(
            400,
            "address_string names no community of this key's region, and addresses are not "
            "geocoded here: send lat and long, or name the community",
        )
    best = max(named, key=lambda row: len(row.name))
    return float(best.center_lat), float(best.center_lng)


async def _location(
    session: AsyncSession, fields: _Form, region_path: str
) -> tuple[float, float, str | None]:
    lat_text, long_text = fields.text("lat"), fields.text("long")
    address = fields.text("address_string", MAX_ADDRESS)
    if lat_text is not None or long_text is not None:
        if lat_text is None or long_text is None:
            raise Open311Error(400, "lat and long: send both, or an address_string")
        return _coordinate("lat", lat_text, 90), _coordinate("long", long_text, 180), address
    if address is None:
        raise Open311Error(400, "a location is required: lat and long, or address_string")
    lat, lng = await _community_named(session, address, region_path)
    return lat, lng, address


def _media_url(text: str | None) -> str | None:
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", text):
        raise Open311Error(400, "media_url: an http or https URL")
    return text


def _contact(fields: _Form) -> Contact:
    values = {name: fields.text(name, longest) for name, longest in CONTACT_FIELDS.items()}
    if values["email"] is not None and not _EMAIL.fullmatch(values["email"]):
        raise Open311Error(400, "email: not an email address")
    if values["phone"] is not None and not _PHONE.fullmatch(values["phone"]):
        raise Open311Error(400, "phone: digits, spaces, brackets and dashes, perhaps a +")
    return Contact(**values)


def _occurred_at(form: FormData) -> datetime | None:
    occurred_at = None
    for name in form:
        match = ATTRIBUTE.fullmatch(name)
        if match is None:
            continue
        if match.group(1) not in KNOWN_ATTRIBUTES:
            raise Open311Error(400, f"{name}: no such attribute; see the service's definition")
        value = form.get(name)
        if isinstance(value, UploadFile):
            raise Open311Error(400, f"{name}: expected text, not a file")
        occurred_at = read_w3c(name, value)
    return occurred_at


async def _media(form: FormData) -> list[UploadedPhoto]:
    # A form's file input left empty sends an empty part: no photo, as if it were not there.
    files = [part for part in form.getlist("media") if part != ""]
    if len(files) > 1:
        raise Open311Error(400, "media: one file")
    if not files:
        return []
    (media,) = files
    if not isinstance(media, UploadFile):
        raise Open311Error(400, "media: a file (multipart/form-data), not text")
    data = await media.read()
    return [UploadedPhoto(filename=media.filename, data=data)] if data or media.filename else []


def check_form_type(content_type: str | None) -> None:
    """Open311 files with a form; a body of another type (JSON) is refused, not read as empty."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type and media_type not in FORM_TYPES:
        raise Open311Error(
            400, "send the request as application/x-www-form-urlencoded or multipart/form-data"
        )


async def read_filing(
    session: AsyncSession,
    settings: Settings,
    form: FormData,
    query: dict[str, str],
    now: datetime,
) -> Filing:
    """The request checked (403 for the key, 400 for its fields), as a native submission."""
    fields = _Form(form, query)
    filer = await _filer(session, fields.text("api_key"), now)
    check_jurisdiction(settings, fields.text("jurisdiction_id"))
    category = await _service(session, fields.text("service_code"))
    lat, lng, address = await _location(session, fields, filer.region_path)
    contact = _contact(fields)
    through = ThroughIntegration(
        api_key_id=filer.api_key_id,
        name=filer.integration,
        region_path=filer.region_path,
        media_url=_media_url(fields.text("media_url", MAX_MEDIA_URL)),
        contact=contact,
    )
    submission = ReportSubmission(
        category_code=category.code,
        # Open311's description is optional; a case always says what it is about.
        description=fields.text("description", MAX_DESCRIPTION) or category.name,
        lat=lat,
        lng=lng,
        coord_system=CoordSystem.wgs84,
        address=address,
        occurred_at=_occurred_at(form),
        grid_id=None,
        source=None,
        photos=await _media(form),
        integration=through,
    )
    return Filing(filer, submission, contact.account_id)


def notice(created: dict[str, Any]) -> str:
    """What the filer is told: the case's number, who handles it and by when it is accepted."""
    place = (created.get("community") or created["region"])["name"]
    accept_by = next(
        (d["due_at"] for d in created["deadlines"] if d["kind"] == "accept" and d["due_at"]), None
    )
    told = f"已登记为案件 {created['number']}，由{place}处理"
    if accept_by is not None:
        due = datetime.fromisoformat(accept_by).astimezone(CHINA_TZ)
        told += f"，{due:%Y-%m-%d %H:%M}（北京时间）前受理"
    return told + "。"
