"""The hand-written answers of the statistics benchmark (bench/stats.py): for each statistic, one
statement returning the whole answer as JSON in the shape the API gives (after the caller's auth
lookup, bench/reads_hand_sql.py), written from the definitions in docs/product.md ("What the
dashboards measure"), not from the app's code: the floor the API is measured against, and a
second computation its figures must equal.

Hours in a category's working hours read the ``working_days`` table (a row per China day with
the office seconds of the days before it): the office seconds up to a moment are its day's
``worked_before`` plus, on a working day, the office time of the day until then (09:00–12:00,
13:00–18:00 China time, the default office hours). A case's rating is read from the case
(``reports.satisfaction``, the copy of ``ratings.satisfaction`` the statistics read; the
benchmark checks that the two agree)."""

from __future__ import annotations

from reads_hand_sql import Caller, visible

OPEN = "('submitted', 'accepted', 'in_progress', 'dispatched', 'on_hold', 'resolved')"
HANDLING = "('accepted', 'in_progress', 'dispatched')"
STATUSES = (
    "submitted",
    "accepted",
    "in_progress",
    "dispatched",
    "on_hold",
    "resolved",
    "closed",
    "rejected",
    "duplicate",
)
DECLINE_REASONS = ("wrong_area", "unclear_ownership", "overlapping_duties", "other")
CHINA_OFFSET_S, DAY_S = 28_800, 86_400
OFFICE_HOURS_S = ((9 * 3600, 12 * 3600), (13 * 3600, 18 * 3600))


# --- time -------------------------------------------------------------------------------------


def epoch(moment: str) -> str:
    return f"date_part('epoch', {moment})"


def china_day(moment: str) -> str:
    """Days since 1970-01-01 of the moment's China day."""
    return f"floor(({epoch(moment)} + {CHINA_OFFSET_S}) / {DAY_S})::int"


def _office_until(seconds: str) -> str:
    """Office seconds of a working day up to ``seconds`` after its midnight."""
    return " + ".join(
        f"(least(greatest({seconds}, {opens}), {closes}) - {opens})"
        for opens, closes in OFFICE_HOURS_S
    )


# The days a statistic's moments fall on: from the period's first to a year after now (the
# deadlines still ahead). Joined on these alone, a look-up builds a hash of some hundreds of
# days rather than of the whole table (18,628 days from 2010 to 2060).
DAYS_IN_SIGHT = (
    f"BETWEEN {china_day(':from::timestamptz')} AND {china_day(':now::timestamptz')} + 400"
)

# Each moment is turned into seconds once, in a subquery of its own (OFFSET 0 keeps PostgreSQL
# from folding it into the query above, which would repeat the conversion in every expression
# that reads it: ``date_part`` parses its unit each time, and a moment is read six times).


def china_seconds(moments: dict[str, str]) -> str:
    """Seconds since 1970-01-01 China time of each moment, as ``s_<key>``."""
    return ", ".join(
        f"{epoch(moment)} + {CHINA_OFFSET_S} AS s_{key}" for key, moment in moments.items()
    )


def _day(key: str) -> str:
    return f"floor(s_{key} / {DAY_S})::int"


def day_joins(keys: tuple[str, ...]) -> str:
    """The ``working_days`` row of each moment's day (``w_<key>``), looked up for working-hour
    categories among the days in sight (the table's key tells the planner one row a day)."""
    return "\n".join(
        f"LEFT JOIN working_days w_{key} ON working AND w_{key}.day_number = {_day(key)} "
        f"AND w_{key}.day_number {DAYS_IN_SIGHT}"
        for key in keys
    )


def _worked(key: str) -> str:
    """Office seconds before the moment since the table's first day."""
    since_midnight = f"(s_{key} - {_day(key)} * {DAY_S}::float8)"
    return (
        f"(w_{key}.worked_before + CASE WHEN w_{key}.is_workday "
        f"THEN {_office_until(since_midnight)} ELSE 0 END)"
    )


def hours(start: str, end: str) -> str:
    """Hours between two moments in the category's kind of hours."""
    return (
        f"(CASE WHEN working THEN {_worked(end)} - {_worked(start)} "
        f"ELSE s_{end} - s_{start} END / 3600.0)"
    )


# --- the measures -----------------------------------------------------------------------------


