"""Fixtures the core tests borrow from other packages."""

from tests.reports.conftest import submit  # noqa: F401  (the fixture)
