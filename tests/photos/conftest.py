"""The photo tests' fixtures: reports filed through the API (tests/reports/conftest.py)."""

from tests.reports.conftest import submit  # noqa: F401  (the fixture)
