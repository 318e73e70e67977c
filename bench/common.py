"""What the read benchmarks share: the data set of a million reports, loaded in SQL, and the
timing of one read (one at a time and with concurrent clients).

The data set is built on top of the demo organisation (``python -m app seed-demo``):
- 200 communities: the demo's 14 and 186 more under the demo's three townships, each a small
  square with its boundary; one community (the demo's 东街社区, staff1's) holds 30 % of the
  reports, the rest follow a Zipf law (the demo's 新民村, staff9's, is 30th: ~0.5 %);
- 2,000 more couriers (and one staff account per added community); the demo's courier1 files
  one report in 500, the others a Zipf share each;
- N reports over the last two years, in order of time; the leaf categories in Zipf shares;
  5 % open (most of them from the last three weeks, the rest a stale backlog), the others
  closed, rejected or duplicates, with each status's timestamp and the accept/resolve
  deadlines set;
- one photo per report; three timeline rows per report (filed, the next step, and the last
  step or a comment); ~40 % of the closed cases whistled to units, one in ten to two units:
  ~350,000 jobs at 1M reports, the city-management unit (unit6) holding 45 %;
- an overdue mark (and a red card) for every running clock more than a day past its deadline,
  with the deadline noted as swept, as a sweep running all along would have left them; the
  last day's are left for a catch-up.

Each chunk of reports is one statement: the reports, their photos, timeline rows and jobs
inserted together (data-modifying WITH), with foreign-key triggers off for the loading session
(``session_replication_role = replica``: the rows are consistent by construction) and without
waiting for the WAL flush (``synchronous_commit = off``). Nothing is dropped: every index is
kept up to date as the rows go in, as it would be in production.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

EXTRA_COMMUNITIES = 186
EXTRA_COURIERS = 2_000
CHUNK = 25_000
BIG_COMMUNITY_STAFF, SMALL_COMMUNITY_STAFF = "staff1", "staff9"
BIG_SHARE, SMALL_RANK = 0.30, 30
BIG_UNIT_STAFF, BIG_UNIT_SHARE = "unit6", 0.45
COURIER1_EVERY = 500  # courier1 files one report in 500
SPAN_DAYS = 730


def log(message: str, end: str = "\n") -> None:
    print(message, file=sys.stderr, end=end, flush=True)


def zipf_bounds(count: int, exponent: float = 1.0, first: float | None = None) -> list[float]:
    """Lower bounds of ``count`` buckets in [0, 1) for ``width_bucket``: Zipf shares, or the
    first bucket fixed at ``first`` and the rest Zipf shares of what is left."""
    weights = [1.0 / (k**exponent) for k in range(1, count + 1)]
    if first is not None:
        rest = sum(weights[1:])
        weights = [first] + [(1.0 - first) * w / rest for w in weights[1:]]
    else:
        total = sum(weights)
        weights = [w / total for w in weights]
    bounds, acc = [], 0.0
    for weight in weights:
        bounds.append(acc)
        acc += weight
    return bounds


# --- the organisation around the reports ----------------------------------------------------


async def _add_communities(conn: Any, now: datetime) -> None:
    """186 more communities (squares of ~800 m) south of the demo's townships, with a staff
    account each."""
    townships = await conn.fetch(
        "SELECT r.id, min(c.center_lat) AS lat, min(c.center_lng) AS lng FROM regions r "
        "JOIN communities c ON c.region_id = r.id WHERE r.level = 'township' "
        "GROUP BY r.id ORDER BY r.code"
    )
    password = await conn.fetchval("SELECT password_hash FROM users WHERE username = 'admin'")
    rows, staff = [], []
    for k in range(EXTRA_COMMUNITIES):
        township = townships[k % len(townships)]
        col, row = (k // len(townships)) % 8, (k // len(townships)) // 8
        lng, lat = township["lng"] + 0.012 * col, township["lat"] - 0.03 - 0.012 * row
        h = 0.0045
        ring = [[lng - h, lat - h], [lng + h, lat - h], [lng + h, lat + h], [lng - h, lat + h]]
        boundary = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
        rows.append((f"压测社区{k + 1:03d}", township["id"], json.dumps(boundary), lat, lng))
        staff.append((f"bench_staff{k + 1:03d}", f"压测社区工作人员{k + 1:03d}"))
    await conn.executemany(
        "INSERT INTO communities (id, name, kind, region_id, boundary, center_lat, center_lng, "
        "created_at, updated_at) VALUES (gen_random_uuid(), $1, 'community', $2, $3::json, $4, "
        "$5, $6, $6)",
        [(*row, now) for row in rows],
    )
    await conn.executemany(
        "WITH u AS (INSERT INTO users (id, username, display_name, password_hash, is_active, "
        "created_at, updated_at) VALUES (gen_random_uuid(), $1, $2, $3, true, $5, $5) "
        "RETURNING id) INSERT INTO role_assignments (id, user_id, role, community_id, created_at) "
        "SELECT gen_random_uuid(), u.id, 'community_staff', "
        "(SELECT id FROM communities WHERE name = $4), $5 FROM u",
        [
            (name, display, password, row[0], now)
            for (name, display), row in zip(staff, rows, strict=True)
        ],
    )


async def _add_couriers(conn: Any, now: datetime) -> None:
    await conn.execute(
        """
        WITH b AS (SELECT array_agg(id ORDER BY name) AS ids FROM courier_branches),
        u AS (
            INSERT INTO users (id, username, display_name, phone, password_hash, is_active,
                               created_at, updated_at)
            SELECT gen_random_uuid(), 'bench_courier' || lpad(i::text, 4, '0'),
                   '压测快递员' || i, '139' || lpad((i * 7919 % 100000000)::text, 8, '0'),
                   (SELECT password_hash FROM users WHERE username = 'admin'), true, $2, $2
            FROM generate_series(1, $1::int) AS i
            RETURNING id, username
        )
        INSERT INTO role_assignments (id, user_id, role, branch_id, created_at)
        SELECT gen_random_uuid(), u.id, 'courier',
               b.ids[1 + abs(hashtext(u.username)) % array_length(b.ids, 1)], $2
        FROM u, b
        """,
        EXTRA_COURIERS,
        now,
    )


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


def _chain_rows() -> list[tuple[Any, ...]]:
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


async def _lookup_tables(conn: Any) -> None:
    """The session's lookup tables: each community's staff, the timeline rows per status."""
    await conn.execute(
        "CREATE TEMP TABLE bench_params (comm_id uuid[], comm_region uuid[], comm_lat float8[], "
        "comm_lng float8[], comm_bounds float8[], cat_code text[], cat_bounds float8[], "
        "courier_id uuid[], courier_branch uuid[], courier_bounds float8[], unit_id uuid[], "
        "unit_bounds float8[]);"
        "CREATE TEMP TABLE bench_staff (community_id uuid PRIMARY KEY, staff_id uuid);"
        "CREATE TEMP TABLE bench_chain (status text, whistled bool, seq int, type text, "
        "from_status text, to_status text, at_kind text, actor_kind text, is_internal bool)"
    )
    await conn.execute(
        "INSERT INTO bench_staff SELECT DISTINCT ON (community_id) community_id, user_id "
        "FROM role_assignments WHERE role = 'community_staff' ORDER BY community_id, created_at"
    )
    await conn.executemany(
        "INSERT INTO bench_chain VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)", _chain_rows()
    )


async def _parameters(conn: Any) -> None:
    """The session's lookup tables: who and where, with their shares."""
    await _lookup_tables(conn)
    staff = {
        r["username"]: r["community_id"]
        for r in await conn.fetch(
            "SELECT u.username, ra.community_id FROM users u JOIN role_assignments ra "
            "ON ra.user_id = u.id WHERE ra.role = 'community_staff'"
        )
    }
    big, small = staff[BIG_COMMUNITY_STAFF], staff[SMALL_COMMUNITY_STAFF]
    others = [
        r["id"]
        for r in await conn.fetch("SELECT id FROM communities ORDER BY md5(name)")
        if r["id"] not in (big, small)
    ]
    ranked = [big, *others[: SMALL_RANK - 2], small, *others[SMALL_RANK - 2 :]]
    places = {
        r["id"]: r
        for r in await conn.fetch("SELECT id, region_id, center_lat, center_lng FROM communities")
    }
    cats = [
        r["code"]
        for r in await conn.fetch("SELECT code FROM categories WHERE is_leaf ORDER BY md5(code)")
    ]
    couriers = await conn.fetch(
        "SELECT u.id, ra.branch_id FROM users u JOIN role_assignments ra ON ra.user_id = u.id "
        "WHERE ra.role = 'courier' ORDER BY u.username = 'courier1' DESC, md5(u.username)"
    )
    units = await conn.fetch(
        "SELECT un.id FROM units un LEFT JOIN role_assignments ra ON ra.unit_id = un.id "
        "LEFT JOIN users u ON u.id = ra.user_id ORDER BY u.username = $1 DESC, md5(un.name)",
        BIG_UNIT_STAFF,
    )
    await conn.execute(
        "INSERT INTO bench_params VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        ranked,
        [places[c]["region_id"] for c in ranked],
        [places[c]["center_lat"] for c in ranked],
        [places[c]["center_lng"] for c in ranked],
        zipf_bounds(len(ranked), first=BIG_SHARE),
        cats,
        zipf_bounds(len(cats)),
        [c["id"] for c in couriers],
        [c["branch_id"] for c in couriers],
        # courier1 (the first) is given every COURIER1_EVERY-th report, not drawn.
        zipf_bounds(len(couriers) - 1, exponent=0.8),
        [u["id"] for u in units],
        zipf_bounds(len(units), first=BIG_UNIT_SHARE),
    )


