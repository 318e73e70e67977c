"""Personal data the service no longer needs is deleted by the worker: Idempotency-Key answers
after their period, sign-in sessions (address, user agent) that ended before the retention
period, login-failure counters that ran out. What is still in use stays."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models import AuthSession, IdempotencyRecord, LoginThrottle, RefreshToken
from app.privacy.retention import prune_personal_data
from tests.conftest import DEMO_PASSWORD
from tests.reports.conftest import (
    SubmitFn,
    submit,  # noqa: F401
)

NOW = datetime.now(UTC).replace(microsecond=0)


async def _sign_in(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def _newest_session(db: AsyncSession) -> uuid.UUID:
    """The newest session (the one just signed in)."""
    newest = await db.scalar(select(AuthSession.id).order_by(AuthSession.created_at.desc()))
    assert newest is not None
    return newest


async def test_old_idempotency_answers_go_and_a_late_retry_files_anew(
    app: FastAPI,
    client: httpx.AsyncClient,
    submit: SubmitFn,  # noqa: F811
    session: AsyncSession,
    settings: Settings,
) -> None:
    first = await submit("courier1", headers={"Idempotency-Key": "late-retry"})
    fresh = await submit("courier2", headers={"Idempotency-Key": "fresh"})
    assert first.status_code == fresh.status_code == 201
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.key == "late-retry")
        .values(created_at=NOW - timedelta(hours=settings.idempotency_key_hours + 1))
    )
    await session.commit()

    pruned = await prune_personal_data(app.state.sessionmaker, settings, NOW)

    assert pruned.deleted == {"idempotency_records": 1}
    kept = await session.scalars(select(IdempotencyRecord.key))
    assert set(kept) == {"fresh"}
    replayed = await submit("courier2", headers={"Idempotency-Key": "fresh"})
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    late = await submit("courier1", headers={"Idempotency-Key": "late-retry"})
    assert late.status_code == 201
    assert late.json()["id"] != first.json()["id"]


async def test_sessions_that_ended_long_ago_go_with_their_tokens(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    long_ago = NOW - timedelta(days=settings.retention_days + 1)
    sessions: dict[str, uuid.UUID] = {}
    tokens: dict[str, str] = {}
    for name in ("revoked_long_ago", "expired_long_ago", "revoked_lately", "in_use"):
        tokens[name] = (await _sign_in(client, "staff1"))["refresh_token"]
        sessions[name] = await _newest_session(session)
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == sessions["revoked_long_ago"])
        .values(created_at=long_ago, revoked_at=long_ago, revoke_reason="signed_out")
    )
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == sessions["expired_long_ago"])
        .values(created_at=long_ago - timedelta(days=settings.refresh_token_days))
    )
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.session_id == sessions["expired_long_ago"])
        .values(expires_at=long_ago)
    )
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == sessions["revoked_lately"])
        .values(created_at=long_ago, revoked_at=NOW - timedelta(days=1))
    )
    # Started long ago, renewed since: still in use.
    await session.execute(
        update(AuthSession).where(AuthSession.id == sessions["in_use"]).values(created_at=long_ago)
    )
    await session.commit()

    pruned = await prune_personal_data(app.state.sessionmaker, settings, NOW)

    assert pruned.deleted.get("auth_sessions") == 2
    session.expire_all()
    left = set(await session.scalars(select(AuthSession.id)))
    assert sessions["revoked_long_ago"] not in left
    assert sessions["expired_long_ago"] not in left
    assert {sessions["revoked_lately"], sessions["in_use"]} <= left
    orphans = await session.scalars(
        select(RefreshToken.id).where(
            RefreshToken.session_id.in_(
                [sessions["revoked_long_ago"], sessions["expired_long_ago"]]
            )
        )
    )
    assert list(orphans) == []
    renewed = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["in_use"]})
    assert renewed.status_code == 200, renewed.text


async def test_spent_login_failure_counters_go_and_live_locks_stay(
    app: FastAPI, session: AsyncSession, settings: Settings
) -> None:
    window = timedelta(seconds=settings.login_failure_window_seconds)
    session.add_all(
        [
            LoginThrottle(key="account:spent", failures=3, window_started_at=NOW - 2 * window),
            LoginThrottle(key="account:counting", failures=2, window_started_at=NOW),
            LoginThrottle(
                key="address:locked",
                failures=20,
                window_started_at=NOW - 2 * window,
                locked_until=NOW + timedelta(minutes=5),
            ),
        ]
    )
    await session.commit()

    pruned = await prune_personal_data(app.state.sessionmaker, settings, NOW)

    assert pruned.deleted == {"login_throttles": 1}
    session.expire_all()
    assert set(await session.scalars(select(LoginThrottle.key))) == {
        "account:counting",
        "address:locked",
    }


async def test_a_backlog_goes_in_batches_within_one_pass(
    app: FastAPI,
    submit: SubmitFn,  # noqa: F811
    session: AsyncSession,
    settings: Settings,
) -> None:
    for number in range(5):
        response = await submit("courier1", headers={"Idempotency-Key": f"old-{number}"})
        assert response.status_code == 201
    await session.execute(update(IdempotencyRecord).values(created_at=NOW - timedelta(days=30)))
    await session.commit()
    small = settings.model_copy(update={"retention_batch_size": 2})

    pruned = await prune_personal_data(app.state.sessionmaker, small, NOW)

    assert pruned.deleted == {"idempotency_records": 5}
    assert list(await session.scalars(select(IdempotencyRecord.key))) == []
