"""The hand-written answers of the reads benchmark (bench/reads.py): for each read, the
caller's auth lookup and then one statement returning the whole answer as JSON, in the shape the
API gives, each branch of the caller's scope reading its own index. The floor a read path could
reach: the API is measured against it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


def numbered(sql: str) -> tuple[str, list[str]]:
    """``:name`` placeholders → ``$n`` (asyncpg), and the names in the order of their numbers."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"(?<!:):([a-z_][a-z0-9_]*)", number, sql), names


# What authenticating a bearer token reads (app/auth/service.py, _TOKEN_HOLDER).
AUTH_SQL = """
SELECT u.username, u.is_active, s.revoked_at, ra.id, ra.user_id, ra.role, ra.region_id,
       ra.community_id, ra.unit_id, ra.branch_id, g.name AS region_name, g.path AS region_path,
       c.name AS community_name, un.name AS unit_name, b.name AS branch_name
FROM users u JOIN auth_sessions s ON s.user_id = u.id
LEFT JOIN role_assignments ra ON ra.user_id = u.id
LEFT JOIN regions g ON g.id = ra.region_id LEFT JOIN communities c ON c.id = ra.community_id
LEFT JOIN units un ON un.id = ra.unit_id LEFT JOIN courier_branches b ON b.id = ra.branch_id
WHERE u.id = $1 AND s.id = $2 ORDER BY ra.created_at, ra.id
"""


def _light(start: str, due: str, met: str, running: str) -> str:
    """The traffic light in calendar hours (the API counts working hours where the category
    says so: the same work, a little more arithmetic)."""
    return (
        f"CASE WHEN {met} IS NOT NULL OR NOT ({running}) THEN NULL WHEN :now >= {due} THEN 'red' "
        f"WHEN :now >= {start} + ({due} - {start}) * 0.8 THEN 'yellow' ELSE 'green' END"
    )


def _non_null_array(*items: str) -> str:
    values = ", ".join(f"({n}, {item})" for n, item in enumerate(items))
    return (
        f"(SELECT coalesce(json_agg(d ORDER BY n), '[]') FROM (VALUES {values}) AS dl(n, d) "
        "WHERE d IS NOT NULL)"
    )


PHOTO_JSON = """json_build_object('id', ph.id, 'kind', ph.kind, 'url', '/api/v1/photos/' || ph.id,
    'thumbnail_url', '/api/v1/photos/' || ph.id || '?size=thumbnail', 'width', ph.width,
    'height', ph.height, 'thumbnail_width', ph.thumbnail_width,
    'thumbnail_height', ph.thumbnail_height, 'flags', ph.flags,
    'exif_location', CASE WHEN ph.exif_lat IS NOT NULL
        THEN json_build_object('lat', ph.exif_lat, 'lng', ph.exif_lng) END,
    'exif_taken_at', ph.exif_taken_at)"""

_OPEN = "('submitted', 'accepted', 'in_progress', 'dispatched', 'on_hold', 'resolved')"
_JOB_RUNNING = f"j.status NOT IN ('declined', 'cancelled') AND r.status IN {_OPEN}"
JOB_JSON = f"""json_build_object('id', j.id, 'report_id', j.report_id,
    'report_number', r.number, 'report_status', r.status,
    'needs_redispatch', r.status = 'dispatched' AND NOT EXISTS (SELECT 1 FROM jobs l
        WHERE l.report_id = r.id AND l.is_lead AND l.status IN ('pending', 'accepted')),
    'unit', json_build_object('id', un.id, 'name', un.name), 'is_lead', j.is_lead,
    'status', j.status, 'version', j.version, 'complete_by_explicit', j.complete_by_explicit,
    'deadlines', {
    _non_null_array(
        "CASE WHEN j.accept_due_at IS NOT NULL THEN json_build_object('kind', 'accept', "
        "'due_at', j.accept_due_at, 'met_at', coalesce(j.accepted_at, j.declined_at), 'light', "
        + _light(
            "j.created_at",
            "j.accept_due_at",
            "coalesce(j.accepted_at, j.declined_at)",
            _JOB_RUNNING,
        )
        + ") END",
        "CASE WHEN j.complete_due_at IS NOT NULL THEN json_build_object('kind', 'complete', "
        "'due_at', j.complete_due_at, 'met_at', j.completed_at, 'light', "
        + _light("j.accepted_at", "j.complete_due_at", "j.completed_at", _JOB_RUNNING)
        + ") END",
    )
},
    'decline_reason_code', j.decline_reason_code, 'decline_reason', j.decline_reason,
    'rework_count', j.rework_count, 'extension_count', j.extension_count,
    'extensions', (SELECT coalesce(json_agg(json_build_object('id', x.id,
        'requested_until', x.requested_until, 'previous_due_at', x.previous_due_at,
        'reason', x.reason, 'status', x.status, 'requested_at', x.requested_at,
        'decided_at', x.decided_at, 'decision_note', x.decision_note)
        ORDER BY x.requested_at, x.id), '[]') FROM job_extensions x WHERE x.job_id = j.id),
    'created_at', j.created_at, 'accepted_at', j.accepted_at, 'completed_at', j.completed_at,
    'declined_at', j.declined_at, 'cancelled_at', j.cancelled_at, 'updated_at', j.updated_at)"""

