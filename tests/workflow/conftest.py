"""The report fixtures, for workflow tests."""

from tests.reports.conftest import community_1_point, submit  # noqa: F401
