"""The state machines of reports and jobs, as data.

Each table maps (status, action) to the status it leads to and the roles that may take it.
Everything not in a table is refused. Pure code: no I/O, no clock; the services ask these
tables before they touch anything, and the tests walk every pair."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from app.models.enums import OPEN_REPORT_STATUSES, JobStatus, ReportStatus, Role


class Actor(StrEnum):
    """Who acts, relative to the case (a role held in the right place, or the system)."""

    community_staff = "community_staff"  # staff of the report's community
    grid_worker = "grid_worker"  # grid worker of the report's community
    supervisor = "supervisor"  # supervisor of a region above the report
    reporter = "reporter"  # the person who filed the report
    unit_staff = "unit_staff"  # staff of the job's unit
    system = "system"  # the service itself, as a consequence of another action


class ReportAction(StrEnum):
    accept = "accept"  # 立案
    reject = "reject"  # 不予立案
    mark_duplicate = "mark_duplicate"
    transfer = "transfer"  # 转派
    start = "start"  # 社区自办
    whistle = "whistle"  # 吹哨
    resolve = "resolve"
    verify_pass = "verify_pass"  # 核查通过 → 结案
    verify_fail = "verify_fail"  # 核查不通过 → 返工
    reopen = "reopen"
    escalate = "escalate"  # 上报/督办
    hold = "hold"  # 挂账
    resume = "resume"
    rate = "rate"
    lead_completed = "lead_completed"  # the lead unit's job was completed
    all_declined = "all_declined"  # every unit declined: back to the community


class JobAction(StrEnum):
    accept = "accept"  # 报到/接单
    decline = "decline"  # 退单
    progress = "progress"
    complete = "complete"  # 办结
    request_extension = "request_extension"  # 延期申请
    decide_extension = "decide_extension"  # grant or refuse
    cancel = "cancel"
    rework = "rework"  # verification failed: the lead's job is reopened


class Target(StrEnum):
    """Targets that depend on the case rather than on the table."""

    previous = "previous"  # resume: back to the status before the hold
    # rework: back to in_progress (in-house) or dispatched (whistled); a case its reporter
    # cleared on the spot (随手清) and the check found not done becomes an accepted case
    handling = "handling"


@dataclass(frozen=True)
class Rule:
    to: ReportStatus | JobStatus | Target
    actors: frozenset[Actor]


def _rule(to: ReportStatus | JobStatus | Target, *actors: Actor) -> Rule:
    return Rule(to=to, actors=frozenset(actors))


RS, RA, A = ReportStatus, ReportAction, Actor
STAFF, GRID, SUP, REPORTER, SYSTEM = (
    A.community_staff,
    A.grid_worker,
    A.supervisor,
    A.reporter,
    A.system,
)
HANDLING = (RS.accepted, RS.in_progress, RS.dispatched)

REPORT_TRANSITIONS: dict[tuple[ReportStatus, ReportAction], Rule] = {
    (RS.submitted, RA.accept): _rule(RS.accepted, STAFF, SUP),
    (RS.submitted, RA.reject): _rule(RS.rejected, STAFF, SUP),
    (RS.submitted, RA.mark_duplicate): _rule(RS.duplicate, STAFF, SUP),
    (RS.submitted, RA.transfer): _rule(RS.submitted, STAFF, SUP),
    (RS.accepted, RA.start): _rule(RS.in_progress, STAFF),
    (RS.accepted, RA.whistle): _rule(RS.dispatched, STAFF, SUP),
    # Units can be called in after the community started, and more units (or a new lead after
    # the lead declined) while dispatched.
    (RS.in_progress, RA.whistle): _rule(RS.dispatched, STAFF, SUP),
    (RS.dispatched, RA.whistle): _rule(RS.dispatched, STAFF, SUP),
    (RS.in_progress, RA.resolve): _rule(RS.resolved, STAFF, GRID),
    (RS.dispatched, RA.lead_completed): _rule(RS.resolved, SYSTEM),
    (RS.dispatched, RA.all_declined): _rule(RS.accepted, SYSTEM),
    (RS.resolved, RA.verify_pass): _rule(RS.closed, STAFF, GRID),
    (RS.resolved, RA.verify_fail): _rule(Target.handling, STAFF, GRID),
    (RS.closed, RA.reopen): _rule(RS.accepted, STAFF, SUP),
    (RS.closed, RA.rate): _rule(RS.closed, REPORTER),
    (RS.on_hold, RA.resume): _rule(Target.previous, SUP),
    **{(status, RA.escalate): _rule(status, STAFF, SUP) for status in HANDLING},
    **{(status, RA.hold): _rule(RS.on_hold, SUP) for status in HANDLING},
}

# The case statuses in which its jobs' clocks run: not on hold (every clock stops), and not
# once the case ended (closed, rejected, duplicate: its open jobs are cancelled then).
JOB_CLOCKS_RUN_IN = frozenset(OPEN_REPORT_STATUSES - {RS.on_hold})

JS, JA, UNIT = JobStatus, JobAction, A.unit_staff

JOB_TRANSITIONS: dict[tuple[JobStatus, JobAction], Rule] = {
    (JS.pending, JA.accept): _rule(JS.accepted, UNIT),
    (JS.pending, JA.decline): _rule(JS.declined, UNIT),
    # The service cancels the jobs still open when their case ends (closed, rejected, duplicate).
    (JS.pending, JA.cancel): _rule(JS.cancelled, STAFF, SUP, SYSTEM),
    (JS.accepted, JA.progress): _rule(JS.accepted, UNIT),
    (JS.accepted, JA.complete): _rule(JS.completed, UNIT),
    (JS.accepted, JA.request_extension): _rule(JS.accepted, UNIT),
    (JS.accepted, JA.decide_extension): _rule(JS.accepted, STAFF, SUP),
    (JS.accepted, JA.cancel): _rule(JS.cancelled, STAFF, SUP, SYSTEM),
    (JS.completed, JA.rework): _rule(JS.accepted, SYSTEM),
}

# Roles that hold each actor kind, for documentation and for mapping a principal's roles.
ACTOR_ROLES: dict[Actor, Role] = {
    A.community_staff: Role.community_staff,
    A.grid_worker: Role.grid_worker,
    A.supervisor: Role.supervisor,
    A.unit_staff: Role.unit_staff,
    A.reporter: Role.reporter,
}


class TransitionRefused(Exception):
    """The action is not allowed in the status (``by_status``) or not by this actor."""

    def __init__(self, message: str, *, by_status: bool) -> None:
        super().__init__(message)
        self.by_status = by_status


def report_rule(status: ReportStatus, action: ReportAction) -> Rule:
    rule = REPORT_TRANSITIONS.get((status, action))
    if rule is None:
        raise TransitionRefused(
            f"cannot {action.value} a report that is {status.value}", by_status=True
        )
    return rule


def job_rule(status: JobStatus, action: JobAction) -> Rule:
    rule = JOB_TRANSITIONS.get((status, action))
    if rule is None:
        raise TransitionRefused(
            f"cannot {action.value} a job that is {status.value}", by_status=True
        )
    return rule


def job_action_actors(action: JobAction) -> frozenset[Actor]:
    """The parts that may take ``action`` on a job in any status."""
    return frozenset().union(
        *(rule.actors for (_, each), rule in JOB_TRANSITIONS.items() if each is action)
    )


def check_actor(rule: Rule, actors: Collection[Actor], what: str) -> None:
    """Admins act as anyone; everyone else needs one of the rule's actors."""
    if rule.actors.isdisjoint(actors):
        allowed = ", ".join(sorted(a.value for a in rule.actors))
        raise TransitionRefused(f"only {allowed} may {what}", by_status=False)


