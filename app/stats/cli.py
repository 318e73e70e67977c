"""``python -m app stats …``: maintenance of the figures the statistics keep."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

stats_cli = typer.Typer(help="The statistics' kept figures.", no_args_is_help=True)
console = Console()


@stats_cli.command("rebuild-counts")
def rebuild_counts() -> None:
    """Count the cases' events per day and place (``case_day_counts``) and the settled cases'
    measures per day, place and category (``case_measure_days``) again from the cases, which
    the service keeps as it goes: after loading cases by other means than the API, or to check
    the kept figures against a fresh count."""
    from sqlalchemy import text

    from app.core.config import get_settings
    from app.core.db import create_engine, create_sessionmaker
    from app.stats import day_counts, measure_days

    async def main() -> tuple[int, int]:
        engine = create_engine(get_settings())
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                written = await day_counts.rebuild(session), await measure_days.rebuild(session)
            if engine.dialect.name == "postgresql":
                # Every row was written anew: vacuumed, the summaries read them from the
                # indexes alone again (a page's rows must be known visible to all for that).
                async with engine.connect() as connection:
                    autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                    await autocommit.execute(
                        text("VACUUM (ANALYZE) case_day_counts, case_measure_days")
                    )
            return written
        finally:
            await engine.dispose()

    with console.status("Counting the cases' events and measures per day…"):
        counts, measures = asyncio.run(main())
    console.print(f"case_day_counts: {counts:,} rows written.")
    console.print(f"case_measure_days: {measures:,} rows written.")
