"""Fixtures of the fuzzing tests: one served app per caller, each on its own cloned demo
database, made once per test process; and a summary of what the fuzzer sent."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Generator
from typing import Any

import pytest

from tests.conftest import DatabaseFactory
from tests.fuzz.world import World, build_world

STATUSES = "fuzz-statuses"


class Worlds:
    """The worlds made so far, by caller. Kept for the whole session: xdist may hand a process
    one caller's operations, then another's, then the first's again."""

    def __init__(self, databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory):
        self.databases = databases
        self.tmp_path_factory = tmp_path_factory
        self.made: dict[str | None, tuple[World, str]] = {}

    async def get(self, role: str | None) -> World:
        if role not in self.made:
            url = await self.databases.clone_template()
            workdir = self.tmp_path_factory.mktemp(f"fuzz-{role or 'anonymous'}")
            self.made[role] = (await build_world(role, url, workdir), url)
        return self.made[role][0]

    async def close(self) -> None:
        for world, url in self.made.values():
            await world.server.stop()
            await self.databases.drop(url)


@pytest.fixture(scope="session")
async def worlds(
    database_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Worlds]:
    made = Worlds(database_factory, tmp_path_factory)
    yield made
    await made.close()


@pytest.fixture(scope="module")
async def world(request: pytest.FixtureRequest, worlds: Worlds) -> World:
    """The app as ``request.param`` (a demo account, or None for anonymous) sees it. A database
    of its own per caller: what one caller's fuzzing changes (an administrator deactivating
    staff1, say) does not decide what another's meets."""
    return await worlds.get(request.param)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Each fuzzed operation's report carries the statuses its requests got: reports travel
    from xdist's workers, so the summary counts them however the tests were spread."""
    report = yield
    world = getattr(item, "funcargs", {}).get("active")
    label = getattr(item, "operation_label", None)
    if call.when == "call" and isinstance(world, World) and label:
        statuses = world.statuses.pop(label, Counter())
        report.user_properties.append((STATUSES, dict(statuses)))
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """What the fuzzer sent and what came back; with -v, the runs that never got a 2xx."""
    runs = {
        report.nodeid: Counter(value)
        for reports in terminalreporter.stats.values()
        for report in reports
        for name, value in getattr(report, "user_properties", ())
        if name == STATUSES
    }
    if not runs:
        return
    totals: Counter[int] = Counter()
    for statuses in runs.values():
        totals.update(statuses)
    cases = sum(totals.values())
    successes = sum(n for status, n in totals.items() if 200 <= status < 300)
    missed = sorted(node for node, statuses in runs.items() if not _succeeded(statuses))
    write = terminalreporter.write_line
    terminalreporter.write_sep("-", "OpenAPI fuzzing")
    write(
        f"{len(runs)} operation runs, {cases} requests; {successes} answered 2xx "
        f"({successes / max(cases, 1):.0%}); {len(runs) - len(missed)} runs got a 2xx"
    )
    write("by status: " + ", ".join(f"{status}: {n}" for status, n in sorted(totals.items())))
    if terminalreporter.verbosity > 0:
        for node in missed:
            answered = ", ".join(f"{s}: {n}" for s, n in sorted(runs[node].items()))
            write(f"no 2xx: {node.split('::')[-1]} ({answered})")


def _succeeded(statuses: Counter[int]) -> bool:
    return any(200 <= status < 300 for status in statuses)
