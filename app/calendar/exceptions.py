"""Errors of the calendar domain."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import NotFound


class NoOverride(NotFound):
    code, title = "no_override", "No administrator-set day"


@dataclass(frozen=True)
class LineProblem:
    """What is wrong with one line of an import file (line 0: the file as a whole)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class CalendarFileRefused(Exception):
    """An import file with at least one bad line: nothing of it is imported."""

    def __init__(self, problems: list[LineProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems
