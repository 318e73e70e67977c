"""Discovery, the service list and the service definitions: one service per leaf category,
grouped under its top class, every one taking the report's one field beyond Open311's base
fields (when the hazard was seen) as an optional attribute."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.models import Category
from app.open311.errors import Open311Error
from app.open311.times import w3c

SPECIFICATION: Final = "http://wiki.open311.org/GeoReport_v2"
# When this document's content last changed: the façade's first release.
CHANGESET: Final = datetime.fromisoformat("2026-12-05T00:00:00+00:00")
# Every service is answered at once with the case's number: no tokens are ever issued.
SERVICE_TYPE: Final = "realtime"

OCCURRED_AT_ATTRIBUTE: Final = {
    "variable": True,
    "code": "occurred_at",
    "datatype": "datetime",
    "required": False,
    "datatype_description": "W3C date and time with a zone, e.g. 2026-12-05T08:30:00+08:00",
    "order": 1,
    "description": "发现时间 (when the hazard was seen; default: when it is reported)",
}


def discovery(endpoint_url: str, contact: str, key_service: str) -> dict[str, Any]:
    changeset = w3c(CHANGESET)
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": endpoint_url,
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def _limits(category: Category) -> str:
    kind = "工作小时" if category.hours_kind.value == "working" else "小时"
    return (
        f"{category.name}：{category.accept_within_hours:g} {kind}内受理，"
        f"{category.resolve_within_hours:g} {kind}内办结"
    )


def _service(category: Category, group: str | None) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": _limits(category),
        "metadata": True,
        "type": SERVICE_TYPE,
        "keywords": category.name_en,
        "group": group,
    }


async def service_list(session: AsyncSession) -> list[dict[str, Any]]:
    parent = aliased(Category)
    rows = await session.execute(
        select(Category, parent.name)
        .outerjoin(parent, parent.code == Category.parent_code)
        .where(Category.is_leaf.is_(True), Category.is_active.is_(True))
        .order_by(parent.sort_order, Category.sort_order, Category.code)
    )
    return [_service(category, group) for category, group in rows]


async def service_definition(session: AsyncSession, code: str) -> dict[str, Any]:
    found = await session.scalar(
        select(Category.code).where(
            Category.code == code, Category.is_leaf.is_(True), Category.is_active.is_(True)
        )
    )
    if found is None:
        raise Open311Error(404, f"No service {code!r}: see services.json")
    return {"service_code": found, "attributes": [OCCURRED_AT_ATTRIBUTE]}
