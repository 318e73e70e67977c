"""What the statistics benchmark (bench/stats.py) adds to the reads benchmark's data set
(bench/reads_data.py): the rows a dashboard reads that a case list does not.

On the million reports loaded by bench/reads.py, in SQL, each row drawn from a hash of its case
(the same rows on every run), once per database (the table ``bench_stats_data`` says which
version of this data set it holds; every statement also skips what is already there):
- closures: a closed case resolved after its resolve deadline is closed ``overdue``, one in a
  hundred ``special`` (a supervisor's ruling), the others ``normal``;
- rework: one case in twenty resolved or in hand was sent back once by a failed verification,
  one in a hundred twice (its lead job too);
- holds: one resolved or closed case in twenty-five was on hold for a while (up to 40 % of its
  handling time), its clocks stopped meanwhile;
- reopened: one closed case in a hundred was reopened and closed again;
- declines: one whistled case in twelve was first sent to a unit that declined it (退单), with a
  reason code;
- extensions: one accepted job in ten asked for more time; three in four of the finished ones
  were granted (their completion deadline moved), the others refused; an open job's request is
  pending or refused (a granted one would move a running clock the sweep is watching);
- ratings: half of the closed cases, three in four satisfied (fewer when closed late);
- points: the ledger a courier's reports earned (10 on acceptance, 5 on closure, or the
  category's amounts), cut by the daily (50) and monthly (300) caps in China time;
- check-ins: each added courier with a community (two in five with a second one), most
  approved, some pending or rejected;
- overdue marks for the clocks that ran out in the past (answered, resolved, accepted or
  completed late): the marks a sweep running all along would have left besides those of the
  clocks still running (bench/reads_data_sql.py).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import asyncpg
from common import log
from reads_data_sql import timers_sql
from stats_hand_sql import DAY_S, china_seconds, hours

from app.core.workcalendar import WorkingCalendar

VERSION = 1
NO_JOB = "'00000000-0000-0000-0000-000000000000'::uuid"
EARNING_SOURCES = "('courier', 'grid_patrol', 'resident')"
DAILY_CAP, MONTHLY_CAP = 50, 300
POINTS_ON_ACCEPT, POINTS_CLOSE_BONUS = 10, 5


def uniform(key: str, part: int = 0) -> str:
    """A number in [0, 1) drawn from the md5 of ``key`` (an SQL text expression): ``part`` 0–3
    are four independent draws from one hash."""
    return f"(('x' || substr(md5({key}), {1 + 8 * part}, 8))::bit(32)::bigint / 4294967296.0)"


# The hours each case took as the app keeps them on the case (app/cases/measured.py), worked
# out from its timestamps with the ``working_days`` table (the hand SQL's way); only rows whose
# stored hours differ are written.
_MOMENTS = {"filed": "r.created_at", "accepted": "r.accepted_at", "resolved": "r.resolved_at"}
HOURS_SQL = f"""
UPDATE reports r SET hours_to_accept = h.to_accept, hours_to_resolve = h.to_resolve
FROM (
    SELECT c.id, {hours("filed", "accepted")} AS to_accept,
           CASE WHEN resolved_at IS NOT NULL THEN {hours("accepted", "resolved")}
                - CASE WHEN working THEN held_working_seconds ELSE held_seconds END / 3600.0
           END AS to_resolve
    FROM (SELECT r.id, r.resolved_at, r.held_seconds, r.held_working_seconds,
                 cat.hours_kind = 'working' AS working, {china_seconds(_MOMENTS)}
          FROM reports r JOIN categories cat ON cat.code = r.category_code
          WHERE r.accepted_at IS NOT NULL OFFSET 0) AS c
    {
    " ".join(
        f"LEFT JOIN working_days w_{key} ON working "
        f"AND w_{key}.day_number = floor(s_{key} / {DAY_S})::int"
        for key in _MOMENTS
    )
}
) AS h
WHERE r.id = h.id
  AND (abs(coalesce(r.hours_to_accept, -1) - coalesce(h.to_accept, -1)) > 1e-6
       OR abs(coalesce(r.hours_to_resolve, -1) - coalesce(h.to_resolve, -1)) > 1e-6)