# One chunk of reports ($1..$2 of $3, filed up to $4) with their photos, timeline and jobs.
_CHUNK_SQL = """
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
    SELECT md5('bench-report-' || i)::uuid,
           'SSP-' || to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-'
               || lpad(i::text, 7, '0'),
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
           c.is_internal, '{}'::json,
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
)
INSERT INTO jobs (
    id, report_id, unit_id, is_lead, status, version, dispatched_by_id, accept_due_at,
    complete_due_at, complete_by_explicit, rework_count, extension_count, created_at,
    accepted_at, completed_at, updated_at)
SELECT md5('bench-job-' || w.id || '-' || n.k)::uuid, w.id,
       p.unit_id[CASE WHEN n.lead THEN w.ui
                 ELSE 1 + (w.ui + floor(w.u_js * 8)::int) % array_length(p.unit_id, 1) END],
       n.lead, w.job_status, CASE w.job_status WHEN 'pending' THEN 1
                                  WHEN 'accepted' THEN 2 ELSE 3 END,
       w.staff_id, w.dispatched_at + interval '1 hour' * w.accept_h,
       w.job_accepted_at + interval '1 hour' * w.resolve_h, false, 0, 0, w.dispatched_at,
       w.job_accepted_at, w.job_completed_at,
       greatest(w.dispatched_at, w.job_accepted_at, w.job_completed_at)
FROM (
    SELECT x.*, CASE WHEN x.job_status = 'pending' THEN NULL
                     WHEN x.job_status = 'completed'
                     THEN x.dispatched_at + (x.resolved_at - x.dispatched_at) * 0.3 * x.u_js
                     ELSE least(x.dispatched_at + interval '1 hour' * (0.5 + 10 * x.u_js), $4)
                END AS job_accepted_at,
           CASE WHEN x.job_status = 'completed' THEN x.resolved_at END AS job_completed_at
    FROM (
        SELECT r.id, r.dispatched_at, r.resolved_at, st.staff_id, cat.accept_within_hours
                   AS accept_h, cat.resolve_within_hours AS resolve_h,
               width_bucket(random(), (SELECT unit_bounds FROM bench_params)) AS ui,
               random() AS u_js, random() AS u_assist,
               CASE WHEN r.status IN ('resolved', 'closed') THEN 'completed'
                    WHEN r.status = 'on_hold' THEN 'accepted'
                    WHEN random() < 0.4 THEN 'pending' ELSE 'accepted' END AS job_status
        FROM r JOIN categories cat ON cat.code = r.category_code
        LEFT JOIN bench_staff st ON st.community_id = r.community_id
        WHERE r.dispatched_at IS NOT NULL
    ) AS x
) AS w
CROSS JOIN bench_params p
CROSS JOIN LATERAL (VALUES (1, true), (2, false)) AS n(k, lead)
WHERE n.lead OR w.u_assist < 0.1
"""

