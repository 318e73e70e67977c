"""Who may do what: the expected answer of every operation of the API, for every role of the
demo, on an object in the caller's reach and on one outside it.

Read a row as a sentence. ``("POST", "/api/v1/reports/{report_id}/accept")`` says: on a case of
东街社区, the administrator, both supervisors and 东街's staff may accept it; the viewer, the
dashboard key, the grid worker and the courier who reported it see it but are refused (403);
the units and the resident are told it does not exist (404). On a case of 头道桥社区 the
banner's supervisor may, 陕坝镇's may not (404). On a case of the other county only the
administrator may; the dashboard key is refused (keys never write), everyone else is told it
does not exist. An anonymous caller is asked to sign in (401) everywhere.

The roles are the demo accounts of the README:

- ``anonymous``: no ``Authorization`` header. Not named in a cell, it expects 401.
- ``admin``; ``supervisor`` (杭锦后旗, the banner); ``supervisor2`` (陕坝镇, a township of it);
  ``viewer`` (dashboards of the banner); ``key`` (a dashboard API key of the banner).
- ``staff1`` and ``grid1``: community staff and grid worker of 东街社区 (陕坝镇).
- ``unit1``: staff of 旗农牧和科技局, paired with 东街社区; ``unit3``: staff of 旗交通运输局,
  not paired with it.
- ``courier1``: a courier checked in to 东街社区, so one of its volunteers for micro-wishes,
  with points earned there to spend on its shelf; ``resident1``: a resident, of no place, who
  posts micro-wishes to 东街社区.

The columns (scopes):

- ``in``: the callers' own place and things. 东街社区 of 陕坝镇 in 杭锦后旗: its cases (reported
  by courier1; a standing one whistled to unit1, with unit1's job and photo), its people, its
  pending check-in, unit1 and unit1's webhook (with a parked delivery), a 陕坝镇 courier
  branch, the township 陕坝镇 and the banner; a reward on its shelf (put up by staff1) and
  courier1's purchase of it, and resident1's wish, published by staff1. An action works on a
  new object (a case, reward, purchase or wish) in the status it needs, so unit1 has a job on
  a case only when it is dispatched, and a wish is claimed by courier1.
- ``out``: someone else's, outside every role's region: 东风社区 of 巴彦高勒镇 in 磴口县, a
  county of the same city made for the test. Its cases are filed by its own staff and
  whistled to unit3 (so unit3's job and webhook are there); its people, check-ins, units and
  branches are its own, and so are its shelf, its resident who posts wishes and its volunteer
  who claims them and buys on the shelf.
- ``near``, on a few rows: 头道桥社区 of 头道桥镇, a sibling of 陕坝镇 in the same banner, where
  the banner's supervisor, viewer and key reach and 陕坝镇's supervisor2 does not. Its cases are
  filed by a courier of its own and whistled by its staff to unit3 (paired with it); its
  staff put a reward on its shelf and post a wish for a resident without an account.
- ``any``: operations on nothing placed (the caller's own account, the calendar, categories,
  courier companies, the service's pages).

The outcomes:

- ``OK``: the access gate let the call through: anything but 401, 403 and 404 (a 409 or 422
  of the domain counts; a 5xx never passes);
- ``LISTED`` / ``UNLISTED``: a list answered, with / without the object of the column; the
  lists of ``out`` are also asked filtered to the other county (its community, region, case,
  unit or reward), and then they must say the same, and be empty where the object is unlisted;
- ``REFUSED`` (403), ``HIDDEN`` (404: the object is not revealed), ``SIGN_IN`` (401).

In a cell, roles are separated by spaces and ``*`` stands for every signed-in role the cell
does not name otherwise. ``DEFECTS`` lists the cases where the service does not do what the
table says yet: they run as strict expected failures, so fixing one turns its test red until
its line here is removed.
"""

from __future__ import annotations

from collections.abc import Mapping

Outcome = str | int

OK: Outcome = "ok"
LISTED: Outcome = "listed"
UNLISTED: Outcome = "unlisted"
REFUSED: Outcome = 403
HIDDEN: Outcome = 404
SIGN_IN: Outcome = 401
DENIALS = frozenset({REFUSED, HIDDEN, SIGN_IN})

ROLES = (
    "anonymous",
    "admin",
    "supervisor",
    "supervisor2",
    "viewer",
    "key",
    "staff1",
    "grid1",
    "unit1",
    "unit3",
    "courier1",
    "resident1",
)

IN, OUT, NEAR, ANY = "in", "out", "near", "any"

Cell = Mapping[Outcome, str]
Row = Mapping[str, Cell]

# Cells that recur.
PUBLIC: Cell = {OK: "* anonymous"}
SIGNED_IN: Cell = {OK: "*"}
PEOPLE: Cell = {OK: "*", REFUSED: "key"}  # every signed-in person; dashboard keys read only
ADMIN_ONLY: Cell = {OK: "admin", REFUSED: "*"}
EVERYONE_LISTS: Cell = {LISTED: "*"}


def same(cell: Cell) -> Row:
    """The same answer in and out of the callers' place (reference data, admin-only writes)."""
    return {IN: cell, OUT: cell}