"""


async def _ensure_working_days(conn: Any) -> None:
    """The ``working_days`` table as the service fills it for the default calendar (the
    benchmark's database has no calendar overrides), unless it is there already."""
    if await conn.fetchval("SELECT count(*) FROM working_days"):
        return
    tabled = WorkingCalendar().tabled
    async with conn.transaction():
        await conn.copy_records_to_table(
            "working_days",
            records=list(tabled.rows),
            columns=["day_number", "is_workday", "worked_before"],
        )
        await conn.execute("DELETE FROM working_days_built")
        await conn.execute(
            "INSERT INTO working_days_built (id, digest, built_at) VALUES (1, $1, now())",
            tabled.digest,
        )


# A hold's office time: ~8 office hours in 24, 5 working days in 7.
WORKING_HOLD_SQL = """
UPDATE reports SET held_working_seconds = held_seconds * 0.24
WHERE held_seconds > 0 AND held_working_seconds <> held_seconds * 0.24
"""


def _reports_sql() -> str:
    """Closures, reworks, holds and reopenings of the cases that went that far."""
    return f"""
WITH h AS (
    SELECT id, status, accepted_at, resolved_at, resolve_due_at,
           {uniform("id::text || 'stats-report'", 0)} AS u_close,
           {uniform("id::text || 'stats-report'", 1)} AS u_rework,
           {uniform("id::text || 'stats-report'", 2)} AS u_hold,
           {uniform("id::text || 'stats-report'", 3)} AS u_share
    FROM reports
    WHERE status IN ('closed', 'resolved', 'in_progress', 'dispatched')
      AND accepted_at IS NOT NULL
), d AS (
    SELECT id,
           CASE WHEN status <> 'closed' THEN NULL WHEN u_close < 0.01 THEN 'special'
                WHEN resolved_at > resolve_due_at THEN 'overdue' ELSE 'normal' END AS closure,
           CASE WHEN u_rework < 0.05 THEN 1 WHEN u_rework < 0.06 THEN 2 ELSE 0 END AS reworks,
           CASE WHEN resolved_at IS NOT NULL AND u_hold < 0.04
                THEN extract(epoch FROM resolved_at - accepted_at) * 0.4 * u_share
                ELSE 0 END AS held,
           status = 'closed' AND u_close > 0.99 AS reopened,
           accepted_at, resolved_at
    FROM h
)
UPDATE reports r SET closure_type = d.closure, rework_count = d.reworks,
       held_seconds = d.held,
       on_hold_at = CASE WHEN d.held > 0 THEN d.accepted_at + (d.resolved_at - d.accepted_at) * 0.2
                         ELSE r.on_hold_at END,
       reopen_count = CASE WHEN d.reopened THEN 1 ELSE 0 END,
       reopened_at = CASE WHEN d.reopened
                          THEN d.accepted_at + (d.resolved_at - d.accepted_at) * 0.6 END
FROM d
WHERE d.id = r.id
  AND (r.closure_type IS DISTINCT FROM d.closure OR r.rework_count <> d.reworks
       OR r.held_seconds <> d.held OR r.reopen_count <> (CASE WHEN d.reopened THEN 1 ELSE 0 END))
"""


JOB_REWORK_SQL = """
UPDATE jobs j SET rework_count = r.rework_count
FROM reports r
WHERE r.id = j.report_id AND j.is_lead AND j.status IN ('accepted', 'completed')
  AND r.rework_count > 0 AND j.rework_count <> r.rework_count
"""

# A unit that declined the case before the lead that has it now: another unit than the lead.
DECLINES_SQL = f"""
WITH units_ AS (SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n FROM units),
lead AS (
    SELECT j.*, {uniform("j.report_id::text || 'stats-decline'", 0)} AS u_pick,
           {uniform("j.report_id::text || 'stats-decline'", 1)} AS u_unit,
           {uniform("j.report_id::text || 'stats-decline'", 2)} AS u_reason,
           {uniform("j.report_id::text || 'stats-decline'", 3)} AS u_when
    FROM jobs j WHERE j.is_lead AND j.status <> 'declined'
)
INSERT INTO jobs (
    id, report_id, unit_id, is_lead, status, version, dispatched_by_id, accept_due_at,
    complete_due_at, complete_by_explicit, decline_reason_code, decline_reason, rework_count,
    extension_count, created_at, declined_at, updated_at)
SELECT md5('bench-job-declined-' || l.report_id)::uuid, l.report_id,
       u.ids[1 + (array_position(u.ids, l.unit_id) + floor(l.u_unit * (u.n - 1))::int) % u.n],
       true, 'declined', 2, l.dispatched_by_id, l.accept_due_at, NULL, false,
       CASE WHEN l.u_reason < 0.45 THEN 'wrong_area' WHEN l.u_reason < 0.75
            THEN 'unclear_ownership' WHEN l.u_reason < 0.92 THEN 'overlapping_duties'
            ELSE 'other' END,
       '不属于本单位职责范围', 0, 0, l.created_at,
       least(l.created_at + interval '1 hour' * (0.2 + 3 * l.u_when), $1::timestamptz),
       least(l.created_at + interval '1 hour' * (0.2 + 3 * l.u_when), $1::timestamptz)
FROM lead l CROSS JOIN units_ u
WHERE l.u_pick < 0.08
ON CONFLICT (id, report_id) DO NOTHING
"""

EXTENSIONS_SQL = f"""
WITH asked AS (
    SELECT j.id, j.report_id, j.unit_id, j.status, j.accepted_at, j.complete_due_at,
           j.dispatched_by_id,
           r.status IN ('submitted', 'accepted', 'in_progress', 'dispatched', 'on_hold',
                        'resolved') AS case_open,
           least(j.complete_due_at, coalesce(j.completed_at, j.cancelled_at, $1::timestamptz))
               AS ends,
           {uniform("j.id::text || 'stats-extension'", 1)} AS u_when,
           {uniform("j.id::text || 'stats-extension'", 2)} AS u_answer,
           {uniform("j.id::text || 'stats-extension'", 3)} AS u_more
    FROM jobs j JOIN reports r ON r.id = j.report_id
    WHERE j.accepted_at IS NOT NULL AND j.complete_due_at IS NOT NULL
      AND j.status IN ('accepted', 'completed', 'cancelled')
      AND {uniform("j.id::text || 'stats-extension'", 0)} < 0.10
), answered AS (
    SELECT a.*, a.accepted_at + (a.ends - a.accepted_at) * (0.5 + 0.4 * a.u_when) AS requested_at,
           CASE WHEN a.status = 'accepted' AND a.case_open
                THEN CASE WHEN a.u_answer < 0.5 THEN 'pending' ELSE 'refused' END
                WHEN a.u_answer < 0.75 THEN 'granted' ELSE 'refused' END AS answer
    FROM asked a
)
INSERT INTO job_extensions (
    id, job_id, report_id, requested_until, previous_due_at, reason, status, requested_by_id,
    requested_at, decided_by_id, decided_at, decision_note)
SELECT md5('bench-extension-' || a.id)::uuid, a.id, a.report_id,
       a.complete_due_at + interval '1 hour' * (24 + 48 * a.u_more), a.complete_due_at,
       '材料采购需要时间，申请延期', a.answer,
       (SELECT ra.user_id FROM role_assignments ra
        WHERE ra.unit_id = a.unit_id AND ra.role = 'unit_staff' ORDER BY ra.created_at LIMIT 1),
       a.requested_at,
       CASE WHEN a.answer <> 'pending' THEN a.dispatched_by_id END,
       CASE WHEN a.answer <> 'pending'
            THEN least(a.requested_at + interval '1 hour' * (0.5 + 6 * a.u_when),
                       $1::timestamptz) END,
       CASE WHEN a.answer = 'refused' THEN '请按原期限办结' END
FROM answered a
ON CONFLICT (id, report_id) DO NOTHING
"""

# A granted request moved the job's completion deadline (extension_count: those granted).
EXTENDED_JOBS_SQL = """
UPDATE jobs j SET extension_count = 1, complete_due_at = x.requested_until
FROM job_extensions x
WHERE x.job_id = j.id AND x.report_id = j.report_id AND x.status = 'granted'
  AND j.extension_count = 0
  AND x.id = md5('bench-extension-' || j.id)::uuid
"""

RATINGS_SQL = f"""
WITH c AS (
    SELECT id, reporter_id, closed_at, closure_type,
           {uniform("id::text || 'stats-rating'", 0)} AS u_rated,
           {uniform("id::text || 'stats-rating'", 1)} AS u_level,
           {uniform("id::text || 'stats-rating'", 2)} AS u_when
    FROM reports WHERE status = 'closed'
)
INSERT INTO ratings (report_id, satisfaction, comment, rated_by_id, created_at)
SELECT id,
       CASE WHEN u_level < CASE WHEN closure_type = 'normal' THEN 0.75 ELSE 0.55 END
            THEN 'satisfied'
            WHEN u_level < CASE WHEN closure_type = 'normal' THEN 0.95 ELSE 0.80 END
            THEN 'basically_satisfied'
            ELSE 'unsatisfied' END,
       CASE WHEN u_when < 0.1 THEN '处理及时，谢谢' END,
       reporter_id, least(closed_at + interval '1 hour' * (0.5 + 47 * u_when), $1::timestamptz)
FROM c WHERE u_rated < 0.5
ON CONFLICT (report_id) DO NOTHING
"""

# With only a daily cap, what a reporter was paid by an award is what the cap still allowed
# after the awards before it that day; the monthly cap applies the same way to what the daily
# one paid (once the month's cap is reached, nothing more is paid that month).
POINTS_SQL = f"""
WITH awards AS (
    SELECT r.id AS report_id, r.reporter_id AS user_id, 'accepted' AS rule,
           coalesce(c.points_on_accept, {POINTS_ON_ACCEPT}) AS amount, r.accepted_at AS at,
           r.community_id, r.reporter_branch_id AS branch_id
    FROM reports r JOIN categories c ON c.code = r.category_code
    WHERE r.accepted_at IS NOT NULL AND r.source IN {EARNING_SOURCES}
    UNION ALL
    SELECT r.id, r.reporter_id, 'closed_bonus',
           coalesce(c.points_close_bonus, {POINTS_CLOSE_BONUS}), r.closed_at, r.community_id,
           r.reporter_branch_id
    FROM reports r JOIN categories c ON c.code = r.category_code
    WHERE r.status = 'closed' AND r.source IN {EARNING_SOURCES}
), daily AS (
    SELECT a.*, (a.at AT TIME ZONE 'Asia/Shanghai')::date AS day,
           least(a.amount, greatest(0, {DAILY_CAP} - coalesce(sum(a.amount) OVER (
               PARTITION BY a.user_id, (a.at AT TIME ZONE 'Asia/Shanghai')::date
               ORDER BY a.at, a.report_id, a.rule
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))) AS paid_daily
    FROM awards a
), monthly AS (
    SELECT d.*, least(d.paid_daily, greatest(0, {MONTHLY_CAP} - coalesce(sum(d.paid_daily) OVER (
               PARTITION BY d.user_id, date_trunc('month', d.day)
               ORDER BY d.at, d.report_id, d.rule
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))) AS paid
    FROM daily d
)
INSERT INTO points_entries (
    id, user_id, report_id, rule, points, points_before_cap, community_id, branch_id,
    company_id, created_at)
SELECT md5('bench-points-' || m.report_id || '-' || m.rule)::uuid, m.user_id, m.report_id,
       m.rule, m.paid, m.amount, m.community_id, m.branch_id, b.company_id, m.at
FROM monthly m LEFT JOIN courier_branches b ON b.id = m.branch_id
ON CONFLICT DO NOTHING
"""

CHECK_INS_SQL = f"""
WITH places AS (
    SELECT array_agg(c.id ORDER BY md5(c.name)) AS ids, count(*)::int AS n FROM communities c
), staff AS (
    SELECT DISTINCT ON (community_id) community_id, user_id FROM role_assignments
    WHERE role = 'community_staff' ORDER BY community_id, created_at
), couriers AS (
    SELECT u.id, ra.branch_id, n.k,
           abs(hashtext(u.id::text || 'stats-check-in')) AS h1,
           abs(hashtext(u.id::text || 'stats-check-in-2')) AS h2,
           {uniform("u.id::text || 'stats-check-in-' || n.k", 0)} AS u_status,
           {uniform("u.id::text || 'stats-check-in-' || n.k", 1)} AS u_when,
           {uniform("u.id::text || 'stats-check-in'", 2)} AS u_second
    FROM users u JOIN role_assignments ra ON ra.user_id = u.id AND ra.role = 'courier'
    CROSS JOIN (VALUES (1), (2)) AS n(k)
    WHERE u.username LIKE 'bench\\_courier%'
), picked AS (
    SELECT co.*, p.ids[1 + (co.h1 + (co.k - 1) * (1 + co.h2 % (p.n - 1))) % p.n] AS community_id,
           CASE WHEN co.u_status < 0.87 THEN 'approved' WHEN co.u_status < 0.92 THEN 'pending'
                ELSE 'rejected' END AS status,
           $1::timestamptz - interval '1 day' * 700 * co.u_when AS requested_at
    FROM couriers co CROSS JOIN places p
    WHERE co.k = 1 OR co.u_second < 0.4
)
INSERT INTO check_ins (
    id, courier_id, community_id, branch_id, status, note, requested_at, decided_at,
    decided_by_id, decision_reason)
SELECT md5('bench-check-in-' || p.id || '-' || p.k)::uuid, p.id, p.community_id, p.branch_id,
       p.status, '负责本片区派送', p.requested_at,
       CASE WHEN p.status <> 'pending'
            THEN least(p.requested_at + interval '1 hour' * (1 + 30 * p.u_when),
                       $1::timestamptz) END,
       CASE WHEN p.status <> 'pending' THEN s.user_id END,
       CASE WHEN p.status = 'rejected' THEN '不在本社区派送范围' END
FROM picked p LEFT JOIN staff s ON s.community_id = p.community_id
ON CONFLICT DO NOTHING
"""

# Marks of the clocks that ran out and stopped since (the sweep, every few seconds, marks a
# clock half a minute after its deadline at the latest): clocks still running have theirs from
# bench/reads_data_sql.py.
_LATE = "interval '30 seconds'"
PAST_MARKS_SQL = [
    f"""INSERT INTO overdue_marks (id, report_id, job_id, clock, due_at, marked_at,
            raised_to_region_id)
        SELECT md5('bench-mark-accept-' || id)::uuid, id, {NO_JOB}, 'report_accept',
               accept_due_at, accept_due_at + {_LATE}, region_id
        FROM reports
        WHERE status <> 'submitted'
          AND coalesce(accepted_at, rejected_at, duplicate_at) > accept_due_at + {_LATE}
        ON CONFLICT DO NOTHING""",
    f"""INSERT INTO overdue_marks (id, report_id, job_id, clock, due_at, marked_at,
            raised_to_region_id)
        SELECT md5('bench-mark-resolve-' || id)::uuid, id, {NO_JOB}, 'report_resolve',
               resolve_due_at, resolve_due_at + {_LATE}, region_id
        FROM reports
        WHERE status IN ('resolved', 'closed') AND resolved_at > resolve_due_at + {_LATE}
        ON CONFLICT DO NOTHING""",
    f"""INSERT INTO overdue_marks (id, report_id, job_id, clock, due_at, marked_at,
            raised_to_region_id, unit_id)
        SELECT md5('bench-mark-job-accept-' || j.id)::uuid, j.report_id, j.id, 'job_accept',
               j.accept_due_at, j.accept_due_at + {_LATE}, r.region_id, j.unit_id
        FROM jobs j JOIN reports r ON r.id = j.report_id
        WHERE j.status <> 'pending'
          AND coalesce(j.accepted_at, j.declined_at) > j.accept_due_at + {_LATE}
        ON CONFLICT DO NOTHING""",
    f"""INSERT INTO overdue_marks (id, report_id, job_id, clock, due_at, marked_at,
            raised_to_region_id, unit_id)
        SELECT md5('bench-mark-job-complete-' || j.id)::uuid, j.report_id, j.id, 'job_complete',
               j.complete_due_at, j.complete_due_at + {_LATE}, r.region_id, j.unit_id
        FROM jobs j JOIN reports r ON r.id = j.report_id
        WHERE j.status = 'completed' AND j.completed_at > j.complete_due_at + {_LATE}
        ON CONFLICT DO NOTHING""",
]

TOUCHED = (
    "reports",
    "jobs",
    "job_extensions",
    "ratings",
    "points_entries",
    "check_ins",
    "overdue_marks",
)


async def _loaded_version(conn: Any) -> int | None:
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS bench_stats_data (version int PRIMARY KEY, "
        "loaded_at timestamptz NOT NULL, seconds float8 NOT NULL)"
    )
    version: int | None = await conn.fetchval("SELECT max(version) FROM bench_stats_data")
    return version


async def _has_column(conn: Any, table: str, column: str) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM information_schema.columns WHERE table_name = $1 AND column_name = $2",
        table,
        column,
    )
    return found is not None