def rate(numerator: str, denominator: str) -> str:
    return f"(({numerator})::float8 / nullif({denominator}, 0))"


def score(response: str, resolution: str, satisfaction: str) -> str:
    """The weighted mean of the rates that exist (:w_response, :w_resolution,
    :w_satisfaction)."""
    parts = (
        (":w_response::float8", response),
        (":w_resolution::float8", resolution),
        (":w_satisfaction::float8", satisfaction),
    )
    weighted = " + ".join(f"coalesce({w} * {r}, 0)" for w, r in parts)
    present = " + ".join(f"CASE WHEN {r} IS NULL THEN 0 ELSE {w} END" for w, r in parts)
    return f"(({weighted}) / nullif({present}, 0))"


DUE = (
    "(accepted_at IS NOT NULL AND status <> 'on_hold' "
    "AND (status IN ('resolved', 'closed') OR resolve_due_at <= :now))"
)
ANSWERED = "coalesce(accepted_at, rejected_at, duplicate_at)"


def _case_counts() -> dict[str, str]:
    """Each count of the case measures over the rows of ``counted`` (one row a case)."""
    return {
        "total": "count(*)",
        "open": f"count(*) FILTER (WHERE status IN {OPEN})",
        "overdue_open": "count(*) FILTER (WHERE (status = 'submitted' AND accept_due_at < :now) "
        f"OR (status IN {HANDLING} AND resolve_due_at < :now))",
        "due_to_close": f"count(*) FILTER (WHERE {DUE})",
        "closed": "count(*) FILTER (WHERE status = 'closed')",
        "closed_on_time": "count(*) FILTER (WHERE status = 'closed' AND closure_type = 'normal')",
        "reworks": f"coalesce(sum(rework_count) FILTER (WHERE {DUE}), 0)",
        "response_due": "count(*) FILTER (WHERE accept_due_at IS NOT NULL "
        f"AND (accept_due_at <= :now OR {ANSWERED} IS NOT NULL))",
        "responded_on_time": f"count(*) FILTER (WHERE {ANSWERED} <= accept_due_at)",
        "resolved": f"count(*) FILTER (WHERE {DUE} AND status IN ('resolved', 'closed'))",
        "ratings": "count(satisfaction)",
        "satisfied": "count(*) FILTER (WHERE satisfaction = 'satisfied')",
        "basically_satisfied": "count(*) FILTER (WHERE satisfaction = 'basically_satisfied')",
        "unsatisfied": "count(*) FILTER (WHERE satisfaction = 'unsatisfied')",
        "accepted": "count(*) FILTER (WHERE accepted_at IS NOT NULL)",
        "handled_by_community": "count(*) FILTER (WHERE accepted_at IS NOT NULL "
        "AND dispatched_at IS NULL)",
        "whistled": "count(*) FILTER (WHERE accepted_at IS NOT NULL AND dispatched_at IS NOT NULL)",
        "mean_hours_to_accept": "avg(to_accept)",
        "mean_hours_to_resolve": "avg(to_resolve)",
        "accept_count": "count(to_accept)",
        "resolve_count": "count(to_resolve)",
    }


def _case_measures_json(m: str) -> str:
    """The CaseMeasures fields from the counts of row ``m``."""
    response = rate(f"{m}.responded_on_time", f"{m}.response_due")
    resolution = rate(f"{m}.resolved", f"{m}.due_to_close")
    satisfaction = rate(
        f"{m}.satisfied + :basically_weight::float8 * {m}.basically_satisfied", f"{m}.ratings"
    )
    fields = {
        **{
            key: f"{m}.{key}"
            for key in _case_counts()
            if key not in ("accept_count", "resolve_count")
        },
        "closure_rate": rate(f"{m}.closed", f"{m}.due_to_close"),
        "on_time_closure_rate": rate(f"{m}.closed_on_time", f"{m}.due_to_close"),
        "rework_rate": rate(f"{m}.reworks", f"{m}.due_to_close"),
        "response_rate": response,
        "resolution_rate": resolution,
        "satisfaction_rate": satisfaction,
        "score": score(response, resolution, satisfaction),
        "whistled_share": rate(f"{m}.whistled", f"{m}.accepted"),
    }
    return ", ".join(f"'{key}', {value}" for key, value in fields.items())


