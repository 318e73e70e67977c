"""The statements that write the reads benchmark's data set (bench/reads_data.py): a chunk of
reports with their photos, timeline rows and jobs in one statement, then the overdue marks a
sweep running all along would have left, with where it is with each clock."""

from __future__ import annotations

from typing import Any

# The second and third timeline rows per status (the first is the filing): type, from, to,
# when, who, internal. "@" marks what depends on whether units were whistled.
_Step = tuple[str, str | None, str | None, str, str, bool]
_ACCEPT: _Step = ("accept", "submitted", "accepted", "accepted", "staff", False)
_CHAIN: dict[str, tuple[_Step, _Step]] = {
    "submitted": (
        ("comment", None, None, "created+", "staff", False),
        ("comment", None, None, "created+", "staff", True),
    ),
    "accepted": (_ACCEPT, ("comment", None, None, "accepted+", "staff", True)),
    "in_progress": (_ACCEPT, ("start", "accepted", "in_progress", "started", "staff", False)),
    "dispatched": (_ACCEPT, ("whistle", "accepted", "dispatched", "dispatched", "staff", False)),
    "on_hold": (_ACCEPT, ("hold", "@before_hold", "on_hold", "on_hold", "staff", False)),
    "resolved": (_ACCEPT, ("@resolve", "@handling", "resolved", "resolved", "@resolver", False)),
    "closed": (_ACCEPT, ("verify_pass", "resolved", "closed", "closed", "staff", False)),
    "rejected": (
        ("reject", "submitted", "rejected", "rejected", "staff", False),
        ("comment", None, None, "rejected+", "staff", False),
    ),
    "duplicate": (
        ("mark_duplicate", "submitted", "duplicate", "duplicate", "staff", False),
        ("comment", None, None, "duplicate+", "staff", False),
    ),
}


def chain_rows() -> list[tuple[Any, ...]]:
    """The timeline rows of a case by its status and whether units were whistled: status,
    whistled, seq, type, from, to, when, who, internal."""
    rows: list[tuple[Any, ...]] = []
    for status, steps in _CHAIN.items():
        for whistled in (False, True):
            first: _Step = ("submitted", None, "submitted", "created", "reporter", False)
            for seq, step in enumerate([first, *steps], start=1):
                kind, before, after, at, actor, internal = step
                if kind == "@resolve":
                    kind = "lead_completed" if whistled else "resolve"
                if before == "@handling":
                    before = "dispatched" if whistled else "in_progress"
                if before == "@before_hold":
                    before = "dispatched" if whistled else "accepted"
                if actor == "@resolver":
                    actor = "system" if whistled else "staff"
                rows.append((status, whistled, seq, kind, before, after, at, actor, internal))
    return rows


# A case's id is the moment it was filed (app/models/ids.py): a UUIDv7 whose first 48 bits are
# its created_at in Unix milliseconds (the check ``ck_reports_id_is_filing_moment`` holds it),
# the rest drawn from a hash of its number in the data set, so that the case goes to its
# month's partition and every row naming it (photos, timeline, jobs …) to the same month's.
REPORT_ID = (
    "(lpad(to_hex(floor(extract(epoch FROM created_at) * 1000)::bigint), 12, '0') || '7' "
    "|| substr(md5('bench-report-' || i), 1, 3) || '8' "
    "|| substr(md5('bench-report-' || i), 4, 15))::uuid"
)