# The case's copy of its rating, which the statistics read (the app keeps it with the rating).
SATISFACTION_SQL = """
UPDATE reports r SET satisfaction = rt.satisfaction FROM ratings rt
WHERE rt.report_id = r.id AND r.satisfaction IS DISTINCT FROM rt.satisfaction
"""
SATISFACTION_MISMATCHES_SQL = """
SELECT count(*) FROM reports r LEFT JOIN ratings rt ON rt.report_id = r.id
WHERE r.satisfaction IS DISTINCT FROM rt.satisfaction
"""


async def _derived_columns(conn: Any) -> dict[str, int]:
    """The columns the statistics read that copy or derive other rows, brought up to date (they
    may have come with a migration after the rows were added): rows changed, and how many
    cases' copies of their rating differ from the rating afterwards."""
    changed: dict[str, int] = {}
    if await _has_column(conn, "reports", "hours_to_accept"):
        await _ensure_working_days(conn)
    for column, sql in (
        ("held_working_seconds", WORKING_HOLD_SQL),
        ("satisfaction", SATISFACTION_SQL),
        ("hours_to_accept", HOURS_SQL),
    ):
        if await _has_column(conn, "reports", column):
            status: str = await conn.execute(sql)
            changed[column] = int(status.split()[-1])
    if "satisfaction" in changed:
        changed["satisfaction_mismatches"] = await conn.fetchval(SATISFACTION_MISMATCHES_SQL)
    return changed


