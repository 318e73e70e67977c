"""Every (status, action) pair of the report state machine: the table's answer or a refusal."""

from __future__ import annotations

import itertools

import pytest

from app.cases.transitions import (
    REPORT_STATUS_TIMESTAMP,
    REPORT_TRANSITIONS,
    Actor,
    ReportAction,
    Target,
    TransitionRefused,
    check_actor,
    next_report_status,
    report_rule,
)
from app.models.enums import ReportStatus

RS, RA = ReportStatus, ReportAction

# The expected machine, written out independently of the table: (status, action) → target.
EXPECTED: dict[tuple[ReportStatus, ReportAction], ReportStatus | str] = {
    (RS.submitted, RA.accept): RS.accepted,
    (RS.submitted, RA.reject): RS.rejected,
    (RS.submitted, RA.mark_duplicate): RS.duplicate,
    (RS.submitted, RA.transfer): RS.submitted,
    (RS.accepted, RA.start): RS.in_progress,
    (RS.accepted, RA.whistle): RS.dispatched,
    (RS.accepted, RA.escalate): RS.accepted,
    (RS.accepted, RA.hold): RS.on_hold,
    (RS.in_progress, RA.whistle): RS.dispatched,
    (RS.in_progress, RA.resolve): RS.resolved,
    (RS.in_progress, RA.escalate): RS.in_progress,
    (RS.in_progress, RA.hold): RS.on_hold,
    (RS.dispatched, RA.whistle): RS.dispatched,
    (RS.dispatched, RA.lead_completed): RS.resolved,
    (RS.dispatched, RA.all_declined): RS.accepted,
    (RS.dispatched, RA.escalate): RS.dispatched,
    (RS.dispatched, RA.hold): RS.on_hold,
    (RS.on_hold, RA.resume): "previous",
    (RS.resolved, RA.verify_pass): RS.closed,
    (RS.resolved, RA.verify_fail): "handling",
    (RS.closed, RA.reopen): RS.accepted,
    (RS.closed, RA.rate): RS.closed,
}

ALL_PAIRS = list(itertools.product(ReportStatus, ReportAction))


def test_the_table_is_the_expected_machine() -> None:
    assert set(REPORT_TRANSITIONS) == set(EXPECTED)
    for pair, target in EXPECTED.items():
        assert str(REPORT_TRANSITIONS[pair].to) == str(target), pair


@pytest.mark.parametrize(("status", "action"), ALL_PAIRS)
def test_every_pair(status: ReportStatus, action: ReportAction) -> None:
    expected = EXPECTED.get((status, action))
    if expected is None:
        with pytest.raises(TransitionRefused) as refused:
            next_report_status(status, action, previous=RS.accepted)
        assert refused.value.by_status
        assert status.value in str(refused.value)
        assert action.value in str(refused.value)
    elif expected == "previous":
        for before in (RS.accepted, RS.in_progress, RS.dispatched):
            assert next_report_status(status, action, previous=before) is before
    elif expected == "handling":
        assert next_report_status(status, action, whistled=True) is RS.dispatched
        assert next_report_status(status, action, whistled=False) is RS.in_progress
    else:
        assert next_report_status(status, action) is expected


def test_terminal_statuses_allow_nothing() -> None:
    for status in (RS.rejected, RS.duplicate):
        assert not [a for a in ReportAction if (status, a) in REPORT_TRANSITIONS]


def test_resume_without_a_previous_status_is_refused() -> None:
    with pytest.raises(TransitionRefused):
        next_report_status(RS.on_hold, RA.resume, previous=None)


@pytest.mark.parametrize(
    ("status", "action", "allowed"),
    [
        (RS.submitted, RA.accept, {Actor.community_staff, Actor.supervisor}),
        (RS.accepted, RA.start, {Actor.community_staff}),
        (RS.in_progress, RA.resolve, {Actor.community_staff, Actor.grid_worker}),
        (RS.resolved, RA.verify_pass, {Actor.community_staff, Actor.grid_worker}),
        (RS.accepted, RA.hold, {Actor.supervisor}),
        (RS.on_hold, RA.resume, {Actor.supervisor}),
        (RS.closed, RA.rate, {Actor.reporter}),
        (RS.dispatched, RA.lead_completed, {Actor.system}),
        (RS.dispatched, RA.all_declined, {Actor.system}),
    ],
)
def test_who_may_act(status: ReportStatus, action: ReportAction, allowed: set[Actor]) -> None:
    rule = report_rule(status, action)
    assert rule.actors == allowed
    for actor in Actor:
        if actor in allowed:
            check_actor(rule, frozenset({actor}), action.value)
        else:
            with pytest.raises(TransitionRefused) as refused:
                check_actor(rule, frozenset({actor}), action.value)
            assert not refused.value.by_status


def test_every_status_has_its_timestamp_column() -> None:
    assert set(REPORT_STATUS_TIMESTAMP) == set(ReportStatus)
    targets = {r.to for r in REPORT_TRANSITIONS.values() if not isinstance(r.to, Target)}
    assert targets <= set(ReportStatus)
