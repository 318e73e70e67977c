"""The command line: ``python -m app serve|migrate|create-user|seed-demo|import-communities|…``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings, get_settings
from app.core.db import create_engine, create_sessionmaker
from app.ops.partitions_cli import partitions
from app.photos.gc_cli import gc_photos
from app.stats.cli import stats_cli
from app.stats.export_cli import export_cli

cli = typer.Typer(help="Suishoupai (随手拍) service commands.", no_args_is_help=True)
console = Console()
T = TypeVar("T")


def _run_in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def _main() -> T:
        engine = create_engine(settings)
        try:
            async with create_sessionmaker(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(_main())


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Serve the HTTP API (the OpenAPI docs are at /docs)."""
    import uvicorn

    from app.core.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    console.print(f"Suishoupai API on http://{host}:{port}  (/docs, /dashboard, phones: /m/)")
    uvicorn.run(
        "app.main:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        # The app writes one structured access-log line per request itself.
        access_log=False,
        # Off: the app reads proxy headers itself, only from SSP_FORWARDED_ALLOW_IPS
        # (app/core/proxies.py); uvicorn's would believe any on a loopback connection.
        proxy_headers=False,
        # Live event streams never end by themselves: give them a moment, then close them.
        timeout_graceful_shutdown=5,
    )


@cli.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
) -> None:
    """Upgrade the database schema (creates the SQLite file if needed)."""
    from app.core.migrations import upgrade

    settings = get_settings()
    if settings.is_sqlite:
        create_engine(settings)  # makes the folder of the SQLite file
    # Straight to PostgreSQL: the migrations' lock is a session's, which a pooler cannot keep.
    upgrade(settings.direct_database_url, revision)
    console.print(f"Database migrated to {revision}.")


@cli.command("rebuild-clock-timers")
def rebuild_clock_timers() -> None:
    """Give every case with a running clock its timer for the overdue sweep, made from the
    cases (after rows were written around the service: an import in SQL, a restored backup)."""
    from app.cases.clock_timers import rebuild

    _run_in_session(get_settings(), rebuild)
    console.print("Every case with a running clock has its timer for the overdue sweep.")