# Who sees the case, the job and the photo of each place.
CASE_IN_SEEN_BY = "admin supervisor supervisor2 viewer key staff1 grid1 unit1 courier1"
JOB_IN_SEEN_BY = "admin supervisor supervisor2 viewer key staff1 grid1 unit1"
CASE_NEAR_SEEN_BY = "admin supervisor viewer key unit3"

# The community's and supervisors' report actions (立案, 不予立案, duplicates, 转派, 重开, 上报):
# on a 东街 case its staff, the supervisors above it and admins; a case elsewhere: admins.
STAFF_OR_SUPERVISOR_ACTION: Row = {
    IN: {
        OK: "admin supervisor supervisor2 staff1",
        REFUSED: "viewer key grid1 courier1",
        HIDDEN: "*",
    },
    OUT: {OK: "admin", REFUSED: "key", HIDDEN: "*"},
}
# Supervisors only (挂账, resume).
SUPERVISOR_ACTION: Row = {
    IN: {
        OK: "admin supervisor supervisor2",
        REFUSED: "viewer key staff1 grid1 courier1",
        HIDDEN: "*",
    },
    OUT: {OK: "admin", REFUSED: "key", HIDDEN: "*"},
}
# The community's own handling (resolve, 核查): its staff and grid workers.
COMMUNITY_ACTION: Row = {
    IN: {
        OK: "admin staff1 grid1",
        REFUSED: "supervisor supervisor2 viewer key courier1",
        HIDDEN: "*",
    },
    OUT: {OK: "admin", REFUSED: "key", HIDDEN: "*"},
}
# A unit's own job (接单, 退单, progress, 办结, 延期申请): the unit only; admins do not act as
# a unit. Every role without a unit is refused by its role before the job is looked up.
UNIT_ACTION: Row = {
    IN: {OK: "unit1", HIDDEN: "unit3", REFUSED: "*"},
    OUT: {OK: "unit3", HIDDEN: "unit1", REFUSED: "*"},
}
# Deciding on a unit's job (extensions, withdrawing it): the case's staff and supervisors.
CASE_STAFF_ON_JOB: Row = {
    IN: {OK: "admin supervisor supervisor2 staff1", REFUSED: "*"},
    OUT: {OK: "admin", HIDDEN: "supervisor supervisor2 staff1", REFUSED: "*"},
}
# Who sees the shelf of each place's points store (积分超市): its community's people (its staff,
# grid workers and volunteers, the couriers checked in with it, whoever earned points there)
# and the supervisors, viewers and dashboard keys above it, who only read it.
SHELF_IN_SEEN_BY = "admin supervisor supervisor2 viewer key staff1 grid1 courier1"
# Who sees a shelf or a micro-wish of 头道桥社区: the administrator and the banner's overseers.
NEAR_OVERSEEN_BY = "admin supervisor viewer key"
# A purchase of a reward (积分兑换): its buyer and the shop that sold it; a dashboard key is
# refused by its role (a purchase is a person's), everyone else is not told it exists.
REDEMPTION: Row = {
    IN: {OK: "admin staff1 courier1", REFUSED: "key", HIDDEN: "*"},
    OUT: {OK: "admin", REFUSED: "key", HIDDEN: "*"},
}
# Who sees a micro-wish (微心愿) of 东街社区 from its publication on: its staff, the supervisors,
# viewers and keys above it, its volunteers (grid1, and courier1, who claims it) and resident1,
# whose wish it is. All but the units: only the wish's parties act on it, the others who see it
# are refused. In the other county the administrator acts as the community's staff.
WISH_IN_SEEN_BY = f"{SHELF_IN_SEEN_BY} resident1"


def wish_action(in_acts: str, *, staff_act: bool) -> Row:
    """A micro-wish's action from its publication on: ``in_acts`` may on a wish of 东街社区; on
    one of the other county, the administrator as its staff if ``staff_act``, else nobody."""
    out: Cell = {OK: "admin", REFUSED: "key", HIDDEN: "*"}
    if not staff_act:
        out = {REFUSED: "admin key", HIDDEN: "*"}
    return {IN: {OK: in_acts, HIDDEN: "unit1 unit3", REFUSED: "*"}, OUT: out}


# Reviewing a wish (publish, decline): its community's staff. Under review, it is seen by the
# staff, the supervisors, viewers and keys above it and its resident, not yet by volunteers.
WISH_REVIEW: Row = {
    IN: {
        OK: "admin staff1",
        REFUSED: "supervisor supervisor2 viewer key resident1",
        HIDDEN: "*",
    },
    OUT: {OK: "admin", REFUSED: "key", HIDDEN: "*"},
}
# Pairings (结对): admins anywhere, supervisors for their regions' communities.
PAIRING_WRITE: Row = {
    IN: {OK: "admin supervisor supervisor2", REFUSED: "*"},
    OUT: {OK: "admin", HIDDEN: "supervisor supervisor2", REFUSED: "*"},
}
# A unit's webhooks: admins and the unit's own staff.
WEBHOOK_OF_UNIT: Row = {
    IN: {OK: "admin unit1", HIDDEN: "unit3", REFUSED: "*"},
    OUT: {OK: "admin unit3", HIDDEN: "unit1", REFUSED: "*"},
}
# Deciding a courier's check-in: the community's staff and supervisors above it.
CHECK_IN_DECISION: Row = {
    IN: {OK: "admin supervisor supervisor2 staff1", REFUSED: "*"},
    OUT: {OK: "admin", HIDDEN: "supervisor supervisor2 staff1", REFUSED: "*"},
}