def counted_cases(caller: Caller, extra: str = "") -> str:
    """The counted cases (filed in the period, in the caller's sight), one row each with what
    the measures read: its hours to accept and to resolve as kept on the case, and its
    rating."""
    return f"""SELECT status, accept_due_at, resolve_due_at, accepted_at, rejected_at,
           duplicate_at, dispatched_at, closure_type, rework_count, community_id,
           category_code, satisfaction, hours_to_accept AS to_accept,
           CASE WHEN status IN ('resolved', 'closed') THEN hours_to_resolve END AS to_resolve
    FROM reports r
    WHERE r.created_at >= :from AND r.created_at < :to AND {visible(caller)} {extra}"""


def summary_sql(caller: Caller) -> str:
    counts = ",\n           ".join(f"{sql} AS {key}" for key, sql in _case_counts().items())
    statuses = ", ".join(f"count(*) FILTER (WHERE status = '{s}') AS status_{s}" for s in STATUSES)
    by_status = ", ".join(f"'{s}', m.status_{s}" for s in STATUSES)
    return f"""WITH counted AS ({counted_cases(caller)}),
    m AS (SELECT {counts}, {statuses},
           percentile_cont(0.9) WITHIN GROUP (ORDER BY to_accept) AS p90_accept,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY to_resolve) AS p90_resolve
    FROM counted)
    SELECT json_build_object({_case_measures_json("m")},
        'counts_by_status', json_build_object({by_status}),
        'hours_to_accept', json_build_object('count', m.accept_count,
            'mean', m.mean_hours_to_accept, 'p90', m.p90_accept),
        'hours_to_resolve', json_build_object('count', m.resolve_count,
            'mean', m.mean_hours_to_resolve, 'p90', m.p90_resolve))
    FROM m"""


def communities_sql(caller: Caller) -> str:
    counts = ",\n           ".join(f"{sql} AS {key}" for key, sql in _case_counts().items())
    return f"""WITH counted AS ({counted_cases(caller)}),
    m AS (SELECT community_id, {counts} FROM counted GROUP BY community_id)
    SELECT coalesce(json_agg(json_build_object('community_id', m.community_id,
        'name', coalesce(c.name, '区域待派'), 'region_id', c.region_id,
        {_case_measures_json("m")}) ORDER BY m.total DESC, c.name), '[]')
    FROM m LEFT JOIN communities c ON c.id = m.community_id"""


# --- the unit sheet ---------------------------------------------------------------------------


def _unit_counts() -> dict[str, str]:
    running_due = "CASE WHEN status = 'pending' THEN accept_due_at ELSE complete_due_at END"
    is_open = "status IN ('pending', 'accepted') AND report_status <> 'on_hold'"
    completion_due = (
        "accepted_at IS NOT NULL AND (status = 'completed' "
        "OR (status = 'accepted' AND complete_due_at <= :now))"
    )
    return {
        "received": "count(*)",
        "accepted": "count(accepted_at)",
        "accepted_on_time": "count(*) FILTER (WHERE accepted_at <= accept_due_at)",
        "declined": "count(*) FILTER (WHERE status = 'declined')",
        **{
            f"declined_{reason}": f"count(*) FILTER (WHERE decline_reason_code = '{reason}')"
            for reason in DECLINE_REASONS
        },
        "extensions_asked": "coalesce(sum(asked), 0)",
        "extensions_granted": "coalesce(sum(granted), 0)",
        "completed": "count(*) FILTER (WHERE status = 'completed')",
        "completed_on_time": "count(*) FILTER (WHERE status = 'completed' "
        "AND completed_at <= complete_due_at)",
        "completed_late": "count(*) FILTER (WHERE status = 'completed' "
        "AND completed_at > complete_due_at)",
        "pending_on_time": f"count(*) FILTER (WHERE {is_open} "
        f"AND ({running_due} IS NULL OR {running_due} >= :now))",
        "overdue_now": f"count(*) FILTER (WHERE {is_open} AND {running_due} < :now)",
        "reworked": "count(*) FILTER (WHERE rework_count > 0)",
        "response_due": "count(*) FILTER (WHERE accept_due_at IS NOT NULL AND "
        "(accept_due_at <= :now OR accepted_at IS NOT NULL OR declined_at IS NOT NULL))",
        "completion_due": f"count(*) FILTER (WHERE {completion_due})",
        "mean_hours_to_accept": "avg(to_accept)",
        "mean_hours_to_complete": "avg(to_complete) FILTER (WHERE status = 'completed')",
        "mean_share_of_time_used": "avg(to_complete / allowed) FILTER (WHERE status = "
        "'completed' AND allowed > 0)",
        "ratings": "count(lead_rating)",
        "satisfied": "count(*) FILTER (WHERE lead_rating = 'satisfied')",
        "basically_satisfied": "count(*) FILTER (WHERE lead_rating = 'basically_satisfied')",
    }