# One chunk of reports ($1..$2 of $3, filed up to $4, over the $5 days before) with their
# photos, timeline and jobs.
CHUNK_SQL = f"""
WITH g AS MATERIALIZED (
    SELECT i, random() AS u_comm, random() AS u_cat, random() AS u_status, random() AS u_who,
           random() AS u_x, random() AS u_y, random() AS u_t1, random() AS u_t2,
           random() AS u_t3, random() AS u_w,
           $4::timestamptz - interval '1 day' * $5::float8 * (($3 - i + random()) / $3)
               AS created_at,
           ($3 - i)::float8 / $3 AS age
    FROM generate_series($1::int, $2::int) AS i
), k AS (
    SELECT g.*, p.*, width_bucket(u_comm, p.comm_bounds) AS ci,
           width_bucket(u_cat, p.cat_bounds) AS ki,
           CASE WHEN i % $6 = 0 THEN 1 ELSE 1 + width_bucket(u_who, p.courier_bounds) END AS wi,
           CASE WHEN age < 0.03 THEN 0.6 ELSE 0.033 END AS p_open
    FROM g, bench_params p
), s AS (
    SELECT k.*, cat.accept_within_hours AS accept_h, cat.resolve_within_hours AS resolve_h,
           cat.default_priority, cat.name AS cat_name,
           CASE WHEN u_status < p_open THEN
               CASE WHEN u_status / p_open < 0.25 THEN 'submitted'
                    WHEN u_status / p_open < 0.40 THEN 'accepted'
                    WHEN u_status / p_open < 0.55 THEN 'in_progress'
                    WHEN u_status / p_open < 0.80 THEN 'dispatched'
                    WHEN u_status / p_open < 0.85 THEN 'on_hold' ELSE 'resolved' END
           ELSE
               CASE WHEN (u_status - p_open) / (1 - p_open) < 0.79 THEN 'closed'
                    WHEN (u_status - p_open) / (1 - p_open) < 0.92 THEN 'rejected'
                    ELSE 'duplicate' END
           END AS status
    FROM k JOIN categories cat ON cat.code = k.cat_code[k.ki]
), t AS (
    SELECT s.*,
           CASE status WHEN 'dispatched' THEN true WHEN 'closed' THEN u_w < 0.4
                WHEN 'resolved' THEN u_w < 0.5 WHEN 'on_hold' THEN u_w < 0.3 ELSE false END
               AS whistled,
           least(created_at + interval '1 hour' * (0.2 + 8 * u_t1), $4) AS t_acc,
           least(created_at + interval '1 hour' * (0.2 + 8 * u_t1)
                 + interval '1 hour' * (0.5 + 6 * u_t2), $4) AS t_handle
    FROM s
), v AS (
    SELECT t.*,
           least(t_handle + interval '1 hour' * (3 + 50 * u_t3), $4) AS t_res,
           least(t_handle + interval '1 hour' * (3 + 50 * u_t3)
                 + interval '1 hour' * (1 + 40 * u_t1), $4) AS t_close,
           least(t_handle + interval '1 hour' * (1 + 30 * u_t3), $4) AS t_hold,
           status NOT IN ('submitted', 'rejected', 'duplicate') AS was_accepted
    FROM t
), r AS (
    INSERT INTO reports (
        id, number, status, version, category_code, priority, source, description, lat, lng,
        submitted_lat, submitted_lng, submitted_coord_system, reporter_id, reporter_branch_id,
        community_id, region_id, routing_method, accept_due_at, resolve_due_at,
        status_before_hold, closure_type, created_at, accepted_at, started_at, dispatched_at,
        on_hold_at, resolved_at, closed_at, rejected_at, duplicate_at, updated_at)
    SELECT {REPORT_ID},
           'SSP-150826-' || to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD')
               || '-' || lpad(i::text, 7, '0'),
           status, 3, cat_code[ki], default_priority, 'courier',
           cat_name || '（压测数据）', lat, lng, lat, lng, 'wgs84', courier_id[wi],
           courier_branch[wi], comm_id[ci], comm_region[ci], 'boundary',
           created_at + interval '1 hour' * accept_h,
           CASE WHEN was_accepted THEN t_acc + interval '1 hour' * resolve_h END,
           CASE WHEN status = 'on_hold' THEN
               CASE WHEN whistled THEN 'dispatched' ELSE 'accepted' END END,
           CASE WHEN status = 'closed' THEN 'normal' END,
           created_at,
           CASE WHEN was_accepted THEN t_acc END,
           CASE WHEN NOT whistled AND status IN ('in_progress', 'resolved', 'closed')
                THEN t_handle END,
           CASE WHEN whistled THEN t_handle END,
           CASE WHEN status = 'on_hold' THEN t_hold END,
           CASE WHEN status IN ('resolved', 'closed') THEN t_res END,
           CASE WHEN status = 'closed' THEN t_close END,
           CASE WHEN status = 'rejected' THEN t_acc END,
           CASE WHEN status = 'duplicate' THEN t_acc END,
           CASE status WHEN 'submitted' THEN created_at WHEN 'rejected' THEN t_acc
                WHEN 'duplicate' THEN t_acc WHEN 'accepted' THEN t_acc
                WHEN 'in_progress' THEN t_handle WHEN 'dispatched' THEN t_handle
                WHEN 'on_hold' THEN t_hold WHEN 'resolved' THEN t_res ELSE t_close END
    FROM (SELECT v.*, comm_lat[ci] + 0.0045 * (2 * u_x - 1) AS lat,
                 comm_lng[ci] + 0.0045 * (2 * u_y - 1) AS lng FROM v) AS placed
    RETURNING *
), photos_in AS (
    INSERT INTO photos (
        id, report_id, kind, position, uploaded_by_id, display_key, thumbnail_key,
        original_key, content_type, width, height, thumbnail_width, thumbnail_height,
        size_bytes, sha256, original_filename, original_format, exif_lat, exif_lng,
        exif_taken_at, flags, created_at)
    SELECT md5('bench-photo-' || r.id)::uuid, r.id, 'report', 0, r.reporter_id,
           'bench/' || r.id || '/display.jpg', 'bench/' || r.id || '/thumbnail.jpg',
           'bench/' || r.id || '/original.jpg', 'image/jpeg', 2048, 878, 320, 137,
           350000 + abs(hashtext(r.id::text)) % 400000, md5(r.id::text) || md5(r.number),
           'IMG_' || abs(hashtext(r.number)) % 10000 || '.jpg', 'JPEG', r.lat, r.lng,
           r.created_at - interval '3 minutes', '[]'::json, r.created_at
    FROM r
), events_in AS (
    INSERT INTO report_events (
        id, report_id, seq, type, actor_id, actor_role, from_status, to_status, note,
        is_internal, data, created_at)
    SELECT md5('bench-event-' || r.id || '-' || c.seq)::uuid, r.id, c.seq, c.type,
           CASE c.actor_kind WHEN 'reporter' THEN r.reporter_id
                WHEN 'staff' THEN st.staff_id END,
           CASE c.actor_kind WHEN 'reporter' THEN 'courier'
                WHEN 'staff' THEN 'community_staff' END,
           c.from_status, c.to_status,
           CASE WHEN c.type = 'comment' THEN '已联系上报人，现场核实中' END,
           c.is_internal, '{{}}'::json,
           CASE c.at_kind WHEN 'created' THEN r.created_at
                WHEN 'created+' THEN least(r.created_at + interval '20 minutes' * c.seq, $4)
                WHEN 'accepted' THEN r.accepted_at
                WHEN 'accepted+' THEN least(r.accepted_at + interval '10 minutes', $4)
                WHEN 'started' THEN r.started_at WHEN 'dispatched' THEN r.dispatched_at
                WHEN 'on_hold' THEN r.on_hold_at WHEN 'resolved' THEN r.resolved_at
                WHEN 'closed' THEN r.closed_at WHEN 'rejected' THEN r.rejected_at
                WHEN 'rejected+' THEN least(r.rejected_at + interval '10 minutes', $4)
                WHEN 'duplicate' THEN r.duplicate_at
                ELSE least(r.duplicate_at + interval '10 minutes', $4) END
    FROM r
    JOIN bench_chain c ON c.status = r.status AND c.whistled = (r.dispatched_at IS NOT NULL)
    LEFT JOIN bench_staff st ON st.community_id = r.community_id
), cases AS (
    -- Each whistled case, with what its jobs share: the lead unit (one unit holds a big
    -- share) and whether an assisting unit was called too (one case in ten).
    SELECT r.id, r.status, r.dispatched_at, r.resolved_at, r.closed_at, st.staff_id,
           cat.accept_within_hours AS accept_h, cat.resolve_within_hours AS resolve_h,
           width_bucket(random(), (SELECT unit_bounds FROM bench_params)) AS ui,
           random() AS u_assist
    FROM r JOIN categories cat ON cat.code = r.category_code
    LEFT JOIN bench_staff st ON st.community_id = r.community_id
    WHERE r.dispatched_at IS NOT NULL
), drawn AS (
    SELECT c.*, n.k, n.lead, random() AS u_js, random() AS u_done,
           CASE WHEN c.status = 'on_hold' THEN 'accepted'
                WHEN c.status = 'dispatched'
                THEN CASE WHEN random() < 0.4 THEN 'pending' ELSE 'accepted' END
                -- The lead's completion resolved the case; an assisting unit may still be at
                -- work then, and closing the case cancelled what was still open.
                WHEN n.lead OR random() < 0.7 THEN 'completed'
                WHEN c.status = 'resolved' THEN 'accepted'
                ELSE 'cancelled' END AS job_status
    FROM cases c CROSS JOIN LATERAL (VALUES (1, true), (2, false)) AS n(k, lead)
    WHERE n.lead OR c.u_assist < 0.1
), accepted AS (
    SELECT d.*,
           CASE WHEN d.job_status = 'pending' THEN NULL
                WHEN d.resolved_at IS NOT NULL
                THEN d.dispatched_at + (d.resolved_at - d.dispatched_at) * 0.3 * d.u_js
                ELSE least(d.dispatched_at + interval '1 hour' * (0.5 + 10 * d.u_js), $4)
           END AS job_accepted_at
    FROM drawn d
), ended AS (
    SELECT a.*,
           CASE WHEN a.job_status <> 'completed' THEN NULL WHEN a.lead THEN a.resolved_at
                ELSE a.resolved_at - (a.resolved_at - a.job_accepted_at) * 0.5 * a.u_done
           END AS job_completed_at,
           CASE WHEN a.job_status = 'cancelled' THEN a.closed_at END AS job_cancelled_at
    FROM accepted a
)
INSERT INTO jobs (
    id, report_id, unit_id, is_lead, status, version, dispatched_by_id, accept_due_at,
    complete_due_at, complete_by_explicit, rework_count, extension_count, created_at,
    accepted_at, completed_at, cancelled_at, updated_at)
SELECT md5('bench-job-' || e.id || '-' || e.k)::uuid, e.id,
       -- An assisting unit is another than the lead.
       p.unit_id[CASE WHEN e.lead THEN e.ui
                 ELSE 1 + (e.ui + floor(e.u_js * (array_length(p.unit_id, 1) - 1))::int)
                          % array_length(p.unit_id, 1) END],
       e.lead, e.job_status,
       CASE e.job_status WHEN 'pending' THEN 1 WHEN 'accepted' THEN 2 ELSE 3 END,
       e.staff_id, e.dispatched_at + interval '1 hour' * e.accept_h,
       e.job_accepted_at + interval '1 hour' * e.resolve_h, false, 0, 0, e.dispatched_at,
       e.job_accepted_at, e.job_completed_at, e.job_cancelled_at,
       greatest(e.dispatched_at, e.job_accepted_at, e.job_completed_at, e.job_cancelled_at)
FROM ended e CROSS JOIN bench_params p
"""

