"""Request and response bodies of the calendar endpoints."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.workcalendar import DaySource
from app.models.enums import DeadlineClock

DayName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50),
    Field(description="Why the day is what it is", examples=["春节"]),
]


class CalendarDayRead(BaseModel):
    """A day of the working calendar, explained."""

    date: dt.date = Field(examples=["2027-02-08"])
    is_workday: bool = Field(examples=[False])
    source: DaySource = Field(
        description=(
            "`published`: the State Council schedule as published; `override`: set by an "
            "administrator; `weekday_rule`: neither covers the year, Monday to Friday work"
        )
    )
    name: str | None = Field(
        description="The holiday or make-up day (调休) it belongs to, if any", examples=["春节"]
    )


class CalendarCoverage(BaseModel):
    covered_until: dt.date | None = Field(
        description=(
            "The last day of the unbroken run of years, from this year on, whose working days "
            "are known (published or set by an administrator); null when this year's are not"
        ),
        examples=["2027-12-31"],
    )
    warning: str | None = Field(
        description="Set when the next 60 days are not all covered", examples=[None]
    )


class CalendarRange(CalendarCoverage):
    model_config = ConfigDict(populate_by_name=True)

    first_day: dt.date = Field(alias="from", examples=["2027-02-01"])
    last_day: dt.date = Field(alias="to", examples=["2027-02-28"])
    days: list[CalendarDayRead]


class CalendarOverrideWrite(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"is_workday": False, "name": "春节"}]}
    )

    is_workday: bool = Field(
        description="true: a working day (e.g. a make-up Saturday); false: a holiday"
    )
    name: DayName


class CalendarYearDay(CalendarOverrideWrite):
    date: dt.date = Field(examples=["2027-02-06"])


class CalendarYearWrite(BaseModel):
    """Every day of one year that differs from the weekday rule (or from the published
    schedule), e.g. the State Council's notice of the year's holidays."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "days": [
                        {"date": "2027-02-06", "is_workday": False, "name": "春节"},
                        {"date": "2027-02-20", "is_workday": True, "name": "春节调休"},
                    ]
                }
            ]
        }
    )

    days: list[CalendarYearDay] = Field(
        max_length=366,
        examples=[
            [
                {"date": "2027-02-06", "is_workday": False, "name": "春节"},
                {"date": "2027-02-20", "is_workday": True, "name": "春节调休"},
            ]
        ],
    )


class CalendarOverrideRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    date: dt.date = Field(validation_alias="day", examples=["2027-02-06"])
    is_workday: bool
    name: str = Field(examples=["春节"])
    set_by_id: uuid.UUID | None = Field(
        description="Who set it; null when the command-line import did"
    )
    updated_at: dt.datetime


class CalendarYearRead(BaseModel):
    year: int = Field(examples=[2027])
    days: list[CalendarOverrideRead]


class MovedClock(BaseModel):
    clock: DeadlineClock
    job_id: uuid.UUID | None = Field(description="Set for a unit job's clock")
    previous_due_at: dt.datetime
    due_at: dt.datetime


class MovedCase(BaseModel):
    report_id: uuid.UUID
    number: str = Field(examples=["SSP-150826-20270203-000042"])
    clocks: list[MovedClock]


class RecomputeResult(BaseModel):
    dry_run: bool
    clocks_checked: int = Field(description="Running working-hour clocks not yet run out")
    clocks_moved: int
    cases: list[MovedCase] = Field(description="Every case with a clock moved, with its clocks")
