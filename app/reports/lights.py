"""The light of a running clock: green under 80 % of its limit used, yellow from 80 %, red when
overdue. Shared by reports and jobs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

YELLOW_FROM = 0.8  # share of a limit used from which a clock shows yellow


class Light(StrEnum):
    green = "green"
    yellow = "yellow"
    red = "red"


def light(started_at: datetime, due_at: datetime, now: datetime) -> Light:
    if now >= due_at:
        return Light.red
    total = (due_at - started_at).total_seconds()
    used = (now - started_at).total_seconds()
    return Light.yellow if total <= 0 or used / total >= YELLOW_FROM else Light.green