def next_report_status(
    status: ReportStatus,
    action: ReportAction,
    *,
    previous: ReportStatus | None = None,
    whistled: bool = False,
    on_the_spot: bool = False,
) -> ReportStatus:
    """Where ``action`` takes a report in ``status``; ``previous`` is the status before a hold,
    ``whistled`` whether units handle the case (for rework), ``on_the_spot`` whether it is a
    case its reporter cleared on the spot, never accepted (for a failed check)."""
    to = report_rule(status, action).to
    if to is Target.previous:
        if previous is None:
            raise TransitionRefused("the report has no status to return to", by_status=True)
        return previous
    if to is Target.handling:
        if on_the_spot:
            return RS.accepted
        return RS.dispatched if whistled else RS.in_progress
    assert isinstance(to, ReportStatus)
    return to


def next_job_status(status: JobStatus, action: JobAction) -> JobStatus:
    to = job_rule(status, action).to
    assert isinstance(to, JobStatus)
    return to


# The timestamp column each report status sets when it is entered.
REPORT_STATUS_TIMESTAMP: dict[ReportStatus, str] = {
    RS.submitted: "created_at",
    RS.accepted: "accepted_at",
    RS.in_progress: "started_at",
    RS.dispatched: "dispatched_at",
    RS.on_hold: "on_hold_at",
    RS.resolved: "resolved_at",
    RS.closed: "closed_at",
    RS.rejected: "rejected_at",
    RS.duplicate: "duplicate_at",
}

JOB_STATUS_TIMESTAMP: dict[JobStatus, str] = {
    JS.pending: "created_at",
    JS.accepted: "accepted_at",
    JS.completed: "completed_at",
    JS.declined: "declined_at",
    JS.cancelled: "cancelled_at",
}
