"""``python -m app partitions`` refuses a month it cannot read, a month still to come and
attaching a month it detaches, before touching the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.core.partitions import Month

NEXT_MONTH = str(Month.of(datetime.now(UTC)).plus(1))


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--detach-before", "2026-13"], "not a month"),
        (["--detach-before", "last-month"], "not a month"),
        (["--detach-before", NEXT_MONTH], "still to come"),
        (["--ahead", "99"], "--ahead"),
        (["--attach", "2026-1"], "not a month"),
        (["--detach-before", "2026-03", "--attach", "2026-01"], "the same command detaches"),
    ],
)
def test_bad_arguments_are_refused_with_the_reason(arguments: list[str], said: str) -> None:
    result = CliRunner().invoke(
        cli, ["partitions", *arguments], env={"SSP_ENV": "test", "COLUMNS": "200"}
    )
    assert result.exit_code == 2, result.output
    assert said in result.output
