"""The report fixtures, and the jobs' (a case accepted, the whistle), for workflow tests."""

from tests.jobs.conftest import accepted_case, whistle  # noqa: F401
from tests.reports.conftest import community_1_point, submit  # noqa: F401
