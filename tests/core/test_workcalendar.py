"""Working hours on the Chinese calendar: holidays, make-up workdays, office hours."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from app.calendar.recompute import due_from
from app.core import workcalendar
from app.core.lights import Pause
from app.core.workcalendar import CHINA_TZ, DayExplained, DaySource, WorkingCalendar, due_at

CAL = WorkingCalendar()


def china(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ)


def test_published_holidays_and_make_up_days() -> None:
    assert not CAL.is_workday(date(2026, 10, 1))  # National Day
    assert CAL.is_workday(date(2026, 10, 10))  # Saturday made a working day (调休)
    assert not CAL.is_workday(date(2026, 11, 28))  # an ordinary Saturday
    assert CAL.is_workday(date(2026, 11, 30))  # an ordinary Monday


def test_years_without_a_published_schedule_fall_back_to_weekdays() -> None:
    assert CAL.is_workday(date(2031, 3, 3))  # a Monday
    assert not CAL.is_workday(date(2031, 3, 1))  # a Saturday


def test_administrator_overrides_win() -> None:
    cal = WorkingCalendar(overrides={date(2026, 11, 30): False, date(2026, 11, 29): True})
    assert not cal.is_workday(date(2026, 11, 30))
    assert cal.is_workday(date(2026, 11, 29))


def test_hours_inside_one_morning() -> None:
    start = china(2026, 11, 30, 9, 30)
    assert CAL.add_working_hours(start, 2) == china(2026, 11, 30, 11, 30).astimezone(UTC)


def test_lunch_break_and_evening_are_skipped() -> None:
    start = china(2026, 11, 30, 11, 0)  # Monday
    assert CAL.add_working_hours(start, 2) == china(2026, 11, 30, 14, 0).astimezone(UTC)
    assert CAL.add_working_hours(start, 8) == china(2026, 12, 1, 11, 0).astimezone(UTC)


def test_a_report_on_friday_evening_waits_for_monday() -> None:
    start = china(2026, 11, 27, 20, 0)  # Friday night
    assert CAL.add_working_hours(start, 1) == china(2026, 11, 30, 10, 0).astimezone(UTC)


def test_national_day_week_and_its_make_up_saturday() -> None:
    # 2026-09-30 (Wednesday) 17:00; 1 Oct–7 Oct are holidays; Sat 10 Oct is a make-up workday.
    start = china(2026, 9, 30, 17, 0)
    assert CAL.add_working_hours(start, 2) == china(2026, 10, 8, 10, 0).astimezone(UTC)
    friday = china(2026, 10, 9, 17, 0)
    assert CAL.add_working_hours(friday, 2) == china(2026, 10, 10, 10, 0).astimezone(UTC)


def test_five_working_days_for_a_street_light() -> None:
    start = china(2026, 11, 30, 9, 0)  # Monday opening
    assert CAL.add_working_hours(start, 40) == china(2026, 12, 4, 18, 0).astimezone(UTC)


def test_working_hours_between_is_the_inverse() -> None:
    start = china(2026, 9, 29, 10, 15)
    for hours in (0.5, 3, 8, 17.25, 40):
        end = CAL.add_working_hours(start, hours)
        assert CAL.working_hours_between(start, end) == pytest.approx(hours)


def test_calendar_hours() -> None:
    start = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert due_at(CAL, start, 24, working=False) == start + timedelta(hours=24)
    assert due_at(CAL, start, 1, working=True) == china(2026, 11, 30, 10, 0).astimezone(UTC)


def test_negative_hours_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_hours(china(2026, 11, 30, 9, 0), -1)


def test_each_day_says_why() -> None:
    cal = WorkingCalendar(
        overrides={date(2027, 2, 8): False, date(2027, 2, 20): True},
        names={date(2027, 2, 8): "春节", date(2027, 2, 20): "春节调休"},
    )
    assert cal.explain(date(2026, 10, 1)) == DayExplained(
        date(2026, 10, 1), False, DaySource.published, "国庆节"
    )
    assert cal.explain(date(2026, 10, 10)) == DayExplained(
        date(2026, 10, 10), True, DaySource.published, "国庆节调休"
    )
    assert cal.explain(date(2026, 11, 30)) == DayExplained(
        date(2026, 11, 30), True, DaySource.published, None
    )
    assert cal.explain(date(2027, 2, 8)) == DayExplained(
        date(2027, 2, 8), False, DaySource.override, "春节"
    )
    assert cal.explain(date(2027, 2, 20)) == DayExplained(
        date(2027, 2, 20), True, DaySource.override, "春节调休"
    )
    assert cal.explain(date(2027, 2, 9)) == DayExplained(
        date(2027, 2, 9), True, DaySource.weekday_rule, None
    )


def test_coverage_runs_through_published_years_and_years_with_days_set() -> None:
    assert CAL.is_covered(2026)
    assert not CAL.is_covered(2027)
    assert CAL.covered_until(date(2026, 12, 3)) == date(2026, 12, 31)
    assert CAL.covered_until(date(2027, 1, 4)) is None
    with_2027 = WorkingCalendar(overrides={date(2027, 2, 8): False})
    assert with_2027.covered_until(date(2026, 12, 3)) == date(2027, 12, 31)
    # A gap ends the run: 2029's days do not cover 2028.
    with_2029 = WorkingCalendar(overrides={date(2027, 2, 8): False, date(2029, 2, 8): False})
    assert with_2029.covered_until(date(2026, 12, 3)) == date(2027, 12, 31)


async def test_a_fixed_calendar_is_its_own_source() -> None:
    assert await CAL.current() is CAL


def _uncovered_count(year: int) -> float:
    value = REGISTRY.get_sample_value("ssp_calendar_uncovered_deadlines_total", {"year": str(year)})
    return value or 0.0


def test_deadlines_in_an_uncovered_year_warn_once_and_count_every_time(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(workcalendar, "_warned_uncovered_years", set())
    before = _uncovered_count(2093)
    with caplog.at_level(logging.WARNING, logger="app.core.workcalendar"):
        CAL.add_working_hours(china(2093, 3, 2, 9, 0), 8)
        CAL.add_working_hours(china(2093, 3, 3, 9, 0), 8)
    warnings = [r for r in caplog.records if "2093" in r.getMessage()]
    assert len(warnings) == 1
    assert "calendar import" in warnings[0].getMessage()
    assert _uncovered_count(2093) == before + 2

    # A year with days set is covered: no warning, no count.
    before_covered = _uncovered_count(2094)
    covered = WorkingCalendar(overrides={date(2094, 1, 1): False})
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="app.core.workcalendar"):
        covered.add_working_hours(china(2094, 3, 2, 9, 0), 8)
    assert caplog.records == []
    assert _uncovered_count(2094) == before_covered
    # A published year is covered too, up to the deadline that crosses into the next.
    before_2027 = _uncovered_count(2027)
    CAL.add_working_hours(china(2026, 12, 28, 9, 0), 8)
    assert _uncovered_count(2027) == before_2027
    CAL.add_working_hours(china(2026, 12, 31, 9, 0), 16)
    assert _uncovered_count(2027) == before_2027 + 1


def test_recomputed_deadlines_add_holds_as_resuming_did() -> None:
    start = china(2026, 11, 30, 9, 0)  # Monday
    assert due_from(CAL, start, 16, []) == china(2026, 12, 1, 18, 0).astimezone(UTC)
    # On hold Monday 13:00 to Wednesday 09:00: the 13 working hours held are added, as the
    # resume action adds them to the deadline.
    hold = Pause(start=china(2026, 11, 30, 13, 0), end=china(2026, 12, 2, 9, 0))
    shifted = CAL.add_working_hours(
        CAL.add_working_hours(start, 16), CAL.working_hours_between(hold.start, hold.end)
    )
    assert due_from(CAL, start, 16, [hold]) == shifted == china(2026, 12, 3, 15, 0)
    # A hold that ended before the clock started does not count.
    earlier = Pause(start=china(2026, 11, 27, 9, 0), end=china(2026, 11, 27, 18, 0))
    assert due_from(CAL, start, 16, [earlier]) == china(2026, 12, 1, 18, 0)
