"""Every (status, action) pair of the job state machine: the table's answer or a refusal."""

from __future__ import annotations

import itertools

import pytest

from app.cases.transitions import (
    JOB_STATUS_TIMESTAMP,
    JOB_TRANSITIONS,
    Actor,
    JobAction,
    TransitionRefused,
    check_actor,
    job_rule,
    next_job_status,
)
from app.models.enums import JobStatus

JS, JA = JobStatus, JobAction

# The expected machine, written out independently of the table: (status, action) → target.
EXPECTED: dict[tuple[JobStatus, JobAction], JobStatus] = {
    (JS.pending, JA.accept): JS.accepted,
    (JS.pending, JA.decline): JS.declined,
    (JS.pending, JA.cancel): JS.cancelled,
    (JS.accepted, JA.progress): JS.accepted,
    (JS.accepted, JA.complete): JS.completed,
    (JS.accepted, JA.request_extension): JS.accepted,
    (JS.accepted, JA.decide_extension): JS.accepted,
    (JS.accepted, JA.cancel): JS.cancelled,
    (JS.completed, JA.rework): JS.accepted,
}

ALL_PAIRS = list(itertools.product(JobStatus, JobAction))


def test_the_table_is_the_expected_machine() -> None:
    assert set(JOB_TRANSITIONS) == set(EXPECTED)


@pytest.mark.parametrize(("status", "action"), ALL_PAIRS)
def test_every_pair(status: JobStatus, action: JobAction) -> None:
    expected = EXPECTED.get((status, action))
    if expected is None:
        with pytest.raises(TransitionRefused) as refused:
            next_job_status(status, action)
        assert refused.value.by_status
        assert status.value in str(refused.value)
        assert action.value in str(refused.value)
    else:
        assert next_job_status(status, action) is expected


def test_finished_jobs_allow_nothing_but_rework() -> None:
    for status in (JS.declined, JS.cancelled):
        assert not [a for a in JobAction if (status, a) in JOB_TRANSITIONS]
    assert [a for a in JobAction if (JS.completed, a) in JOB_TRANSITIONS] == [JA.rework]


UNIT, STAFF, SUP = Actor.unit_staff, Actor.community_staff, Actor.supervisor


@pytest.mark.parametrize(
    ("status", "action", "allowed"),
    [
        (JS.pending, JA.accept, {UNIT}),
        (JS.pending, JA.decline, {UNIT}),
        # The service cancels the open jobs of a case that ends.
        (JS.pending, JA.cancel, {STAFF, SUP, Actor.system}),
        (JS.accepted, JA.progress, {UNIT}),
        (JS.accepted, JA.complete, {UNIT}),
        (JS.accepted, JA.request_extension, {UNIT}),
        (JS.accepted, JA.decide_extension, {STAFF, SUP}),
        (JS.accepted, JA.cancel, {STAFF, SUP, Actor.system}),
        (JS.completed, JA.rework, {Actor.system}),
    ],
)
def test_who_may_act(status: JobStatus, action: JobAction, allowed: set[Actor]) -> None:
    rule = job_rule(status, action)
    assert rule.actors == allowed
    for actor in Actor:
        if actor in allowed:
            check_actor(rule, frozenset({actor}), action.value)
        else:
            with pytest.raises(TransitionRefused) as refused:
                check_actor(rule, frozenset({actor}), action.value)
            assert not refused.value.by_status


def test_every_status_has_its_timestamp_column() -> None:
    assert set(JOB_STATUS_TIMESTAMP) == set(JobStatus)