# Statistics filtered to a place. Who may name which place:
# supervisors, viewers and dashboard keys a place of their regions (or a unit paired with one
# of its communities); community staff and grid workers the regions above their community, a
# unit paired with it, and the community itself; unit staff their own unit, the communities it
# is paired with and the regions above the unit (the banner, not its townships). Couriers and
# residents are refused by their role before any place is looked at; a place of the other
# county is not found for all but the administrator.
STATS_OUT: Cell = {OK: "admin", REFUSED: "courier1 resident1", HIDDEN: "*"}
STATS_BY_TOWNSHIP: Row = {
    IN: {
        OK: "admin supervisor supervisor2 viewer key staff1 grid1",
        REFUSED: "courier1 resident1",
        HIDDEN: "*",
    },
    OUT: STATS_OUT,
    NEAR: {OK: "admin supervisor viewer key", REFUSED: "courier1 resident1", HIDDEN: "*"},
}
STATS_BY_COMMUNITY: Row = {
    IN: {
        OK: "admin supervisor supervisor2 viewer key staff1 grid1 unit1",
        REFUSED: "courier1 resident1",
        HIDDEN: "*",
    },
    OUT: STATS_OUT,
    NEAR: {OK: "admin supervisor viewer key unit3", REFUSED: "courier1 resident1", HIDDEN: "*"},
}
# unit1 is paired with 东街社区 and unit3 with 头道桥社区: naming either answers to the same roles.
STATS_BY_UNIT: Row = STATS_BY_COMMUNITY

V1 = "/api/v1"