_REPORT_RUNNING = f"r.status IN {_OPEN}"
REPORT_JSON = f"""json_build_object('id', r.id, 'number', r.number, 'status', r.status,
    'version', r.version,
    'category', json_build_object('code', cat.code, 'name', cat.name, 'name_en', cat.name_en),
    'priority', r.priority, 'source', r.source, 'description', r.description,
    'address', r.address, 'occurred_at', r.occurred_at,
    'location', json_build_object('lat', r.lat, 'lng', r.lng),
    'submitted_location', json_build_object('lat', r.submitted_lat, 'lng', r.submitted_lng,
        'coord_system', r.submitted_coord_system),
    'community', CASE WHEN com.id IS NOT NULL
        THEN json_build_object('id', com.id, 'name', com.name) END,
    'grid', CASE WHEN grd.id IS NOT NULL THEN json_build_object('id', grd.id, 'name', grd.name) END,
    'region', json_build_object('id', reg.id, 'name', reg.name),
    'routing', json_build_object('method', r.routing_method, 'distance_m', r.routing_distance_m),
    'reporter', json_build_object('id', usr.id, 'display_name', usr.display_name,
        'phone', CASE WHEN usr.id = :me THEN usr.phone
            ELSE left(usr.phone, 1) || repeat('*', length(usr.phone) - 3) || right(usr.phone, 2)
        END),
    'photos', (SELECT coalesce(json_agg({PHOTO_JSON} ORDER BY ph.position), '[]') FROM photos ph
        WHERE ph.report_id = r.id AND ph.event_id IS NULL),
    'deadlines', {
    _non_null_array(
        "CASE WHEN r.accept_due_at IS NOT NULL THEN json_build_object('kind', 'accept', "
        "'due_at', r.accept_due_at, 'limit_hours', cat.accept_within_hours, 'hours_kind', "
        "cat.hours_kind, 'met_at', coalesce(r.accepted_at, r.rejected_at, r.duplicate_at), "
        "'light', "
        + _light(
            "r.created_at",
            "r.accept_due_at",
            "coalesce(r.accepted_at, r.rejected_at, r.duplicate_at)",
            "true",
        )
        + ") END",
        "CASE WHEN r.resolve_due_at IS NOT NULL THEN json_build_object('kind', 'resolve', "
        "'due_at', r.resolve_due_at, 'limit_hours', cat.resolve_within_hours, 'hours_kind', "
        "cat.hours_kind, 'met_at', CASE WHEN r.status IN ('resolved', 'closed') "
        "THEN r.resolved_at END, 'light', "
        + _light(
            "coalesce(r.reopened_at, r.accepted_at, r.created_at)",
            "r.resolve_due_at",
            "CASE WHEN r.status IN ('resolved', 'closed') THEN r.resolved_at END",
            _REPORT_RUNNING,
        )
        + ") END",
    )
},
    'jobs', (SELECT coalesce(json_agg({JOB_JSON} ORDER BY j.created_at, j.is_lead DESC, un.name),
        '[]') FROM jobs j JOIN units un ON un.id = j.unit_id WHERE j.report_id = r.id),
    'rating', (SELECT json_build_object('satisfaction', rt.satisfaction, 'comment', rt.comment,
        'created_at', rt.created_at) FROM ratings rt WHERE rt.report_id = r.id),
    'assignee_id', r.assignee_id, 'supervision_level', r.supervision_level,
    'escalation_count', r.escalation_count, 'rework_count', r.rework_count,
    'reopen_count', r.reopen_count, 'closure_type', r.closure_type,
    'duplicate_of', r.duplicate_of_id, 'created_at', r.created_at, 'updated_at', r.updated_at,
    'accepted_at', r.accepted_at, 'started_at', r.started_at, 'dispatched_at', r.dispatched_at,
    'on_hold_at', r.on_hold_at, 'resolved_at', r.resolved_at, 'closed_at', r.closed_at,
    'rejected_at', r.rejected_at, 'duplicate_at', r.duplicate_at)"""

