"""Path parameters (and the moments of query filters), typed and described once for every
router.

A route names its path parameters with these instead of a bare ``uuid.UUID``: the OpenAPI
document then says what each id points at, and a client generator gets the same description
on every operation that takes it. An id that does not parse is a 422 naming ``path``; one that
parses but names nothing the caller may see is the route's 404."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated

from fastapi import Path
from pydantic import BeforeValidator

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# RFC 3339: a date, a time and a zone. A "+" a client did not encode arrives as a space.
RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+ -]\d{2}:\d{2})"
)


def _written_as_a_date(value: object) -> object:
    """Pydantic also reads a number as the Unix time of a midnight: ``/admin/calendar/9.466848e8``
    set 1 January 2000, and ``/admin/calendar/4e-239``, a year that is not a whole number (the
    year's route does not match it), read 1 January 1970."""
    if isinstance(value, str) and not ISO_DATE.fullmatch(value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


def _written_as_a_moment(value: object) -> object:
    """A moment in a query is written in RFC 3339 with its zone. Pydantic would also read a
    number as a Unix time (``created_from=1700000000``) and a time without a zone as local to
    nobody knows where."""
    if value is None:
        return value
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        raise ValueError(
            "a time is written in RFC 3339 with its zone, e.g. 2026-12-04T08:00:00+08:00"
        )
    if value[-6] == " ":
        return f"{value[:-6]}+{value[-5:]}"
    return value


Moment = Annotated[dt.datetime | None, BeforeValidator(_written_as_a_moment)]
"""An optional moment of a query's filter (RFC 3339 with its zone)."""

ReportId = Annotated[uuid.UUID, Path(description="The report (case)")]
JobId = Annotated[uuid.UUID, Path(description="The job: one unit's part in a case")]
PhotoId = Annotated[uuid.UUID, Path(description="The photo")]
UserId = Annotated[uuid.UUID, Path(description="The user account")]
RoleAssignmentId = Annotated[uuid.UUID, Path(description="The user's role assignment")]
ApiKeyId = Annotated[uuid.UUID, Path(description="The dashboard API key")]
RegionId = Annotated[uuid.UUID, Path(description="The region (banner, township, …)")]
CommunityId = Annotated[uuid.UUID, Path(description="The community (社区 or 村/嘎查)")]
GridId = Annotated[uuid.UUID, Path(description="The grid, a part of a community")]
UnitId = Annotated[uuid.UUID, Path(description="The unit (a department or company)")]
PairingId = Annotated[uuid.UUID, Path(description="The pairing of a community with a unit")]
CourierCompanyId = Annotated[uuid.UUID, Path(description="The courier company")]
CourierBranchId = Annotated[uuid.UUID, Path(description="The courier company's branch")]
CheckInId = Annotated[uuid.UUID, Path(description="The courier's check-in with a community")]
WebhookId = Annotated[uuid.UUID, Path(description="The webhook")]
DeliveryId = Annotated[uuid.UUID, Path(description="The webhook's delivery")]
CategoryCode = Annotated[str, Path(description="The category's code", examples=["chaotic_parking"])]
Year = Annotated[int, Path(description="The year", examples=[2027])]
Day = Annotated[
    dt.date,
    BeforeValidator(_written_as_a_date),
    Path(description="The day, YYYY-MM-DD", examples=["2027-02-10"]),
]
