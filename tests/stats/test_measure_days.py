"""The settled cases' measures kept per day (``case_measure_days``) against the cases they
come from.

The random walks of tests/stats/test_day_counts.py (filings, acceptances, closures, ratings,
reopenings and closures again, transfers, rejections, escalations, holds, sweeps over two weeks)
drive cases through the API. Afterwards:
- the measures kept change by change equal the measures made afresh from the cases (``python
  -m app stats rebuild-counts``);
- for every caller, filter and period (whole days, cut in the middle of days, within a day) the
  summary and the community and category sheets read with the kept days equal those read from
  the cases alone;
- the 90th percentile read from the top of the hours' index equals the one the cases' hours
  sorted give."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.measure_days import MEASURES
from app.cases.measures import kept_columns, measured_columns
from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.core.migrations import downgrade, upgrade
from app.models.stats import MEASURE_COUNTS, MEASURE_SUMS
from app.models.stats import case_measure_days as table
from app.stats import measures as stats_measures
from app.stats import summary as summaries
from app.stats.measure_days import kept_days, rebuild
from app.stats.selection import StatsQuery, one_community
from tests import pgbouncer
from tests.conftest import PG_URL
from tests.stats.test_day_counts import CALLERS, PERIODS, caller_query, walked
from tests.stats.test_stats_scenario import Scenario

__all__ = ["walked"]  # the fixture, shared with the day counts' tests
# Indexes by filing time that could answer the same read.
ALTERNATIVES = (
    "ix_reports_created",
    "ix_reports_community_created",
    "ix_reports_community_status_created",
)
# The revision before the measures were kept.
BEFORE_KEPT_MEASURES = "9d5e6f7a8b92"


async def _kept(session: AsyncSession) -> dict[tuple[Any, ...], tuple[float, ...]]:
    rows = await session.execute(select(table))
    kept = {}
    for row in rows.mappings():
        values = tuple(round(row[name], 6) for name in MEASURES)
        if any(values):
            key = (row["day_number"], row["region_id"], row["community_id"], row["category_code"])
            kept[key] = values
    return kept


def test_the_table_keeps_every_measure_the_definitions_give() -> None:
    labels = [column.name for column in kept_columns(select(*measured_columns()).subquery().c)]
    assert sorted(labels) == sorted(MEASURES) == sorted((*MEASURE_COUNTS, *MEASURE_SUMS))


async def test_the_kept_measures_equal_a_fresh_count(walked: Scenario) -> None:
    async with walked.app.state.sessionmaker() as session:
        kept = await _kept(session)
        await rebuild(session)
        fresh = await _kept(session)
        await session.rollback()
    assert kept == fresh
    status_closed = MEASURES.index("status_closed")
    assert sum(values[status_closed] for values in kept.values()) > 0


async def _sheets(session: AsyncSession, query: StatsQuery, settings: Settings) -> list[Any]:
    return [
        (await summaries.summary(session, query, settings)).model_dump(),
        (await summaries.by_community(session, query, settings)).model_dump(),
        (await summaries.by_category(session, query, settings)).model_dump(),
    ]


def _rounded(value: Any) -> Any:
    """Means are sums over two sources divided once: equal to a few units in the last place."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