REPORT_JOINS = """JOIN categories cat ON cat.code = r.category_code
LEFT JOIN communities com ON com.id = r.community_id LEFT JOIN grids grd ON grd.id = r.grid_id
JOIN regions reg ON reg.id = r.region_id JOIN users usr ON usr.id = r.reporter_id"""

_SUBTREE = "ARRAY(SELECT id FROM regions WHERE path LIKE ANY(:paths))"
_SUBTREE_COMMUNITIES = (
    "ARRAY(SELECT c.id FROM communities c JOIN regions g ON g.id = c.region_id "
    "WHERE g.path LIKE ANY(:paths))"
)
# Who may see a report (app/auth/scope.py): one condition per kind of grant.
SCOPE_BRANCHES = {
    "paths": [f"region_id = ANY({_SUBTREE})", f"community_id = ANY({_SUBTREE_COMMUNITIES})"],
    "units": ["id IN (SELECT report_id FROM jobs WHERE unit_id = ANY(:units))"],
    "me": ["reporter_id = :me"],
}


def scope_branches(caller: Caller) -> list[str]:
    """One condition per branch; one per community (an equality reads the community's index
    in date order, which ``= ANY(array)`` does not)."""
    branches = []
    for kind in caller.kinds():
        if kind == "communities":
            branches += [
                f"community_id = (:communities::uuid[])[{k + 1}]"
                for k in range(len(caller.communities))
            ]
        else:
            branches += SCOPE_BRANCHES[kind]
    return branches


def list_sql(caller: Caller, filters: tuple[str, ...]) -> str:
    """A page of reports newest first: each branch of the caller's scope reads its own index
    in date order (UNION of the branches), then one statement builds the page's JSON."""
    condition = " AND ".join(("(created_at, id) < (:after_at, :after_id)", *filters))
    branches = " UNION ".join(
        f"(SELECT id, created_at FROM reports WHERE {branch} AND {condition} "
        "ORDER BY created_at DESC, id DESC LIMIT :limit)"
        for branch in scope_branches(caller)
    )
    return f"""WITH page AS (SELECT id, created_at FROM ({branches}) AS b
        ORDER BY created_at DESC, id DESC LIMIT :limit)
    SELECT json_build_object('items', coalesce(json_agg({REPORT_JSON}
        ORDER BY r.created_at DESC, r.id DESC), '[]'), 'last',
        (array_agg(json_build_array(r.created_at, r.id) ORDER BY r.created_at, r.id))[1])
    FROM page JOIN reports r ON r.id = page.id {REPORT_JOINS}"""


def visible(caller: Caller, alias: str = "r") -> str:
    branches = [
        re.sub(r"\b(region_id|community_id|reporter_id|id) ", rf"{alias}.\1 ", b, count=1)
        for b in scope_branches(caller)
    ]
    return "(" + " OR ".join(branches) + ")"


def detail_sql(caller: Caller) -> str:
    return (
        f"SELECT {REPORT_JSON} FROM reports r {REPORT_JOINS} "
        f"WHERE r.id = :report AND {visible(caller)}"
    )