# Marks for the running clocks more than a day past their deadline, and the red card they
# gave (levels only go up, so a report with any such mark is at red).
_MARKS_SQL = [
    """INSERT INTO overdue_marks (id, report_id, job_id, clock, due_at, marked_at,
           raised_to_region_id)
       SELECT gen_random_uuid(), id, '00000000-0000-0000-0000-000000000000', 'report_accept',
              accept_due_at, accept_due_at + interval '5 minutes', region_id
       FROM reports WHERE status = 'submitted'
         AND accept_due_at < $1::timestamptz - interval '1 day'""",
    """INSERT INTO overdue_marks (id, report_id, job_id, clock, due_at, marked_at,
           raised_to_region_id)
       SELECT gen_random_uuid(), id, '00000000-0000-0000-0000-000000000000', 'report_resolve',
              resolve_due_at, resolve_due_at + interval '5 minutes', region_id
       FROM reports WHERE status IN ('accepted', 'in_progress', 'dispatched')
         AND resolve_due_at < $1::timestamptz - interval '1 day'""",
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
               AND j.complete_due_at < $1::timestamptz - interval '1 day'))""",
    """UPDATE reports SET supervision_level = 'red'
       WHERE id IN (SELECT report_id FROM overdue_marks) AND $1::timestamptz IS NOT NULL""",
    # Recorded and at the red card: the sweep is done with these deadlines.
    """UPDATE reports r SET accept_due_swept = CASE WHEN m.clock = 'report_accept'
               THEN m.due_at ELSE r.accept_due_swept END,
           resolve_due_swept = CASE WHEN m.clock = 'report_resolve'
               THEN m.due_at ELSE r.resolve_due_swept END
       FROM overdue_marks m WHERE m.report_id = r.id AND m.job_id = $1::uuid""",
    """UPDATE jobs j SET accept_due_swept = CASE WHEN m.clock = 'job_accept'
               THEN m.due_at ELSE j.accept_due_swept END,
           complete_due_swept = CASE WHEN m.clock = 'job_complete'
               THEN m.due_at ELSE j.complete_due_swept END
       FROM overdue_marks m WHERE m.job_id = j.id AND $1::uuid IS NOT NULL""",
]


def progress(done: int, total: int, started: float) -> None:
    width = 40
    filled = round(width * done / total)
    elapsed = time.perf_counter() - started
    rate = done / elapsed if elapsed else 0.0
    log(
        f"\r  [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} reports "
        f"{elapsed:6.1f} s ({rate:,.0f}/s)",
        end="",
    )


@dataclass
class LoadTimes:
    organisation_s: float
    reports_s: float
    marks_s: float
    vacuum_analyze_s: float

    @property
    def total_s(self) -> float:
        return self.organisation_s + self.reports_s + self.marks_s + self.vacuum_analyze_s


async def load(dsn: str, reports: int, now: datetime) -> LoadTimes:
    """The data set above, into the migrated and seeded database at ``dsn``."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "SET synchronous_commit = off; SET session_replication_role = replica; "
            "SET work_mem = '64MB'; SET maintenance_work_mem = '256MB'"
        )
        started = time.perf_counter()
        async with conn.transaction():
            await _add_communities(conn, now)
            await _add_couriers(conn, now)
        await _parameters(conn)
        organisation_s = time.perf_counter() - started
        log(f"  organisation: {organisation_s:.1f} s; loading {reports:,} reports")
        started = time.perf_counter()
        for low in range(1, reports + 1, CHUNK):
            high = min(low + CHUNK - 1, reports)
            await conn.execute(_CHUNK_SQL, low, high, reports, now, SPAN_DAYS, COURIER1_EVERY)
            progress(high, reports, started)
        log("")
        reports_s = time.perf_counter() - started
        started = time.perf_counter()
        async with conn.transaction():
            for statement in _MARKS_SQL:
                # The report's own clocks have the all-zero job id.
                await conn.execute(statement, uuid.UUID(int=0) if "::uuid" in statement else now)
        marks_s = time.perf_counter() - started
        started = time.perf_counter()
        log("  VACUUM ANALYZE")
        await conn.execute("VACUUM ANALYZE")
        return LoadTimes(organisation_s, reports_s, marks_s, time.perf_counter() - started)
    finally:
        await conn.close()