def _unit_row_json() -> str:
    """The UnitRow fields from the counts of row ``m`` (of unit ``u``; none: zeros)."""
    response = rate("coalesce(m.accepted_on_time, 0)", "m.response_due")
    completion = rate("coalesce(m.completed, 0)", "m.completion_due")
    satisfaction = rate(
        "m.satisfied + :basically_weight::float8 * m.basically_satisfied", "m.ratings"
    )
    zero = {key: f"coalesce(m.{key}, 0)" for key in _unit_counts() if key != "received"}
    means = ("mean_hours_to_accept", "mean_hours_to_complete", "mean_share_of_time_used")
    fields = {
        "unit_id": "u.id",
        "name": "u.name",
        "kind": "u.kind",
        "region_id": "u.region_id",
        "received": "coalesce(m.received, 0)",
        **{k: v for k, v in zero.items() if not k.startswith("declined_") and k not in means},
        "declined_by_reason": "json_build_object("
        + ", ".join(f"'{r}', coalesce(m.declined_{r}, 0)" for r in DECLINE_REASONS)
        + ")",
        "decline_rate": rate("coalesce(m.declined, 0)", "m.received"),
        "response_rate": response,
        "completion_rate": completion,
        "on_time_completion_rate": rate("coalesce(m.completed_on_time, 0)", "m.completion_due"),
        **{key: f"m.{key}" for key in means},
        "satisfaction_rate": satisfaction,
        "score": score(response, completion, satisfaction),
    }
    for key in ("satisfied", "basically_satisfied"):
        fields.pop(key)
    return ", ".join(f"'{key}', {value}" for key, value in fields.items())


def units_sql(caller: Caller) -> str:
    """One row per unit: the jobs sent to it in the period on the cases in the caller's sight,
    and the units of the caller's regions that were sent nothing, with zeros."""
    counts = ",\n           ".join(f"{sql} AS {key}" for key, sql in _unit_counts().items())
    row = _unit_row_json()
    moments = {
        "sent": "j.created_at",
        "accepted": "j.accepted_at",
        "completed": "j.completed_at",
        "due": "j.complete_due_at",
    }
    return f"""WITH sent AS (
        SELECT unit_id, status, accept_due_at, complete_due_at, accepted_at, declined_at,
               completed_at, decline_reason_code, rework_count, report_status, asked, granted,
               lead_rating,
               CASE WHEN accepted_at IS NOT NULL THEN {hours("sent", "accepted")} END
                   AS to_accept,
               {hours("accepted", "completed")} AS to_complete,
               {hours("accepted", "due")} AS allowed
        FROM (SELECT j.unit_id, j.status, j.accept_due_at, j.complete_due_at, j.accepted_at,
                     j.declined_at, j.completed_at, j.decline_reason_code, j.rework_count,
                     r.status AS report_status, x.asked, x.granted,
                     CASE WHEN j.is_lead THEN r.satisfaction END AS lead_rating,
                     cat.hours_kind = 'working' AS working, {china_seconds(moments)}
              FROM jobs j
              JOIN reports r ON r.id = j.report_id
              JOIN categories cat ON cat.code = r.category_code
              LEFT JOIN LATERAL (
                  SELECT count(*) AS asked,
                         count(*) FILTER (WHERE x.status = 'granted') AS granted
                  FROM job_extensions x WHERE x.job_id = j.id) x ON true
              WHERE j.unit_id = ANY(ARRAY(SELECT id FROM units))
                AND j.created_at >= :from AND j.created_at < :to AND {visible(caller)}
              OFFSET 0) AS j
        {day_joins(tuple(moments))}
        OFFSET 0
    ), m AS (SELECT unit_id, {counts} FROM sent GROUP BY unit_id)
    SELECT coalesce(json_agg(json_build_object({row})
        ORDER BY coalesce(m.received, 0) DESC, u.name), '[]')
    FROM units u LEFT JOIN m ON m.unit_id = u.id
    WHERE m.unit_id IS NOT NULL
       OR u.region_id = ANY(ARRAY(SELECT id FROM regions WHERE path LIKE ANY(:paths)))"""