# OverdueMark.job_id of a report's own clocks.
NO_JOB = "'00000000-0000-0000-0000-000000000000'::uuid"


def _noted(alias: str, clock: str, column: str) -> str:
    """Where the sweep is with one clock of the row marked ``m``: the deadline it recorded, and
    the deadline it is done with where the case is at the red card (``r``, the report)."""
    return (
        f"{column}_recorded = CASE WHEN m.clock = '{clock}' THEN m.due_at "
        f"ELSE {alias}.{column}_recorded END, "
        f"{column}_swept = CASE WHEN m.clock = '{clock}' AND r.supervision_level = 'red' "
        f"THEN m.due_at ELSE {alias}.{column}_swept END"
    )


# Marks for the running clocks more than a day past their deadline ($1: now; cases filed
# through the API have theirs already), the red card they gave
# (levels only go up, so a report with any such mark is at red), and on each clock where the
# sweep is with it. A job's clocks stop while its case is on hold.
MARKS_SQL = [
    f"""INSERT INTO overdue_marks (id, report_id, job_id, clock, due_at, marked_at,
           raised_to_region_id)
       SELECT gen_random_uuid(), id, {NO_JOB}, 'report_accept',
              accept_due_at, accept_due_at + interval '5 minutes', region_id
       FROM reports WHERE status = 'submitted'
         AND accept_due_at < $1::timestamptz - interval '1 day'
       ON CONFLICT DO NOTHING""",
    f"""INSERT INTO overdue_marks (id, report_id, job_id, clock, due_at, marked_at,
           raised_to_region_id)
       SELECT gen_random_uuid(), id, {NO_JOB}, 'report_resolve',
              resolve_due_at, resolve_due_at + interval '5 minutes', region_id
       FROM reports WHERE status IN ('accepted', 'in_progress', 'dispatched')
         AND resolve_due_at < $1::timestamptz - interval '1 day'
       ON CONFLICT DO NOTHING""",
    """INSERT INTO overdue_marks (id, report_id, job_id, clock, due_at, marked_at,
           raised_to_region_id, unit_id)
       SELECT gen_random_uuid(), j.report_id, j.id,
              CASE j.status WHEN 'pending' THEN 'job_accept' ELSE 'job_complete' END,
              CASE j.status WHEN 'pending' THEN j.accept_due_at ELSE j.complete_due_at END,
              CASE j.status WHEN 'pending' THEN j.accept_due_at ELSE j.complete_due_at END
                  + interval '5 minutes', r.region_id, j.unit_id
       FROM jobs j JOIN reports r ON r.id = j.report_id
       WHERE r.status IN ('submitted', 'accepted', 'in_progress', 'dispatched', 'resolved')
         AND ((j.status = 'pending' AND j.accept_due_at < $1::timestamptz - interval '1 day')
           OR (j.status = 'accepted'
               AND j.complete_due_at < $1::timestamptz - interval '1 day'))
       ON CONFLICT DO NOTHING""",
    """UPDATE reports SET supervision_level = 'red'
       WHERE id IN (SELECT report_id FROM overdue_marks)""",
    f"""UPDATE reports r SET {_noted("r", "report_accept", "accept_due")},
           {_noted("r", "report_resolve", "resolve_due")}
       FROM overdue_marks m WHERE m.report_id = r.id AND m.job_id = {NO_JOB}""",
    f"""UPDATE jobs j SET {_noted("j", "job_accept", "accept_due")},
           {_noted("j", "job_complete", "complete_due")}
       FROM overdue_marks m JOIN reports r ON r.id = m.report_id WHERE m.job_id = j.id""",
]


def timers_sql() -> str:
    """The service's own statement that gives every case with a running clock its timer for the
    overdue sweep (app/cases/clock_timers.py), as asyncpg runs it: for rows written around the
    service, as these are."""
    from sqlalchemy.dialects.postgresql.base import PGDialect

    from app.cases.clock_timers import rebuild_statement

    stmt = rebuild_statement("postgresql")
    dialect = PGDialect()  # type: ignore[no-untyped-call]  # (SQLAlchemy's dialects are untyped)
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