MATRIX: dict[tuple[str, str], Row] = {
    # --- the service's pages: public by design (the documentation has no secrets) --------
    ("GET", "/"): {ANY: PUBLIC},
    ("GET", "/docs"): {ANY: PUBLIC},
    ("GET", "/docs/oauth2-redirect"): {ANY: PUBLIC},
    ("GET", "/redoc"): {ANY: PUBLIC},
    ("GET", "/openapi.json"): {ANY: PUBLIC},
    ("GET", "/docs/assets/{path}"): {ANY: PUBLIC},
    # The big screen's page and its script: public files; the data comes from the API.
    ("GET", "/dashboard"): {ANY: PUBLIC},
    ("GET", "/dashboard/assets/{path}"): {ANY: PUBLIC},
    ("GET", "/m/"): {ANY: PUBLIC},
    ("GET", "/m/assets/{path}"): {ANY: PUBLIC},
    ("GET", "/healthz"): {ANY: PUBLIC},
    ("GET", "/readyz"): {ANY: PUBLIC},
    # The names of the API's codes, for any client before it signs in.
    ("GET", f"{V1}/labels"): {ANY: PUBLIC},
    # Metrics are the operator's: from an address of the internet nobody reads them, whoever
    # they are signed in as (loopback, SSP_METRICS_ALLOWED_IPS or SSP_METRICS_TOKEN only).
    ("GET", "/metrics"): {ANY: {REFUSED: "* anonymous"}},
    # --- Open311: discovery and the services are public; the requests are read with an
    # integration's api_key (or by anyone where public reading is on, as in the demo; off
    # here), whatever bearer token a caller sends; no token is ever issued ------------------
    ("GET", "/open311/v2/discovery.{fmt}"): {ANY: PUBLIC},
    ("GET", "/open311/v2/services.{fmt}"): {ANY: PUBLIC},
    ("GET", "/open311/v2/services/{service_code}.{fmt}"): {ANY: PUBLIC},
    ("GET", "/open311/v2/requests.{fmt}"): {ANY: {REFUSED: "* anonymous"}},
    ("GET", "/open311/v2/requests/{service_request_id}.{fmt}"): {ANY: {REFUSED: "* anonymous"}},
    ("GET", "/open311/v2/tokens/{token}.{fmt}"): {ANY: {HIDDEN: "* anonymous"}},
    # Filing takes an integration's filing key in ``api_key``; a person's token files nothing.
    ("POST", "/open311/v2/requests.{fmt}"): {ANY: {REFUSED: "* anonymous"}},
    # --- signing in: the credentials are in the body, any caller may present them ---------
    ("POST", f"{V1}/auth/token"): {ANY: PUBLIC},
    ("POST", f"{V1}/auth/refresh"): {ANY: PUBLIC},
    ("POST", f"{V1}/auth/key-token"): {ANY: PUBLIC},
    # Only a dashboard key (or its token) renews a key token; people refresh their own login.
    ("POST", f"{V1}/auth/key-token/renew"): {ANY: {OK: "key", REFUSED: "*"}},
    ("POST", f"{V1}/auth/register"): {ANY: PUBLIC},
    ("POST", f"{V1}/auth/logout"): {ANY: PEOPLE},
    # --- the caller's own account ---------------------------------------------------------
    ("GET", f"{V1}/me"): {ANY: SIGNED_IN},
    ("PATCH", f"{V1}/me"): {ANY: PEOPLE},
    ("POST", f"{V1}/me/password"): {ANY: PEOPLE},
    ("GET", f"{V1}/me/export"): {ANY: PEOPLE},
    ("POST", f"{V1}/me/cancel"): {ANY: PEOPLE},
    ("GET", f"{V1}/points/me"): {ANY: PEOPLE},
    # --- dashboard keys, users and roles, the audit log: administrators -------------------
    ("POST", f"{V1}/api-keys"): same(ADMIN_ONLY),
    ("GET", f"{V1}/api-keys"): {ANY: ADMIN_ONLY},
    ("DELETE", f"{V1}/api-keys/{{key_id}}"): same(ADMIN_ONLY),
    # The directory: a community's people for its staff and grid workers, everyone with a
    # role in the region for supervisors and viewers, colleagues for unit staff; couriers and
    # residents have none. The person of ``in`` is a grid worker of 东街社区.
    ("GET", f"{V1}/users"): {
        IN: {
            LISTED: "admin supervisor supervisor2 viewer key staff1 grid1",
            UNLISTED: "unit1 unit3",
            REFUSED: "courier1 resident1",
        },
        OUT: {LISTED: "admin", UNLISTED: "*", REFUSED: "courier1 resident1"},
    },
    ("GET", f"{V1}/users/{{user_id}}"): {
        IN: {OK: "admin supervisor supervisor2 viewer key staff1 grid1", HIDDEN: "*"},
        OUT: {OK: "admin", HIDDEN: "*"},
        NEAR: {OK: "admin supervisor viewer key", HIDDEN: "*"},  # staff5 of 头道桥社区
    },
    ("POST", f"{V1}/users"): same(ADMIN_ONLY),
    ("PATCH", f"{V1}/users/{{user_id}}"): same(ADMIN_ONLY),
    ("POST", f"{V1}/users/{{user_id}}/roles"): same(ADMIN_ONLY),
    ("DELETE", f"{V1}/users/{{user_id}}/roles/{{assignment_id}}"): same(ADMIN_ONLY),
    ("POST", f"{V1}/users/{{user_id}}/cancel"): same(ADMIN_ONLY),
    ("GET", f"{V1}/admin/audit-log"): {ANY: ADMIN_ONLY},
    # --- reference data: every signed-in caller reads it, administrators change it --------
    ("GET", f"{V1}/categories"): {ANY: SIGNED_IN},
    ("GET", f"{V1}/categories/{{code}}"): {ANY: SIGNED_IN},
    ("POST", f"{V1}/categories"): {ANY: ADMIN_ONLY},
    ("PATCH", f"{V1}/categories/{{code}}"): {ANY: ADMIN_ONLY},
    ("GET", f"{V1}/calendar"): {ANY: SIGNED_IN},
    ("POST", f"{V1}/admin/calendar/recompute-deadlines"): {ANY: ADMIN_ONLY},
    ("GET", f"{V1}/admin/calendar/{{year:int}}"): {ANY: ADMIN_ONLY},
    ("PUT", f"{V1}/admin/calendar/{{year:int}}"): {ANY: ADMIN_ONLY},
    ("GET", f"{V1}/admin/calendar/{{day}}"): {ANY: ADMIN_ONLY},
    ("PUT", f"{V1}/admin/calendar/{{day}}"): {ANY: ADMIN_ONLY},
    ("DELETE", f"{V1}/admin/calendar/{{day}}"): {ANY: ADMIN_ONLY},
    ("GET", f"{V1}/regions"): same(EVERYONE_LISTS),
    ("GET", f"{V1}/regions/{{region_id}}"): same(SIGNED_IN),
    ("POST", f"{V1}/regions"): same(ADMIN_ONLY),
    ("PATCH", f"{V1}/regions/{{region_id}}"): same(ADMIN_ONLY),
    ("DELETE", f"{V1}/regions/{{region_id}}"): same(ADMIN_ONLY),
    ("GET", f"{V1}/communities"): same(EVERYONE_LISTS),
    ("GET", f"{V1}/communities/locate"): same(SIGNED_IN),
    ("GET", f"{V1}/communities/outlines"): same(SIGNED_IN),
    ("POST", f"{V1}/communities/import"): same(ADMIN_ONLY),
    ("GET", f"{V1}/communities/{{community_id}}"): same(SIGNED_IN),
    ("POST", f"{V1}/communities"): same(ADMIN_ONLY),
    ("PATCH", f"{V1}/communities/{{community_id}}"): same(ADMIN_ONLY),
    ("DELETE", f"{V1}/communities/{{community_id}}"): same(ADMIN_ONLY),
    ("POST", f"{V1}/communities/{{community_id}}/grids"): same(ADMIN_ONLY),
    ("PATCH", f"{V1}/grids/{{grid_id}}"): same(ADMIN_ONLY),
    ("DELETE", f"{V1}/grids/{{grid_id}}"): same(ADMIN_ONLY),
    ("GET", f"{V1}/units"): same(EVERYONE_LISTS),
    ("GET", f"{V1}/units/{{unit_id}}"): same(SIGNED_IN),
    ("POST", f"{V1}/units"): same(ADMIN_ONLY),
    ("PATCH", f"{V1}/units/{{unit_id}}"): same(ADMIN_ONLY),
    ("DELETE", f"{V1}/units/{{unit_id}}"): same(ADMIN_ONLY),
    ("GET", f"{V1}/communities/{{community_id}}/pairings"): same(SIGNED_IN),
    ("POST", f"{V1}/communities/{{community_id}}/pairings"): {
        **PAIRING_WRITE,
        NEAR: {OK: "admin supervisor", HIDDEN: "supervisor2", REFUSED: "*"},
    },
    ("PATCH", f"{V1}/pairings/{{pairing_id}}"): PAIRING_WRITE,
    ("DELETE", f"{V1}/pairings/{{pairing_id}}"): PAIRING_WRITE,
    ("GET", f"{V1}/courier-companies"): {ANY: SIGNED_IN},
    ("GET", f"{V1}/courier-companies/{{company_id}}"): {ANY: SIGNED_IN},
    ("POST", f"{V1}/courier-companies"): {ANY: ADMIN_ONLY},
    ("PATCH", f"{V1}/courier-companies/{{company_id}}"): {ANY: ADMIN_ONLY},
    ("DELETE", f"{V1}/courier-companies/{{company_id}}"): {ANY: ADMIN_ONLY},
    ("GET", f"{V1}/courier-branches"): same(EVERYONE_LISTS),
    ("GET", f"{V1}/courier-branches/{{branch_id}}"): same(SIGNED_IN),
    ("POST", f"{V1}/courier-branches"): same(ADMIN_ONLY),
    ("PATCH", f"{V1}/courier-branches/{{branch_id}}"): same(ADMIN_ONLY),
    ("DELETE", f"{V1}/courier-branches/{{branch_id}}"): same(ADMIN_ONLY),
    # --- couriers' check-ins (报到): a courier asks; the community or a supervisor decides --
    # In 东街 courier1 is checked in already (409); in the other county it asks anew. A
    # courier reads its own check-ins only; grid workers, units and viewers none.
    ("POST", f"{V1}/communities/{{community_id}}/check-ins"): same({OK: "courier1", REFUSED: "*"}),
    ("GET", f"{V1}/check-ins"): {
        IN: {
            LISTED: "admin supervisor supervisor2 staff1",
            UNLISTED: "courier1",
            REFUSED: "*",
        },
        OUT: {LISTED: "admin", UNLISTED: "supervisor supervisor2 staff1 courier1", REFUSED: "*"},
    },
    ("GET", f"{V1}/check-ins/{{check_in_id}}"): {
        IN: {OK: "admin supervisor supervisor2 staff1", HIDDEN: "courier1", REFUSED: "*"},
        OUT: {OK: "admin", HIDDEN: "supervisor supervisor2 staff1 courier1", REFUSED: "*"},
    },
    ("POST", f"{V1}/check-ins/{{check_in_id}}/approve"): {
        **CHECK_IN_DECISION,
        NEAR: {OK: "admin supervisor", HIDDEN: "supervisor2 staff1", REFUSED: "*"},
    },
    ("POST", f"{V1}/check-ins/{{check_in_id}}/reject"): CHECK_IN_DECISION,
    # --- reports ---------------------------------------------------------------------------
    # Anyone who may report files anywhere; viewers and dashboard keys only read.
    ("POST", f"{V1}/reports"): same({OK: "*", REFUSED: "viewer key"}),
    # Photos ahead of a report, a job's completion or a check: whoever takes photos for cases.
    ("POST", f"{V1}/uploads"): {ANY: {OK: "*", REFUSED: "viewer key"}},
    ("GET", f"{V1}/reports"): {
        IN: {LISTED: CASE_IN_SEEN_BY, UNLISTED: "*"},
        OUT: {LISTED: "admin unit3", UNLISTED: "*"},
        NEAR: {LISTED: CASE_NEAR_SEEN_BY, UNLISTED: "*"},
    },
    # "Already reported?": every signed-in caller sees the open cases near a point (category,
    # status and a rounded position; also each case's id, number and filing time).
    ("GET", f"{V1}/reports/nearby"): same(EVERYONE_LISTS),
    # The ledger (台账): the file of the cases the caller's case list shows, for every caller
    # who has a case list (a courier and a resident: the cases they filed); filtered to the
    # other county it is answered too, without the cases the caller does not see.
    ("GET", f"{V1}/reports/export"): same(SIGNED_IN),
    ("GET", f"{V1}/reports/{{report_id}}"): {
        IN: {OK: CASE_IN_SEEN_BY, HIDDEN: "*"},
        OUT: {OK: "admin unit3", HIDDEN: "*"},
        NEAR: {OK: CASE_NEAR_SEEN_BY, HIDDEN: "*"},
    },
    ("GET", f"{V1}/reports/{{report_id}}/timeline"): {
        IN: {OK: CASE_IN_SEEN_BY, HIDDEN: "*"},
        OUT: {OK: "admin unit3", HIDDEN: "*"},
    },
    # Whom an integration filed a case for: its staff (and the supervisors above them); others
    # who see the case are refused, the rest are not told it exists.
    ("GET", f"{V1}/reports/{{report_id}}/contact"): {
        IN: {
            OK: "admin supervisor supervisor2 staff1 grid1",
            REFUSED: "viewer key",
            HIDDEN: "*",
        },
        OUT: {OK: "admin", REFUSED: "key", HIDDEN: "*"},
    },
    ("GET", f"{V1}/photos/{{photo_id}}"): {
        IN: {OK: CASE_IN_SEEN_BY, HIDDEN: "*"},
        OUT: {OK: "admin unit3", HIDDEN: "*"},
    },
    # Comments: the reporter and the case's staff, which here means those who see its internal
    # entries (its community's staff and grid workers, the supervisors above it); a unit with
    # a job reads the case but does not write in it.
    ("POST", f"{V1}/reports/{{report_id}}/comments"): {
        IN: {
            OK: "admin supervisor supervisor2 staff1 grid1 courier1",
            REFUSED: "viewer key unit1",
            HIDDEN: "*",
        },
        OUT: {OK: "admin", REFUSED: "key unit3", HIDDEN: "*"},
    },
    ("POST", f"{V1}/reports/{{report_id}}/accept"): {
        **STAFF_OR_SUPERVISOR_ACTION,
        NEAR: {OK: "admin supervisor", REFUSED: "viewer key", HIDDEN: "*"},
    },
    ("POST", f"{V1}/reports/{{report_id}}/reject"): STAFF_OR_SUPERVISOR_ACTION,
    ("POST", f"{V1}/reports/{{report_id}}/mark-duplicate"): STAFF_OR_SUPERVISOR_ACTION,
    ("POST", f"{V1}/reports/{{report_id}}/transfer"): STAFF_OR_SUPERVISOR_ACTION,
    ("POST", f"{V1}/reports/{{report_id}}/reopen"): STAFF_OR_SUPERVISOR_ACTION,
    ("POST", f"{V1}/reports/{{report_id}}/escalate"): STAFF_OR_SUPERVISOR_ACTION,
    # 社区自办: the community's own staff only.
    ("POST", f"{V1}/reports/{{report_id}}/start"): {
        IN: {
            OK: "admin staff1",
            REFUSED: "supervisor supervisor2 viewer key grid1 courier1",
            HIDDEN: "*",
        },
        OUT: {OK: "admin", REFUSED: "key", HIDDEN: "*"},
    },
    ("POST", f"{V1}/reports/{{report_id}}/hold"): SUPERVISOR_ACTION,
    ("POST", f"{V1}/reports/{{report_id}}/resume"): SUPERVISOR_ACTION,
    ("POST", f"{V1}/reports/{{report_id}}/resolve"): COMMUNITY_ACTION,
    ("POST", f"{V1}/reports/{{report_id}}/verify"): COMMUNITY_ACTION,
    # The reporter rates a closed case; nobody else, administrators included.
    ("POST", f"{V1}/reports/{{report_id}}/rate"): {
        IN: {
            OK: "courier1",
            REFUSED: "admin supervisor supervisor2 viewer key staff1 grid1",
            HIDDEN: "*",
        },
        OUT: {REFUSED: "admin key", HIDDEN: "*"},
    },
    # The whistle (吹哨): refused by role first (only staff and supervisors whistle), then
    # hidden outside the caller's place.
    ("POST", f"{V1}/reports/{{report_id}}/whistle"): CASE_STAFF_ON_JOB,
    # --- the units' jobs -------------------------------------------------------------------
    # Read by the unit, the case's staff and grid workers, the supervisors and viewers (and
    # dashboard keys) of a region above it; couriers and residents have no job list.
    ("GET", f"{V1}/jobs"): {
        IN: {LISTED: JOB_IN_SEEN_BY, UNLISTED: "unit3", REFUSED: "courier1 resident1"},
        OUT: {LISTED: "admin unit3", UNLISTED: "*", REFUSED: "courier1 resident1"},
    },
    ("GET", f"{V1}/jobs/{{job_id}}"): {
        IN: {OK: JOB_IN_SEEN_BY, HIDDEN: "unit3", REFUSED: "courier1 resident1"},
        OUT: {OK: "admin unit3", HIDDEN: "*", REFUSED: "courier1 resident1"},
        NEAR: {OK: CASE_NEAR_SEEN_BY, HIDDEN: "*", REFUSED: "courier1 resident1"},
    },
    ("POST", f"{V1}/jobs/{{job_id}}/accept"): UNIT_ACTION,
    ("POST", f"{V1}/jobs/{{job_id}}/decline"): UNIT_ACTION,
    ("POST", f"{V1}/jobs/{{job_id}}/progress"): UNIT_ACTION,
    ("POST", f"{V1}/jobs/{{job_id}}/complete"): UNIT_ACTION,
    ("POST", f"{V1}/jobs/{{job_id}}/extension"): UNIT_ACTION,
    ("POST", f"{V1}/jobs/{{job_id}}/extension/grant"): CASE_STAFF_ON_JOB,
    ("POST", f"{V1}/jobs/{{job_id}}/extension/refuse"): CASE_STAFF_ON_JOB,
    ("POST", f"{V1}/jobs/{{job_id}}/cancel"): CASE_STAFF_ON_JOB,
    # --- points: the leaderboard shows sums and display names to every signed-in caller ---
    ("GET", f"{V1}/leaderboard"): same(SIGNED_IN),
    # --- the points store (积分超市): a community's shelf, run by its staff -----------------
    # Each column's shelf has a reward, bought by the place's volunteer (in 东街社区 courier1,
    # with points earned there).
    ("GET", f"{V1}/rewards"): {
        IN: {LISTED: SHELF_IN_SEEN_BY, UNLISTED: "*"},
        OUT: {LISTED: "admin", UNLISTED: "*"},
        NEAR: {LISTED: NEAR_OVERSEEN_BY, UNLISTED: "*"},
    },
    ("GET", f"{V1}/rewards/{{reward_id}}"): {
        IN: {OK: SHELF_IN_SEEN_BY, HIDDEN: "*"},
        OUT: {OK: "admin", HIDDEN: "*"},
        NEAR: {OK: NEAR_OVERSEEN_BY, HIDDEN: "*"},
    },
    # Stocking a shelf names it in the body: whoever does not run it is refused.
    ("POST", f"{V1}/rewards"): {
        IN: {OK: "admin staff1", REFUSED: "*"},
        OUT: {OK: "admin", REFUSED: "*"},
    },
    ("PATCH", f"{V1}/rewards/{{reward_id}}"): {
        IN: {
            OK: "admin staff1",
            REFUSED: "supervisor supervisor2 viewer key grid1 courier1",
            HIDDEN: "*",
        },
        OUT: {OK: "admin", REFUSED: "key", HIDDEN: "*"},
        NEAR: {OK: "admin", REFUSED: "supervisor viewer key", HIDDEN: "*"},
    },
    # Buying is for the shelf's people (a 409 if they lack the points): those who oversee it
    # only read it.
    ("POST", f"{V1}/redemptions"): {
        IN: {
            OK: "admin staff1 grid1 courier1",
            REFUSED: "supervisor supervisor2 viewer key",
            HIDDEN: "*",
        },
        OUT: {OK: "admin", REFUSED: "key", HIDDEN: "*"},
    },
    ("GET", f"{V1}/redemptions"): {
        IN: {LISTED: "admin staff1 courier1", UNLISTED: "*", REFUSED: "key"},
        OUT: {LISTED: "admin", UNLISTED: "*", REFUSED: "key"},
    },
    ("GET", f"{V1}/redemptions/{{redemption_id}}"): REDEMPTION,
    # 核销: the shop, against the code its buyer shows; the buyer sees the purchase, and may
    # not hand it over to themselves.
    ("POST", f"{V1}/redemptions/hand-over"): {
        IN: {OK: "admin staff1", REFUSED: "key courier1", HIDDEN: "*"},
        OUT: {OK: "admin", REFUSED: "key", HIDDEN: "*"},
    },
    ("POST", f"{V1}/redemptions/{{redemption_id}}/cancel"): REDEMPTION,
    # --- micro-wishes (微心愿): a resident posts, the community reviews, a volunteer claims --
    # Anyone posts their own wish for any community.
    ("POST", f"{V1}/wishes"): same(PEOPLE),
    ("GET", f"{V1}/wishes"): {
        IN: {LISTED: WISH_IN_SEEN_BY, UNLISTED: "*"},
        OUT: {LISTED: "admin", UNLISTED: "*"},
        NEAR: {LISTED: NEAR_OVERSEEN_BY, UNLISTED: "*"},
    },
    ("GET", f"{V1}/wishes/{{wish_id}}"): {
        IN: {OK: WISH_IN_SEEN_BY, HIDDEN: "*"},
        OUT: {OK: "admin", HIDDEN: "*"},
        NEAR: {OK: NEAR_OVERSEEN_BY, HIDDEN: "*"},
    },
    ("POST", f"{V1}/wishes/{{wish_id}}/publish"): {
        **WISH_REVIEW,
        NEAR: {OK: "admin", REFUSED: "supervisor viewer key", HIDDEN: "*"},
    },
    ("POST", f"{V1}/wishes/{{wish_id}}/decline"): WISH_REVIEW,
    # A published wish: its resident or staff take it back.
    ("POST", f"{V1}/wishes/{{wish_id}}/withdraw"): wish_action(
        "admin staff1 resident1", staff_act=True
    ),
    # The community's volunteers (not the resident, not its staff as such).
    ("POST", f"{V1}/wishes/{{wish_id}}/claim"): wish_action("grid1 courier1", staff_act=False),
    # A wish courier1 claimed: courier1 gives it up, or its staff take it back.
    ("POST", f"{V1}/wishes/{{wish_id}}/release"): wish_action(
        "admin staff1 courier1", staff_act=True
    ),
    # The claimant, with a photo of their own upload; nobody else, administrators included.
    ("POST", f"{V1}/wishes/{{wish_id}}/fulfil"): wish_action("courier1", staff_act=False),
    # A fulfilled wish whose resident let the time to confirm pass: the resident, or its staff.
    ("POST", f"{V1}/wishes/{{wish_id}}/confirm"): wish_action(
        "admin staff1 resident1", staff_act=True
    ),
    # The resident's own say: not done yet (a fulfilled wish), thanks (a confirmed one).
    ("POST", f"{V1}/wishes/{{wish_id}}/reopen"): wish_action("resident1", staff_act=False),
    ("POST", f"{V1}/wishes/{{wish_id}}/thank"): wish_action("resident1", staff_act=False),
    # --- webhooks and live events -----------------------------------------------------------
    ("POST", f"{V1}/webhooks"): {
        IN: {OK: "admin unit1", REFUSED: "*"},
        OUT: {OK: "admin unit3", REFUSED: "*"},
    },
    ("GET", f"{V1}/webhooks"): {
        IN: {LISTED: "admin unit1", UNLISTED: "unit3", REFUSED: "*"},
        OUT: {LISTED: "admin unit3", UNLISTED: "unit1", REFUSED: "*"},
    },
    ("GET", f"{V1}/webhooks/{{webhook_id}}"): WEBHOOK_OF_UNIT,
    ("PATCH", f"{V1}/webhooks/{{webhook_id}}"): WEBHOOK_OF_UNIT,
    ("DELETE", f"{V1}/webhooks/{{webhook_id}}"): WEBHOOK_OF_UNIT,
    ("GET", f"{V1}/webhooks/{{webhook_id}}/deliveries"): WEBHOOK_OF_UNIT,
    ("POST", f"{V1}/webhooks/{{webhook_id}}/deliveries/{{delivery_id}}/retry"): WEBHOOK_OF_UNIT,
    # Every signed-in caller may open the stream; each receives the events it may see.
    ("GET", f"{V1}/events/stream"): {ANY: SIGNED_IN},
    ("GET", f"{V1}/events/recent"): {ANY: SIGNED_IN},
    # --- statistics: for those who run the work and watch it, not couriers and residents ---
    # Each is asked filtered to a place (a region, a community or a unit; a different kind on
    # each row): one the caller may name answers, one it may not is not found.
    ("GET", f"{V1}/stats/summary"): STATS_BY_TOWNSHIP,
    ("GET", f"{V1}/stats/units"): STATS_BY_UNIT,
    ("GET", f"{V1}/stats/units/export"): STATS_BY_UNIT,
    ("GET", f"{V1}/stats/communities"): STATS_BY_COMMUNITY,
    # The banner: above 陕坝镇, which is all supervisor2 may name.
    ("GET", f"{V1}/stats/categories"): {
        IN: {
            OK: "admin supervisor viewer key staff1 grid1 unit1 unit3",
            REFUSED: "courier1 resident1",
            HIDDEN: "supervisor2",
        },
        OUT: STATS_OUT,
    },
    ("GET", f"{V1}/stats/couriers"): STATS_BY_COMMUNITY,
    ("GET", f"{V1}/stats/timeseries"): STATS_BY_UNIT,
    ("GET", f"{V1}/stats/heatmap"): STATS_BY_TOWNSHIP,
    ("GET", f"{V1}/stats/lights"): STATS_BY_TOWNSHIP,
}

