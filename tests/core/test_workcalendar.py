"""Working hours on the Chinese calendar: holidays, make-up workdays, office hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.core.workcalendar import CHINA_TZ, WorkingCalendar, due_at

CAL = WorkingCalendar()


def china(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)  # type: ignore[misc]


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
