"""``python -m app stats …``: maintenance of the figures the statistics keep."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

stats_cli = typer.Typer(help="The statistics' kept figures.", no_args_is_help=True)
console = Console()


@stats_cli.command("rebuild-counts")
def rebuild_counts() -> None:
    """Count the cases' events per day and place again from the cases (``case_day_counts``,
    which the service keeps as it goes): after loading cases by other means than the API, or
    to check the kept counts against a fresh count."""
    from app.core.config import get_settings
    from app.core.db import create_engine, create_sessionmaker
    from app.stats.day_counts import rebuild

    async def main() -> int:
        engine = create_engine(get_settings())
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                return await rebuild(session)
        finally:
            await engine.dispose()

    with console.status("Counting the cases' events per day…"):
        rows = asyncio.run(main())
    console.print(f"case_day_counts: {rows:,} rows written.")
