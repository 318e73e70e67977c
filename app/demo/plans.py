"""How each case of the demo month goes (app/demo/activity.py): its steps in time, by fate."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from app.demo.organisation import organisation
from app.demo.seed import demo_id


@dataclass
class Step:
    at: datetime
    act: Callable[[], Awaitable[None]]


@dataclass
class Story:
    """One case on its way: what it needs from the earlier steps."""

    community: str
    staff: str
    reporter: str
    category: str
    description: str
    lat: float
    lng: float
    report_id: str = ""
    jobs: dict[str, str] = field(default_factory=dict)  # unit account → job id


class Player(Protocol):
    rng: random.Random

    async def _call(self, username: str, path: str, **kwargs: Any) -> dict[str, Any]: ...

    def _photos(self) -> list[tuple[str, tuple[str, bytes, str]]]: ...


def paired_units(community: str, category: str) -> list[str]:
    """The accounts of the units paired with the community for the category."""
    org = organisation()
    usernames = {unit.name: unit.staff_username for unit in org.units}
    return [
        usernames[pairing.unit]
        for pairing in org.pairings
        if pairing.community == community
        and (pairing.category_codes is None or category in pairing.category_codes)
    ]


RATINGS = (("satisfied", 70), ("basically_satisfied", 20), ("unsatisfied", 10))


class Plan:
    """The steps of one story, each some hours after the one before."""

    def __init__(self, player: Player, story: Story, filed: datetime) -> None:
        self.player, self.story, self.at = player, story, filed
        self.rng = player.rng
        self.out: list[Step] = []

    def _then(self, hours: tuple[float, float], act: Callable[[], Awaitable[None]]) -> None:
        self.at += timedelta(hours=self.rng.uniform(*hours))
        self.out.append(Step(self.at, act))

    async def _file(self) -> None:
        story = self.story
        report = await self.player._call(
            story.reporter,
            "/reports",
            data={
                "category_code": story.category,
                "description": story.description,
                "lat": str(story.lat),
                "lng": str(story.lng),
            },
            files=self.player._photos(),
        )
        story.report_id = report["id"]

    def _report(self, username: str, action: str, **kwargs: Any) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            await self.player._call(username, f"/reports/{self.story.report_id}/{action}", **kwargs)

        return act

    def _job(self, unit: str, action: str, **kwargs: Any) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            await self.player._call(unit, f"/jobs/{self.story.jobs[unit]}/{action}", **kwargs)

        return act

    def _with_photos(self, unit: str, action: str, note: str) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            await self.player._call(
                unit,
                f"/jobs/{self.story.jobs[unit]}/{action}",
                data={"note": note},
                files=self.player._photos(),
            )

        return act

    def _whistle(self, units: list[str]) -> Callable[[], Awaitable[None]]:
        ids = {unit.staff_username: unit.name for unit in organisation().units}

        async def act() -> None:
            unit_ids = [await self._unit_id(ids[unit]) for unit in units]
            answer = await self.player._call(
                self.story.staff,
                f"/reports/{self.story.report_id}/whistle",
                json={"unit_ids": unit_ids, "note": "请结对单位报到处置"},
            )
            by_id = dict(zip(unit_ids, units, strict=True))
            self.story.jobs = {by_id[job["unit"]["id"]]: job["id"] for job in answer["jobs"]}

        return act

    async def _unit_id(self, name: str) -> str:
        return str(demo_id("unit", name))  # the seed derives its ids from names

    def _verify(self, passed: bool) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            await self.player._call(
                self.story.staff,
                f"/reports/{self.story.report_id}/verify",
                data={"passed": "true" if passed else "false", "note": "现场核查"},
                files=self.player._photos() if passed else None,
            )

        return act

    def _rate(self) -> None:
        if self.rng.random() < 0.7:
            level = self.rng.choices([r for r, _ in RATINGS], [w for _, w in RATINGS])[0]
            self._then(
                (1, 30), self._report(self.story.reporter, "rate", json={"satisfaction": level})
            )

    # long: one branch per fate, each a few steps in the order people take them
    def steps(self, fate: str) -> list[Step]:
        story = self.story
        self.out.append(Step(self.at, self._file))
        if fate == "submitted":
            return self.out
        if fate == "rejected":
            self._then(
                (0.5, 20),
                self._report(story.staff, "reject", json={"reason": "照片无法核实，请重新上报"}),
            )
            return self.out
        self._then((0.3, 30), self._report(story.staff, "accept", json={}))
        units = paired_units(story.community, story.category)
        if fate == "accepted":
            return self.out
        if fate in ("closed_in_house", "resolved") or not units:
            self._then((0.5, 8), self._report(story.staff, "start", json={}))
            self._then((2, 40), self._resolve_in_house())
            if fate != "resolved":
                self._then((1, 20), self._verify(True))
                self._rate()
            return self.out
        lead = self.rng.choice(units)
        others = [u for u in units if u != lead]
        called = [lead] + (
            [self.rng.choice(others)] if fate == "declined_then_done" and others else []
        )
        self._then((0.5, 6), self._whistle(called))
        if len(called) > 1:
            self._then(
                (0.5, 10),
                self._job(
                    called[1],
                    "decline",
                    json={"reason_code": "wrong_area", "reason": "不属于本单位辖区"},
                ),
            )
        self._then((0.3, 30), self._job(lead, "accept", json={}))
        if fate == "dispatched":
            return self.out
        self._then((3, 70), self._with_photos(lead, "complete", "已处置完毕"))
        if fate == "reworked":
            self._then((1, 12), self._verify(False))
            self._then((2, 24), self._with_photos(lead, "complete", "已返工整改"))
        self._then((1, 20), self._verify(True))
        self._rate()
        return self.out

    def _resolve_in_house(self) -> Callable[[], Awaitable[None]]:
        async def act() -> None:
            await self.player._call(
                self.story.staff,
                f"/reports/{self.story.report_id}/resolve",
                data={"note": "社区已自行处置"},
                files=self.player._photos(),
            )

        return act