# Permissions that depend on what a request asks, not only on where it goes: rows of their
# own for one route, (method, path, what is asked).
VARIANTS: dict[tuple[str, str, str], Row] = {
    # Yellow and red cards (督办) are the supervisors' to give; community staff escalate with
    # the normal level only.
    ("POST", f"{V1}/reports/{{report_id}}/escalate", "a yellow card"): {
        IN: {
            OK: "admin supervisor supervisor2",
            REFUSED: "viewer key staff1 grid1 courier1",
            HIDDEN: "*",
        },
        OUT: {OK: "admin", REFUSED: "key", HIDDEN: "*"},
    },
    # Internal notes are for the case's staff: its reporter may comment, not internally.
    ("POST", f"{V1}/reports/{{report_id}}/comments", "an internal note"): {
        IN: {
            OK: "admin supervisor supervisor2 staff1 grid1",
            REFUSED: "viewer key unit1 courier1",
            HIDDEN: "*",
        },
        OUT: {OK: "admin", REFUSED: "key unit3", HIDDEN: "*"},
    },
    # A delivery is reached only through its own webhook: unit1's webhook with a delivery of
    # the other county's (unit3's) webhook is not found, for its managers too.
    (
        "POST",
        f"{V1}/webhooks/{{webhook_id}}/deliveries/{{delivery_id}}/retry",
        "another webhook's delivery",
    ): {IN: {HIDDEN: "admin unit1 unit3", REFUSED: "*"}},
    # A wish for a resident without an account is the community's staff's to post.
    ("POST", f"{V1}/wishes", "for a resident without an account"): {
        IN: {OK: "admin staff1", REFUSED: "*"},
        OUT: {OK: "admin", REFUSED: "*"},
    },
    # Volunteers see their community's wishes from publication on: one another volunteer
    # claimed too (grid1; courier1 claimed it).
    ("GET", f"{V1}/wishes/{{wish_id}}", "a wish another volunteer claimed"): {
        IN: {OK: WISH_IN_SEEN_BY, HIDDEN: "*"},
    },
}

# (method, path[, variant], scope, role) → why the service does not answer as the table
# says yet.
DEFECTS: dict[tuple[str, ...], str] = {}


def expand(cell: Cell) -> dict[str, Outcome]:
    """The outcome of every role in a cell: the named ones, ``*`` for the rest of the
    signed-in roles, 401 for an anonymous caller the cell does not name."""
    named: dict[str, Outcome] = {}
    rest: Outcome | None = None
    for outcome, roles in cell.items():
        for role in roles.split():
            if role == "*":
                if rest is not None:
                    raise ValueError(f"* stands for both {rest} and {outcome}")
                rest = outcome
            elif role not in ROLES:
                raise ValueError(f"no role {role!r}")
            elif role in named:
                raise ValueError(f"{role} is both {named[role]} and {outcome}")
            else:
                named[role] = outcome
    expected: dict[str, Outcome] = {}
    for role in ROLES:
        if role in named:
            expected[role] = named[role]
        elif role == "anonymous":
            expected[role] = SIGN_IN
        elif rest is not None:
            expected[role] = rest
        else:
            raise ValueError(f"the cell does not say what {role} gets")
    return expected
