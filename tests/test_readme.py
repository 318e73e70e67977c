"""The README's lists stay complete: every demo account the seed makes is in its table, and every
command of the CLI is named."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cli import cli
from app.core.security import NO_PASSWORD
from app.models import User

README = Path(__file__).resolve().parents[1] / "README.md"
FIRST_CELL = re.compile(r"^\s*\|\s*([^|]*?)\s*\|")
RANGE = re.compile(r"`([a-z]+)(\d+)`\s*…\s*`\1(\d+)`")


def demo_table_usernames(readme: str) -> set[str]:
    """The user names in the first column of the demo-account table; `staff1` … `staff14`
    stands for all fourteen."""
    section = readme.split("**Demo accounts**", 1)[1].split("```", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        cell = FIRST_CELL.match(line)
        if cell is None or cell.group(1) in ("username", "---"):
            continue
        for prefix, first, last in RANGE.findall(cell.group(1)):
            names.update(f"{prefix}{n}" for n in range(int(first), int(last) + 1))
        names.update(re.findall(r"`([a-z0-9]+)`", cell.group(1)))
    return names


def command_paths(group: Any, prefix: str = "") -> list[str]:
    """``serve``, ``calendar import``, …: every command a user can run, with its group (a
    group is a command with sub-commands)."""
    paths = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        if getattr(command, "commands", None):
            paths += command_paths(command, f"{path} ")
        else:
            paths.append(path)
    return paths


def test_the_table_parser_expands_ranges() -> None:
    text = "**Demo accounts**\n\n| username | who |\n| --- | --- |\n| `a1` … `a3` | x |\n```"
    assert demo_table_usernames(text) == {"a1", "a2", "a3"}


async def test_every_demo_account_is_in_the_readme_table(session: AsyncSession) -> None:
    # The accounts one signs in as: not the 12345 hotline's, which files through Open311 only.
    seeded = set(
        (
            await session.scalars(select(User.username).where(User.password_hash != NO_PASSWORD))
        ).all()
    )
    assert "unit4" in seeded
    listed = demo_table_usernames(README.read_text())
    assert sorted(seeded - listed) == [], "demo accounts missing from the README's table"
    assert sorted(listed - seeded) == [], "accounts in the README's table that the seed lacks"


def test_every_command_of_the_cli_is_named_in_the_readme() -> None:
    paths = command_paths(typer.main.get_command(cli))
    assert {"serve", "worker", "migrate", "seed-demo"} <= set(paths)
    readme = README.read_text()
    assert [path for path in paths if f"`{path}" not in readme] == []