@cli.command("create-user")
def create_user(
    username: str,
    display_name: Annotated[str, typer.Option("--name", help="Display name")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    role: Annotated[str, typer.Option(help="admin, supervisor, community_staff, …")] = "admin",
    scope_id: Annotated[str | None, typer.Option(help="Id of the role's place")] = None,
    phone: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a user with one role (an admin by default)."""
    import uuid

    from pydantic import ValidationError

    from app.auth.principal import Principal, RoleGrant
    from app.core.errors import DomainError
    from app.models.enums import Role
    from app.users.schemas import RoleAssign, UserCreate
    from app.users.service import create_user as create

    try:
        body = UserCreate(
            username=username,
            display_name=display_name,
            password=password,
            phone=phone,
            roles=[RoleAssign(role=Role(role), scope_id=uuid.UUID(scope_id) if scope_id else None)],
        )
    except (ValidationError, ValueError) as exc:
        console.print(f"[red]Invalid input:[/red] {exc}")
        raise typer.Exit(2) from exc
    system = Principal(
        user_id=None,
        username="cli",
        grants=(RoleGrant(role=Role.admin, scope_type=None, scope_id=None, scope_name=None),),
    )
    try:
        user = _run_in_session(get_settings(), lambda s: create(s, body, system))
    except DomainError as exc:
        console.print(f"[red]{exc.title}:[/red] {exc.detail}")
        raise typer.Exit(1) from exc
    console.print(f"Created user {user.username} ({user.id}).")


@cli.command("seed-demo")
def seed_demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing when the database has data")
    ] = False,
    cases: Annotated[int, typer.Option(min=0, max=1000, help="Cases of the month (0: none)")] = 60,
) -> None:
    """Load the demo organisation (巴彦淖尔市 → 杭锦后旗), its accounts and a month of work:
    cases filed by couriers, handled, whistled to units, closed and rated, or still open."""
    from app.core.security import hash_password, use_password_hash_cost
    from app.demo.keys import DEMO_KEYS_NOTE
    from app.demo.seed import seed_demo as seed
    from app.models import Region

    settings = get_settings()
    use_password_hash_cost(settings)

    async def work(session: AsyncSession) -> Any:
        if await session.scalar(select(func.count()).select_from(Region)):
            return None
        with console.status("Seeding the demo data…"):
            return await seed(session, settings.demo_password, hash_password)

    summary = _run_in_session(settings, work)
    if summary is None:
        if not if_empty:
            console.print("[red]The database already has data; nothing was seeded.[/red]")
            raise typer.Exit(1)
        console.print("The database already has data; the demo seed was skipped.")
        return
    if cases:
        from app.demo.activity import play_month
        from app.main import create_app

        with console.status(f"Playing a month of work: {cases} cases…"):
            asyncio.run(play_month(create_app(settings), settings, cases))
    table = Table(title=f"Demo accounts (password: {settings.demo_password})")
    for column in ("username", "name", "role"):
        table.add_column(column)
    for account in summary.accounts:
        table.add_row(account.username, account.display_name, account.role_description)
    console.print(table)
    console.print(DEMO_KEYS_NOTE)


@cli.command("import-communities")
def import_communities(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Import community boundaries from a GeoJSON FeatureCollection (all or nothing)."""
    from pydantic import ValidationError
    from rich.progress import Progress

    from app.core.errors import DomainError
    from app.org.communities.schemas import CommunityImport
    from app.org.importer import import_communities as run_import

    try:
        collection = CommunityImport.model_validate(json.loads(file.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValidationError) as exc:
        console.print(f"[red]Cannot read {file} as a GeoJSON FeatureCollection:[/red] {exc}")
        raise typer.Exit(2) from exc

    with Progress(console=console) as progress:
        task = progress.add_task("Importing communities", total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            result = _run_in_session(
                get_settings(),
                lambda s: run_import(s, collection, on_progress),
            )
        except DomainError as exc:
            console.print(f"[red]{exc.title}:[/red] {exc.detail}")
            for error in exc.errors or []:
                console.print(f"  {'.'.join(map(str, error.loc))}: {error.msg}")
            raise typer.Exit(1) from exc
    console.print(f"Created {result.created}, updated {result.updated} communities.")


calendar_cli = typer.Typer(
    help="The working calendar: holidays and make-up working days (调休).", no_args_is_help=True
)
cli.add_typer(calendar_cli, name="calendar")
cli.command("gc-photos")(gc_photos)
cli.command("partitions")(partitions)
cli.add_typer(export_cli, name="export")
cli.add_typer(stats_cli, name="stats")


@calendar_cli.command("import")
def import_calendar(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="JSON (an array of {date, kind, name}) or CSV (header date,kind,name)",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file and change nothing")
    ] = False,
) -> None:
    """Import holidays and make-up working days from a JSON or CSV file.

    Each year the file covers gets exactly the file's days (kind: holiday or workday). All or
    nothing: any bad line is named and nothing changes."""
    from datetime import UTC, datetime

    from app.calendar.exceptions import CalendarFileRefused
    from app.calendar.importer import read_calendar_file
    from app.calendar.service import DayToSet, replace_years

    try:
        days = read_calendar_file(file)
    except CalendarFileRefused as exc:
        console.print(
            f"{file}: nothing imported; the file has problems:", style="red", markup=False
        )
        for problem in exc.problems:
            console.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    by_year: dict[int, list[DayToSet]] = {}
    for e in days:
        by_year.setdefault(e.day.year, []).append(DayToSet(e.day, e.is_workday, e.name))
    summary = ", ".join(f"{year}: {len(entries)} days" for year, entries in sorted(by_year.items()))
    if dry_run:
        console.print(f"{file} is good ({summary}); nothing was changed (--dry-run).")
        return
    _run_in_session(get_settings(), lambda s: replace_years(s, by_year, None, datetime.now(UTC)))
    console.print(
        f"Imported {summary}. Running API processes and workers use it within "
        "SSP_CALENDAR_REFRESH_SECONDS. Deadlines already set keep their time; an admin applies "
        "the new calendar to open cases with POST /api/v1/admin/calendar/recompute-deadlines."
    )


@cli.command()
def worker() -> None:
    """Run the background worker: webhook deliveries and the overdue sweep, every
    SSP_WORKER_INTERVAL_SECONDS, until SIGTERM or Ctrl-C (run any number of them)."""
    from app.core.logging import configure_logging
    from app.worker import serve_worker

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    console.print(f"Suishoupai worker (every {settings.worker_interval_seconds:g} s)")
    asyncio.run(serve_worker(settings))