def timeline_sql(caller: Caller) -> str:
    return f"""SELECT coalesce(json_agg(json_build_object('id', e.id, 'seq', e.seq,
        'type', e.type, 'created_at', e.created_at,
        'actor', CASE WHEN u.id IS NOT NULL AND (:internal OR e.actor_id = :me)
            THEN json_build_object('id', u.id, 'display_name', u.display_name) END,
        'actor_role', e.actor_role, 'from_status', e.from_status, 'to_status', e.to_status,
        'note', e.note, 'reason', e.reason, 'is_internal', e.is_internal,
        'photos', (SELECT coalesce(json_agg({PHOTO_JSON} ORDER BY ph.position), '[]')
            FROM photos ph WHERE ph.report_id = e.report_id AND ph.event_id = e.id))
        ORDER BY e.seq), '[]')
    FROM report_events e LEFT JOIN users u ON u.id = e.actor_id
    WHERE e.report_id = (SELECT r.id FROM reports r WHERE r.id = :report AND {visible(caller)})
      AND (:internal OR NOT e.is_internal)"""


def jobs_sql(caller: Caller) -> str:
    """A unit's inbox: newest first from each of the caller's units' index, merged."""
    branches = " UNION ALL ".join(
        f"(SELECT id, created_at FROM jobs WHERE unit_id = (:units::uuid[])[{k + 1}] "
        "ORDER BY created_at DESC, id DESC LIMIT :limit)"
        for k in range(len(caller.units))
    )
    return f"""WITH page AS (SELECT id, created_at FROM ({branches}) AS b
        ORDER BY created_at DESC, id DESC LIMIT :limit)
    SELECT json_build_object('items', coalesce(json_agg({JOB_JSON}
        ORDER BY j.created_at DESC, j.id DESC), '[]'))
    FROM page JOIN jobs j ON j.id = page.id JOIN units un ON un.id = j.unit_id
    JOIN reports r ON r.id = j.report_id"""


def nearby_sql(by_category: bool) -> str:
    category = "AND category_code = :category" if by_category else ""
    return f"""SELECT coalesce(json_agg(json_build_object('id', id, 'number', number,
        'status', status, 'category_code', category_code,
        'location', json_build_object('lat', round(lat::numeric, 4), 'lng', round(lng::numeric, 4)),
        'distance_m', round(sqrt(d2)), 'created_at', created_at) ORDER BY d2, created_at, id), '[]')
    FROM (SELECT id, number, status, category_code, lat, lng, created_at,
            ((lat - :lat) * 111320.0) ^ 2 + ((lng - :lng) * :lng_scale) ^ 2 AS d2
          FROM reports WHERE status IN {_OPEN}
            AND lat BETWEEN :min_lat AND :max_lat AND lng BETWEEN :min_lng AND :max_lng
            AND ((lat - :lat) * 111320.0) ^ 2 + ((lng - :lng) * :lng_scale) ^ 2 <= :radius2
            {category}
          ORDER BY d2, created_at, id LIMIT :limit) AS near"""


@dataclass(frozen=True)
class Caller:
    """The scope an auth lookup gives, as the hand SQL's parameters."""

    user_id: Any
    paths: tuple[str, ...] = ()
    communities: tuple[Any, ...] = ()
    units: tuple[Any, ...] = ()

    def kinds(self) -> list[str]:
        kinds = [k for k in ("paths", "communities", "units") if getattr(self, k)]
        return [*kinds, "me"]

    def values(self) -> dict[str, Any]:
        return {
            "paths": list(self.paths),
            "communities": list(self.communities),
            "units": list(self.units),
            "me": self.user_id,
            # Staff see internal timeline entries; reporters do not.
            "internal": bool(self.paths or self.communities or self.units),
        }


def caller_from_auth(rows: list[Any], user_id: Any) -> Caller:
    if not rows or not rows[0]["is_active"] or rows[0]["revoked_at"] is not None:
        raise RuntimeError("the token is not valid")
    return Caller(
        user_id=user_id,
        paths=tuple(r["region_path"] + "%" for r in rows if r["role"] in ("supervisor", "viewer")),
        communities=tuple(
            r["community_id"] for r in rows if r["role"] in ("community_staff", "grid_worker")
        ),
        units=tuple(r["unit_id"] for r in rows if r["role"] == "unit_staff"),
    )
