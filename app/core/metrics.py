"""Prometheus metrics of the process (exposed at /metrics; a ``python -m app worker`` process
exposes its own on ``SSP_WORKER_METRICS_PORT``).

Domain counters count what happened, not what was attempted: a count made inside a database
transaction is held back with ``count_on_commit`` and applied only if that transaction commits
(a request answered 409 or a sweep that failed counts nothing). The gauges of what is waiting in
the database (outbox backlog, parked deliveries, rows past retention) are set when /metrics is
scraped (app/integrations/backlog.py)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

REQUESTS = Counter("ssp_http_requests_total", "HTTP requests served", ["method", "route", "status"])
REQUEST_LATENCY = Histogram(
    "ssp_http_request_duration_seconds",
    "Time to serve an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
LOGINS = Counter("ssp_logins_total", "Sign-in attempts", ["outcome"])
CALENDAR_UNCOVERED_DEADLINES = Counter(
    "ssp_calendar_uncovered_deadlines_total",
    "Working-hour deadlines computed into a year with neither the published schedule nor "
    "days set by an administrator (counted Monday to Friday)",
    ["year"],
)

# --- The domain ------------------------------------------------------------------------------

REPORTS_FILED = Counter(
    "ssp_reports_filed_total",
    "Reports filed (replayed retries not counted)",
    ["category", "source"],
)
PHOTOS_REFUSED = Counter(
    "ssp_photos_refused_total", "Uploaded photos refused, by reason_code", ["reason"]
)
TRANSITIONS = Counter(
    "ssp_transitions_total",
    "Actions taken on reports and jobs (machine: report or job; action: e.g. accept, whistle)",
    ["machine", "action"],
)
OVERDUE_MARKS = Counter(
    "ssp_overdue_marks_total", "Clocks found past their deadline by the overdue sweep", ["clock"]
)
WEBHOOK_DELIVERIES = Counter(
    "ssp_webhook_deliveries_total",
    "Webhook delivery attempts by outcome: delivered, retry (failed, tried again later) or "
    "parked (the last attempt failed)",
    ["outcome"],
)
RETENTION_PRUNED = Counter(
    "ssp_retention_pruned_total",
    "Rows deleted because they outlived the retention period",
    ["table"],
)

# Set at scrape time from the database: the same value in every API process.
OUTBOX_BACKLOG = Gauge(
    "ssp_outbox_backlog",
    "Work waiting in the outbox: events not yet fanned out (stage=fan_out), deliveries of "
    "active webhooks waiting to be sent (stage=delivery)",
    ["stage"],
)
OUTBOX_OLDEST_AGE = Gauge(
    "ssp_outbox_oldest_undelivered_age_seconds",
    "Age of the oldest event not yet fanned out or with a delivery still to send; 0 when none",
)
WEBHOOK_DELIVERIES_PARKED = Gauge(
    "ssp_webhook_deliveries_parked", "Deliveries parked after their last attempt, awaiting a retry"
)
RETENTION_BACKLOG = Gauge(
    "ssp_retention_backlog",
    "Rows older than the retention period still stored: kept because a delivery still needs "
    "them (pending or parked), or not pruned yet",
    ["table"],
)

_COUNT_ON_COMMIT = "ssp_count_on_commit"


def count_on_commit(session: AsyncSession | Session, counter: Counter, amount: float = 1.0) -> None:
    """Add ``amount`` to ``counter`` when the transaction of ``session`` commits; forget it if
    the transaction ends otherwise."""
    session.info.setdefault(_COUNT_ON_COMMIT, []).append((counter, amount))


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    for counter, amount in session.info.pop(_COUNT_ON_COMMIT, ()):
        counter.inc(amount)


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # After a commit the counts were taken already; after a rollback (or a session closed
    # without committing) they never happened.
    if transaction.parent is None:
        session.info.pop(_COUNT_ON_COMMIT, None)
