"""Time arithmetic the statistics need, written once for PostgreSQL and SQLite.

Moments are stored in UTC. China has kept UTC+8 without summer time since 1991, so China time
is a fixed offset and a moment's China day is plain arithmetic on its epoch seconds: the same
SQL shape on both databases, and an equality join on a day number (not a range join) where a
statistic needs the working calendar (``working_seconds_at``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, case, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.core.workcalendar import CHINA_TZ, DEFAULT_OFFICE_HOURS, EPOCH_DAY
from app.models import WorkingDay

CHINA_OFFSET_SECONDS = 8 * 3600
DAY_SECONDS = 86_400


class epoch_seconds(FunctionElement[float]):
    """Seconds since 1970-01-01 UTC of a timestamp column (fractional)."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    # date_part gives a double; EXTRACT a numeric, several times slower to add up.
    return f"date_part('epoch', {compiler.process(element.clauses, **kw)})"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    # A Julian day in a double is off by some 10 µs: rounded to the millisecond, midnight is
    # midnight again (not a hair before it, on the day before).
    column = compiler.process(element.clauses, **kw)
    return f"round((julianday({column}) - 2440587.5) * 86400.0, 3)"


class greatest(FunctionElement[Any]):
    inherit_cache = True


class least(FunctionElement[Any]):
    inherit_cache = True


@compiles(greatest)
def _greatest(element: greatest, compiler: SQLCompiler, **kw: Any) -> str:
    return f"greatest({compiler.process(element.clauses, **kw)})"


@compiles(least)
def _least(element: least, compiler: SQLCompiler, **kw: Any) -> str:
    return f"least({compiler.process(element.clauses, **kw)})"


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: greatest, compiler: SQLCompiler, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


@compiles(least, "sqlite")
def _least_sqlite(element: least, compiler: SQLCompiler, **kw: Any) -> str:
    return f"min({compiler.process(element.clauses, **kw)})"


class floor_int(FunctionElement[int]):
    """The integer part of a non-negative number."""

    type = Integer()
    inherit_cache = True


@compiles(floor_int, "postgresql")
def _floor_pg(element: floor_int, compiler: SQLCompiler, **kw: Any) -> str:
    # A cast to integer rounds on PostgreSQL; floor first.
    return f"CAST(floor({compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(floor_int, "sqlite")
def _floor_sqlite(element: floor_int, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite truncates towards zero, which is the floor of the values used here (≥ 0).
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"


def number(value: float) -> ColumnElement[float]:
    """A constant written into the statement: the same text at every execution, and float
    arithmetic on PostgreSQL (a bound integer divides as numeric there)."""
    return literal_column(repr(float(value)), Float())


def china_seconds(column: Any) -> ColumnElement[float]:
    return epoch_seconds(column) + number(CHINA_OFFSET_SECONDS)


def china_day_number(column: Any) -> ColumnElement[int]:
    """The China-time day of a moment, as days since 1970-01-01."""
    return floor_int(china_seconds(column) / number(DAY_SECONDS))


def day_from_number(number: int) -> date:
    return EPOCH_DAY + timedelta(days=number)


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def office_seconds_until(seconds_of_day: ColumnElement[float]) -> ColumnElement[float]:
    """Office seconds of a working day from midnight to ``seconds_of_day``."""
    total: ColumnElement[float] | None = None
    for opens, closes in DEFAULT_OFFICE_HOURS:
        start, end = _seconds(opens), _seconds(closes)
        part = greatest(least(seconds_of_day, number(end)), number(start)) - number(start)
        total = part if total is None else total + part
    assert total is not None
    return total


def working_seconds_at(column: Any, day: Any) -> ColumnElement[Any]:
    """Office seconds from the start of the working-days table to the moment ``column``;
    ``day`` is the ``working_days`` row of the moment's China day (joined on
    ``china_day_number(column)``). Working hours between two moments are the difference."""
    seconds_of_day = china_seconds(column) - china_day_number(column) * number(DAY_SECONDS)
    worked: ColumnElement[Any] = day.worked_before + case(
        (day.is_workday, office_seconds_until(seconds_of_day)), else_=number(0)
    )
    return worked


def china_day(moment: datetime) -> int:
    """The China-time day of a moment, as days since 1970-01-01 (in Python)."""
    return (moment.astimezone(CHINA_TZ).date() - EPOCH_DAY).days


def days_between(name: str, first: int, last: int | None = None) -> Any:
    """The ``working_days`` rows from day ``first`` (to ``last``), as a named subquery to join."""
    statement = select(WorkingDay).where(WorkingDay.day_number >= first)
    if last is not None:
        statement = statement.where(WorkingDay.day_number <= last)
    return statement.subquery(name)