@pytest.mark.parametrize("period", PERIODS)
async def test_measures_with_the_kept_days_equal_measures_of_the_cases(
    walked: Scenario, period: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    used = 0
    async with walked.app.state.sessionmaker() as session:
        for caller in CALLERS:
            query = await caller_query(session, caller, period)
            used += kept_days(query) is not None
            with monkeypatch.context() as patched:
                patched.setattr(stats_measures, "kept_days", lambda _: None)
                patched.setattr(summaries, "kept_days", lambda _: None)
                from_cases = await _sheets(session, query, walked.app.state.settings)
            # A community's staff asks with a kept plan: the summary then finds whether the
            # kept days hold many cases in the statement that reads them when they are few.
            for kept_plan in {False, one_community(query.principal)}:
                asked = replace(query, cached_plan_fits=kept_plan)
                for many in (0, 10**9):  # the kept days however few the cases; never
                    with monkeypatch.context() as patched:
                        patched.setattr(summaries, "MANY", many)
                        sheets = await _sheets(session, asked, walked.app.state.settings)
                    assert _rounded(sheets) == _rounded(from_cases), (caller, period, many)
    # The kept days answer every caller's questions of whole days, none within one day.
    assert used == (0 if period == "within one day" else len(CALLERS))


async def test_the_90th_percentile_read_from_the_top_is_the_sorted_one(
    walked: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared = 0
    async with walked.app.state.sessionmaker() as session:
        for caller in CALLERS:
            query = await caller_query(session, caller, "whole days")
            for kind in ("accept", "resolve"):
                count = (
                    await summaries.summary(session, query, walked.app.state.settings)
                ).model_dump()[f"hours_to_{kind}"]["count"]
                monkeypatch.setattr(summaries, "MANY", 10**9)
                sorted_p90 = await summaries.p90_hours(session, query, kind, count)
                monkeypatch.setattr(summaries, "MANY", 1)
                from_the_top = await summaries.p90_hours(session, query, kind, count)
                if sorted_p90 is None:
                    assert count == 0
                    assert from_the_top is None
                else:
                    assert from_the_top == pytest.approx(sorted_p90, rel=1e-12), (caller, kind)
                compared += count > 1
    assert compared > 0


@pytest.mark.skipif(not PG_URL, reason="the plan is PostgreSQL's")
async def test_the_cases_not_settled_are_read_from_their_own_index(walked: Scenario) -> None:
    async with walked.app.state.sessionmaker() as session:
        query = await caller_query(session, "staff1", "whole days")
        days = kept_days(query)
        assert days is not None
        rows = stats_measures._unkept_rows(query, (), days)
        compiled = rows.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
        )
        parameters = compiled.construct_params()
        values = tuple(parameters[name] for name in compiled.positiontup or ())
        connection = await session.connection()
        # A test's few cases give the planner no reason to prefer one index: the ones it might
        # take instead are dropped for the transaction (rolled back), and so are whole scans.
        for index in ALTERNATIVES:
            await connection.exec_driver_sql(f"DROP INDEX {index}")
        await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        result = await connection.exec_driver_sql(f"EXPLAIN {compiled.string}", values)
        plan = "\n".join(row[0] for row in result)
        # On partitioned cases each month's copy of the index has a name of its own.
        names = set(
            await session.scalars(
                text(
                    "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c"
                    " ON c.oid = i.inhrelid"
                    " WHERE i.inhparent = 'ix_reports_unsettled_created'::regclass"
                )
            )
        ) | {"ix_reports_unsettled_created"}
        await session.rollback()
    used = {line.split(" using ")[1].split()[0] for line in plan.splitlines() if " using " in line}
    assert used, plan
    assert used <= names, plan


async def _kept_and_fresh(database_url: str) -> tuple[dict[Any, Any], dict[Any, Any]]:
    engine = create_engine(Settings(env="test", database_url=database_url))
    try:
        async with create_sessionmaker(engine)() as session:
            kept = await _kept(session)
            await rebuild(session)
            fresh = await _kept(session)
            await session.rollback()
    finally:
        await engine.dispose()
    return kept, fresh


async def test_the_migration_fills_the_measures_the_service_keeps(walked: Scenario) -> None:
    """After a walk (cases filed, closed, rated, reopened, rejected through the service): what
    the service kept, what the migration fills from the cases and a fresh count are the
    same."""
    database_url = pgbouncer.direct_url(walked.app.state.settings.database_url)
    kept, fresh = await _kept_and_fresh(database_url)
    assert kept == fresh
    assert kept
    await walked.app.state.engine.dispose()  # no connection of the app's in the way
    await asyncio.to_thread(downgrade, database_url, BEFORE_KEPT_MEASURES)
    await asyncio.to_thread(upgrade, database_url)
    filled, fresh_again = await _kept_and_fresh(database_url)
    assert filled == fresh_again == fresh
