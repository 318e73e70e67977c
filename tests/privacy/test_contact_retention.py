"""The contact an integration filed a case for (Open311's name, email, phone, device and account)
is personal data of someone with no account here: the worker erases it once the case has been
over for the retention period. The case, and which integration filed it, stay; an open case
keeps its contact however old it is, and a retention period of 0 keeps every contact."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.demo.keys import DEMO_FILING_KEY
from app.models import IntegrationFiling, Report
from app.models.enums import ReportStatus
from app.privacy.retention import prune_personal_data
from tests.conftest import LoginFn
from tests.reports.conftest import COMMUNITY_1_POINT

NOW = datetime.now(UTC).replace(microsecond=0)
CONTACT = {
    "first_name": "三",
    "last_name": "张",
    "email": "zhangsan@example.com",
    "phone": "13912345678",
    "device_id": "device-7",
    "account_id": "hotline-42",
}


async def _file(client: httpx.AsyncClient) -> str:
    """A case filed by the demo's 12345 hotline with a contact: its id."""
    lat, lng = COMMUNITY_1_POINT
    filed = await client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": DEMO_FILING_KEY,
            "service_code": "piled_rubbish",
            "lat": str(lat),
            "long": str(lng),
            **CONTACT,
        },
    )
    assert filed.status_code == 200, filed.text
    number: str = filed.json()[0]["service_request_id"]
    return number


async def _ended_long_ago(db: AsyncSession, number: str, status: ReportStatus, days: int) -> None:
    await db.execute(
        update(Report)
        .where(Report.number == number)
        .values(status=status, updated_at=NOW - timedelta(days=days))
    )
    await db.commit()


async def _contact(client: httpx.AsyncClient, login: LoginFn, number: str) -> dict[str, object]:
    admin = await login("admin")
    found = await client.get("/api/v1/reports", params={"q": number}, headers=admin)
    (case,) = found.json()["items"]
    answer = await client.get(
        f"/api/v1/reports/{case['id']}/contact", params={"unmasked": "true"}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


async def test_a_contact_is_erased_once_its_case_has_long_been_over(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
) -> None:
    over = await _file(client)
    still_open = await _file(client)
    over_lately = await _file(client)
    old = settings.retention_days + 1
    await _ended_long_ago(session, over, ReportStatus.closed, old)
    await _ended_long_ago(session, still_open, ReportStatus.submitted, old)
    await _ended_long_ago(session, over_lately, ReportStatus.rejected, 1)

    pruned = await prune_personal_data(app.state.sessionmaker, settings, NOW)

    assert pruned.deleted == {"integration_contacts": 1}
    erased = await _contact(client, login, over)
    assert {name: erased[name] for name in CONTACT} == dict.fromkeys(CONTACT)
    assert erased["erased_at"] is not None
    assert erased["integration"] == "12345 市民热线 - 杭锦后旗"  # how it came in stays
    for kept in (still_open, over_lately):
        contact = await _contact(client, login, kept)
        assert {name: contact[name] for name in CONTACT} == CONTACT
        assert contact["erased_at"] is None
    # A second pass finds nothing more to erase.
    again = await prune_personal_data(app.state.sessionmaker, settings, NOW)
    assert "integration_contacts" not in again.deleted


async def test_a_retention_period_of_0_keeps_every_contact(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    settings_for: Callable[..., Settings],
    database_url: str,
) -> None:
    number = await _file(client)
    await _ended_long_ago(session, number, ReportStatus.closed, 10_000)
    keep_all = settings_for(database_url, retention_days=0)

    pruned = await prune_personal_data(app.state.sessionmaker, keep_all, NOW)

    assert "integration_contacts" not in pruned.deleted
    phone = await session.scalar(
        select(IntegrationFiling.phone)
        .join(Report, Report.id == IntegrationFiling.report_id)
        .where(Report.number == number)
    )
    assert phone == CONTACT["phone"]