async def add_stats_data(dsn: str, now: datetime) -> dict[str, Any]:
    """Adds the rows above to the database at ``dsn`` unless it holds them already; returns
    how long each step took (nothing when there was nothing to do)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "SET synchronous_commit = off; SET session_replication_role = replica; "
            "SET work_mem = '256MB'; SET maintenance_work_mem = '256MB'"
        )
        if await _loaded_version(conn) == VERSION:
            log("  statistics data: already there; VACUUM ANALYZE")
            derived = await _derived_columns(conn)
            # A migration may have rewritten rows since: the visibility map set again, as
            # autovacuum keeps it in production (index-only scans depend on it).
            await conn.execute(f"VACUUM ANALYZE {', '.join(TOUCHED)}")
            return {"reused": True, "derived_columns": derived}
        steps: list[tuple[str, str]] = [
            ("reports", _reports_sql()),
            ("job_reworks", JOB_REWORK_SQL),
            ("declines", DECLINES_SQL),
            ("extensions", EXTENSIONS_SQL),
            ("extended_jobs", EXTENDED_JOBS_SQL),
            ("ratings", RATINGS_SQL),
            ("points", POINTS_SQL),
            ("check_ins", CHECK_INS_SQL),
            *((f"past_marks_{k}", sql) for k, sql in enumerate(PAST_MARKS_SQL)),
            # Extended jobs moved deadlines: the sweep's timers follow.
            ("clock_timers", timers_sql()),
        ]
        times: dict[str, Any] = {"reused": False}
        started_all = time.perf_counter()
        for name, sql in steps:
            started = time.perf_counter()
            async with conn.transaction():
                status = await conn.execute(sql, *([now] if "$1" in sql else []))
            took = time.perf_counter() - started
            times[name] = {"rows": int(status.split()[-1]), "s": round(took, 1)}
            log(f"  statistics data: {name}: {status} in {took:.1f} s")
        times["derived_columns"] = await _derived_columns(conn)
        started = time.perf_counter()
        await conn.execute(f"VACUUM ANALYZE {', '.join(TOUCHED)}")
        times["vacuum_analyze_s"] = round(time.perf_counter() - started, 1)
        times["total_s"] = round(time.perf_counter() - started_all, 1)
        await conn.execute(
            "INSERT INTO bench_stats_data VALUES ($1, $2, $3)", VERSION, now, times["total_s"]
        )
        return times
    finally:
        await conn.close()


async def data_figures(dsn: str) -> dict[str, Any]:
    """What the statistics read, in numbers: the share of cases with each kind of history and
    the rows of the tables only the dashboards read."""
    conn = await asyncpg.connect(dsn)
    try:
        cases = await conn.fetchrow(
            "SELECT count(*) AS reports, "
            "count(*) FILTER (WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.report_id = r.id)) "
            "AS with_jobs, count(*) FILTER (WHERE rework_count > 0) AS reworked, "
            "count(*) FILTER (WHERE held_seconds > 0 OR status = 'on_hold') AS held, "
            "count(*) FILTER (WHERE reopen_count > 0) AS reopened, "
            "count(*) FILTER (WHERE status = 'closed') AS closed, "
            "count(*) FILTER (WHERE closure_type = 'overdue') AS closed_overdue, "
            "count(*) FILTER (WHERE reporter_branch_id IS NOT NULL) AS with_branch "
            "FROM reports r"
        )
        figures: dict[str, Any] = dict(cases)
        for table, column in (
            ("ratings", "satisfaction"),
            ("jobs", "status"),
            ("job_extensions", "status"),
            ("check_ins", "status"),
            ("overdue_marks", "clock"),
            ("points_entries", "rule"),
        ):
            rows = await conn.fetch(
                f"SELECT {column} AS key, count(*) AS n FROM {table} GROUP BY 1 ORDER BY 1"
            )
            figures[table] = {row["key"]: row["n"] for row in rows}
        figures["points_cut_by_a_cap"] = await conn.fetchval(
            "SELECT count(*) FROM points_entries WHERE points < points_before_cap"
        )
        return figures
    finally:
        await conn.close()