# --- the series and the heat map --------------------------------------------------------------

SERIES_MOMENT = {
    "submitted": "r.created_at",
    "accepted": "r.accepted_at",
    "closed": "r.closed_at",
    "overdue": "m.marked_at",
}


def series_sql(caller: Caller, metric: str) -> str:
    """Per China day of the event: every day of the period, 0 where nothing happened."""
    moment = SERIES_MOMENT[metric]
    source = (
        "overdue_marks m JOIN reports r ON r.id = m.report_id"
        if metric == "overdue"
        else "reports r"
    )
    return f"""WITH counts AS (
        SELECT {china_day(moment)} AS day, count(*) AS n FROM {source}
        WHERE {moment} >= :from AND {moment} < :to AND {visible(caller)}
        GROUP BY 1)
    SELECT coalesce(json_agg(json_build_object('start', d.day::date,
        'count', coalesce(c.n, 0)) ORDER BY d.day), '[]')
    FROM generate_series(:first_day::date, :last_day::date, interval '1 day') AS d(day)
    LEFT JOIN counts c ON c.day = d.day::date - DATE '1970-01-01'"""


def heatmap_sql(caller: Caller) -> str:
    """Cells of :dlat × :dlng degrees from the box's south-west corner."""
    return f"""SELECT coalesce(json_agg(json_build_object('row', row, 'col', col, 'count', n,
        'open', open) ORDER BY row, col), '[]')
    FROM (SELECT floor((r.lat - :min_lat) / :dlat)::int AS row,
                 floor((r.lng - :min_lng) / :dlng)::int AS col,
                 count(*) AS n, count(*) FILTER (WHERE r.status IN {OPEN}) AS open
          FROM reports r
          WHERE r.created_at >= :from AND r.created_at < :to AND {visible(caller)}
            AND r.lat BETWEEN :min_lat AND :max_lat AND r.lng BETWEEN :min_lng AND :max_lng
          GROUP BY 1, 2) AS cells"""


# --- the ledger -------------------------------------------------------------------------------


def ledger_sql(caller: Caller) -> str:
    """The ledger's rows as CSV (for COPY … TO STDOUT): the cases filed in the period in the
    caller's sight, oldest first, with the columns the API's ledger has (dates in China time)."""
    china = "AT TIME ZONE 'Asia/Shanghai'"

    def moment(column: str) -> str:
        return f"to_char(r.{column} {china}, 'YYYY-MM-DD HH24:MI:SS')"

    return f"""SELECT r.number, r.status, cat.name, r.source, r.priority, r.description,
           r.address, r.lat, r.lng, g.name, c.name, grd.name, u.display_name,
           left(u.phone, 1) || repeat('*', length(u.phone) - 3) || right(u.phone, 2),
           {moment("created_at")}, {moment("accepted_at")}, {moment("dispatched_at")},
           {moment("resolved_at")}, {moment("closed_at")}, {moment("accept_due_at")},
           {moment("resolve_due_at")},
           lead.name,
           r.supervision_level, r.rework_count, round((r.held_seconds / 3600)::numeric, 2),
           r.closure_type, r.satisfaction
    FROM reports r JOIN categories cat ON cat.code = r.category_code
    JOIN regions g ON g.id = r.region_id LEFT JOIN communities c ON c.id = r.community_id
    LEFT JOIN grids grd ON grd.id = r.grid_id JOIN users u ON u.id = r.reporter_id
    -- The lead unit (the latest lead that did not decline): of the jobs sent since the
    -- period began (a case's jobs are sent after it was filed), in one pass.
    LEFT JOIN (SELECT DISTINCT ON (j.report_id) j.report_id, un.name
               FROM jobs j JOIN units un ON un.id = j.unit_id
               WHERE j.created_at >= :from AND j.is_lead AND j.status <> 'declined'
               ORDER BY j.report_id, j.created_at DESC, j.id DESC) AS lead
        ON lead.report_id = r.id
    WHERE r.created_at >= :from AND r.created_at < :to AND {visible(caller)}
    ORDER BY r.created_at, r.id"""
