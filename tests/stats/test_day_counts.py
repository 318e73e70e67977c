"""The events counted per day (``case_day_counts``) against the cases they count.

Random walks of actions, seeded, drive cases of two communities through the API over two weeks
of a frozen clock (filings, acceptances, closures, reopenings and closures again, transfers to
the other community, escalations to the town and the banner, holds, overdue sweeps), most
actions refused along the way as people act out of turn. Afterwards:
- the counts kept action by action equal the counts made afresh from the cases
  (``python -m app stats rebuild-counts``);
- for every metric, caller and filter, the series read from the counts equals the series
  counted from the cases, for periods of whole days and periods cut in the middle of a day."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.service import load_grants
from app.main import create_app
from app.models import CaseDayCount, User
from app.models.enums import StatsMetric
from app.stats.day_counts import events_per_day, rebuild
from app.stats.selection import StatsQuery, region_filter, scope_of
from tests.conftest import DatabaseFactory, make_test_settings
from tests.reports.conftest import SubmitFn, submit  # noqa: F401  (the fixture)
from tests.stats.test_stats_scenario import (
    API,
    BANNER,
    EAST,
    EAST_POINT,
    LIGHT,
    MANHOLE,
    NORTH,
    NORTH_POINT,
    SHANBA,
    UNIT_IDS,
    Scenario,
    china,
    photos,
)
from tests.support import command_env, run_command

START = china(9, 7, 8)
PLACES = {"east": (EAST, EAST_POINT, "staff1"), "north": (NORTH, NORTH_POINT, "staff2")}
REASON = {"reason": "随机动作"}


async def _try(scenario: Scenario, user: str, path: str, **kwargs: Any) -> None:
    response = await scenario.client.post(f"{API}{path}", headers=scenario.headers[user], **kwargs)
    assert response.status_code < 500, (path, response.text)


# The actions that take a case on from each status, and all of them: a step takes the case on
# most of the time, and tries anything now and then.
ONWARD = {
    "submitted": ["accept", "accept", "accept", "transfer", "transfer", "reject"],
    "accepted": ["start", "whistle", "escalate", "hold"],
    "in_progress": ["resolve", "resolve", "escalate", "hold"],
    "dispatched": ["complete", "complete", "escalate"],
    "on_hold": ["resume"],
    "resolved": ["verify"],
    "closed": ["reopen", "reopen", "rate"],
}
ANY = sorted({action for actions in ONWARD.values() for action in actions})


async def _step(scenario: Scenario, rng: random.Random, case: str) -> None:
    base = f"/reports/{scenario.cases[case]}"
    report = await scenario.get(base)
    action = rng.choice(ONWARD.get(report["status"], ANY) if rng.random() < 0.8 else ANY)
    # Mostly the case's own community's staff; now and then the other community's.
    own = "staff1" if report["community"]["id"] == str(EAST) else "staff2"
    staff = own if rng.random() < 0.85 else rng.choice(["staff1", "staff2"])
    if action in ("accept", "start"):
        await _try(scenario, staff, f"{base}/{action}", json={})
    elif action in ("reject", "reopen"):
        await _try(scenario, staff, f"{base}/{action}", json=REASON)
    elif action in ("hold", "escalate"):
        await _try(scenario, rng.choice([staff, "supervisor"]), f"{base}/{action}", json=REASON)
    elif action == "resume":
        await _try(scenario, "supervisor", f"{base}/resume", json={})
    elif action == "rate":
        await _try(scenario, "courier1", f"{base}/rate", json={"satisfaction": "satisfied"})
    elif action == "transfer":
        to = {"community_id": str(rng.choice([EAST, NORTH])), **REASON}
        await _try(scenario, staff, f"{base}/transfer", json=to)
    elif action == "resolve":
        await _try(scenario, staff, f"{base}/resolve", data={"note": "已处理"}, files=photos())
    elif action == "verify":
        passed = rng.choice(["true", "true", "false"])
        await _try(scenario, staff, f"{base}/verify", data={"passed": passed})
    elif action == "whistle":
        units = {"unit_ids": [str(UNIT_IDS["旗农牧和科技局"])]}
        await _try(scenario, staff, f"{base}/whistle", json=units)
    else:
        listed = await scenario.get("/jobs", report_id=scenario.cases[case])
        for job in listed["items"]:
            if job["status"] == "pending":
                await _try(scenario, "unit1", f"/jobs/{job['id']}/accept", json={})
            elif job["status"] == "accepted":
                path = f"/jobs/{job['id']}/complete"
                await _try(scenario, "unit1", path, data={"note": "已办结"}, files=photos())


async def _walk(scenario: Scenario, seed: int) -> None:
    rng = random.Random(seed)
    for number in range(5):
        community, point, _ = PLACES[rng.choice(list(PLACES))]
        at = START + timedelta(hours=rng.uniform(0, 48))
        await scenario.file(
            at, f"c{number}", "courier1", rng.choice([MANHOLE, LIGHT]), point, community
        )
    moment = START + timedelta(hours=49)
    for _ in range(150):
        # Some steps an hour apart, some across a night or a weekend.
        moment += timedelta(hours=rng.choice([0.5, 1, 3, 9, 15, 40]))
        scenario.clock.at = moment
        await _step(scenario, rng, rng.choice(list(scenario.cases)))
        if rng.random() < 0.2:
            await scenario.sweep(moment)
    await scenario.sweep(moment + timedelta(hours=1))


@pytest.fixture(scope="module", params=[7, 2026])
async def walked(
    request: pytest.FixtureRequest,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Scenario]:
    url = await database_factory.clone_template()
    app = create_app(make_test_settings(url, tmp_path_factory.mktemp("day_counts")))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            scenario = Scenario(app, client)
            await scenario.sign_in()
            await _walk(scenario, request.param)
            yield scenario
    finally:
        app.state.photo_pool.shutdown()
        await app.state.engine.dispose()
        await database_factory.drop(url)


async def _kept(session: AsyncSession) -> dict[tuple[Any, ...], int]:
    rows = await session.execute(select(CaseDayCount))
    return {
        (c.metric, c.day_number, c.region_id, c.community_id): c.count
        for c in rows.scalars()
        if c.count
    }


async def test_the_kept_counts_equal_a_fresh_count(walked: Scenario) -> None:
    async with walked.app.state.sessionmaker() as session:
        kept = await _kept(session)
        await rebuild(session)
        fresh = await _kept(session)
        await session.rollback()
    assert kept == fresh
    metrics = {key[0] for key in kept}
    assert metrics >= {"submitted", "accepted", "closed"}, metrics


async def _principal(session: AsyncSession, username: str) -> Principal:
    user = (await session.scalars(select(User).where(User.username == username))).one()
    return Principal(user_id=user.id, username=username, grants=await load_grants(session, user.id))


PERIODS = {
    "whole days": (china(9, 7, 0), china(9, 28, 0)),
    "cut in the middle of days": (china(9, 8, 13, 30), china(9, 19, 7, 45)),
    "within one day": (china(9, 10, 9), china(9, 10, 17)),
}
CALLERS = {
    "supervisor": {},
    "supervisor, the town": {"region_id": SHANBA},
    "supervisor, the banner": {"region_id": BANNER},
    "supervisor, 东街": {"community_id": EAST},
    "staff1": {},
    "staff2": {},
}


async def caller_query(session: AsyncSession, caller: str, period: str) -> StatsQuery:
    """What ``caller`` (a key of CALLERS) asks of the period (a key of PERIODS), at its end."""
    start, end = PERIODS[period]
    filters = CALLERS[caller]
    principal = await _principal(session, caller.split(",")[0])
    region_id: uuid.UUID | None = filters.get("region_id")
    return StatsQuery(
        principal=principal,
        start=start,
        end=end,
        now=end,
        scope=await scope_of(session, principal),
        region=None if region_id is None else await region_filter(session, region_id),
        region_id=region_id,
        community_id=filters.get("community_id"),
    )


@pytest.mark.parametrize("period", PERIODS)
async def test_series_from_the_counts_equal_series_from_the_cases(
    walked: Scenario, period: str
) -> None:
    compared = 0
    async with walked.app.state.sessionmaker() as session:
        for caller in CALLERS:
            query = await caller_query(session, caller, period)
            for metric in StatsMetric:
                from_counts = await events_per_day(session, query, metric)
                from_cases = await events_per_day(session, query, metric, use_table=False)
                assert from_counts == from_cases, (caller, metric)
                compared += sum(from_cases.values())
    if period != "within one day":
        assert compared > 0


async def test_the_command_counts_again_what_the_service_kept(
    database_url: str,
    submit: SubmitFn,  # noqa: F811
    session: AsyncSession,
) -> None:
    """After a load that bypassed the service (here: the table emptied), `python -m app stats
    rebuild-counts` writes the counts the service would have kept."""
    for _ in range(2):
        assert (await submit("courier1")).status_code == 201
    kept = await _kept(session)
    assert sum(n for key, n in kept.items() if key[0] == "submitted") >= 2
    await session.execute(delete(CaseDayCount))
    await session.commit()
    status, printed = await run_command("stats", "rebuild-counts", env=command_env(database_url))
    assert status == 0, printed
    assert "case_day_counts:" in printed
    session.expire_all()
    assert await _kept(session) == kept
