"""``Idempotency-Key`` on report intake: a retry gets the first answer and creates nothing, even
when the twin requests arrive at the same moment; and case numbers stay unique under load."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.storage import LocalPhotoStorage
from app.models import IdempotencyRecord, Photo, Report
from app.reports import intake
from tests.conftest import LoginFn
from tests.reports.conftest import COMMUNITY_1_POINT, photo_bytes

# --- helpers --------------------------------------------------------------------------------


def stored_files(settings: Settings) -> set[str]:
    root = Path(settings.photo_dir)
    if not root.exists():
        return set()
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


async def row_counts(session: AsyncSession) -> tuple[int, int]:
    await session.rollback()  # a fresh snapshot: what the API committed so far
    reports = await session.scalar(select(func.count()).select_from(Report))
    photos = await session.scalar(select(func.count()).select_from(Photo))
    await session.rollback()
    return reports or 0, photos or 0


async def photo_keys(session: AsyncSession) -> set[str]:
    await session.rollback()
    rows = (await session.execute(select(Photo.display_key, Photo.thumbnail_key))).all()
    await session.rollback()
    return {key for row in rows for key in row}


def form(**overrides: Any) -> dict[str, str]:
    fields = {
        "category_code": "chaotic_parking",
        "description": "巷子里乱停车，消防车进不去",
        "lat": str(COMMUNITY_1_POINT[0]),
        "lng": str(COMMUNITY_1_POINT[1]),
    }
    fields.update({k: str(v) for k, v in overrides.items()})
    return fields


def files(*names: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("photos", (name, photo_bytes(name), "image/jpeg")) for name in names]


async def post(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    key: str | None,
    *,
    data: dict[str, str] | None = None,
    photos: list[tuple[str, tuple[str, bytes, str]]] | None = None,
) -> httpx.Response:
    extra = {"Idempotency-Key": key} if key is not None else {}
    return await client.post(
        "/api/v1/reports",
        data=data or form(),
        files=photos or files("Canon_40D.jpg", "landscape_3.jpg"),
        headers={**headers, **extra},
    )


# --- sequential retries -----------------------------------------------------------------------


async def test_a_retry_gets_the_first_answer_and_creates_nothing(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, settings: Settings
) -> None:
    headers = await login("courier1")
    key = str(uuid.uuid4())
    first = await post(client, headers, key)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    files_after_first = stored_files(settings)
    assert len(files_after_first) == 4  # two photos, display and thumbnail each

    retry = await post(client, headers, key)
    assert retry.status_code == 201, retry.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]
    assert retry.json()["number"] == first.json()["number"]
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]

    assert await row_counts(session) == (1, 2)
    assert stored_files(settings) == files_after_first == await photo_keys(session)

    # A third time, with the photos sent under other names, is the same request.
    renamed = [
        ("photos", ("IMG_1.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg")),
        ("photos", ("IMG_2.jpg", photo_bytes("landscape_3.jpg"), "image/jpeg")),
    ]
    third = await post(client, headers, key, photos=renamed)
    assert third.status_code == 201
    assert third.json()["id"] == first.json()["id"]
    assert await row_counts(session) == (1, 2)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"data": form(description="另一件事")}, id="description"),
        pytest.param({"data": form(lat=COMMUNITY_1_POINT[0] + 0.001)}, id="lat"),
        pytest.param({"data": form(category_code="street_vending")}, id="category"),
        pytest.param({"data": form(coord_system="gcj02")}, id="coord-system"),
        pytest.param({"photos": files("Canon_40D.jpg")}, id="one-photo-less"),
        pytest.param({"photos": files("landscape_3.jpg", "Canon_40D.jpg")}, id="photo-order"),
        pytest.param({"photos": files("Canon_40D.jpg", "portrait_6.jpg")}, id="other-photo"),
    ],
)
async def test_the_same_key_with_another_body_is_refused(
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
    change: dict[str, Any],
) -> None:
    headers = await login("courier1")
    key = "retry-" + uuid.uuid4().hex
    first = await post(client, headers, key)
    assert first.status_code == 201, first.text
    files_before = stored_files(settings)

    other = await post(client, headers, key, **change)
    assert other.status_code == 422, other.text
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key_reused"
    assert await row_counts(session) == (1, 2)
    assert stored_files(settings) == files_before

    # The key still answers the original request.
    again = await post(client, headers, key)
    assert again.json()["id"] == first.json()["id"]


async def test_keys_belong_to_their_user(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, settings: Settings
) -> None:
    key = "shared-key-1"
    mine = await post(client, await login("courier1"), key)
    theirs = await post(client, await login("courier2"), key)
    assert mine.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert mine.json()["number"] != theirs.json()["number"]
    assert await row_counts(session) == (2, 4)
    assert len(stored_files(settings)) == 8


async def test_a_refused_request_does_not_use_up_its_key(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, settings: Settings
) -> None:
    headers = await login("courier1")
    key = str(uuid.uuid4())
    bad = await post(client, headers, key, data=form(category_code="no_such_category"))
    assert bad.status_code == 422
    assert bad.json()["code"] == "validation_error"
    bad_photo = await post(
        client, headers, key, photos=[("photos", ("x.jpg", b"not an image", "image/jpeg"))]
    )
    assert bad_photo.status_code == 422
    assert bad_photo.json()["code"] == "photo_rejected"
    assert await row_counts(session) == (0, 0)
    assert stored_files(settings) == set()

    fixed = await post(client, headers, key)
    assert fixed.status_code == 201, fixed.text
    assert "idempotent-replayed" not in fixed.headers
    assert await row_counts(session) == (1, 2)


@pytest.mark.parametrize("key", ["", "   ", "x" * 201, "tab\tin\tkey"])
async def test_an_unusable_key_is_refused(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, settings: Settings, key: str
) -> None:
    response = await client.post(
        "/api/v1/reports",
        data=form(),
        files=files("Canon_40D.jpg"),
        headers={**(await login("courier1")), "Idempotency-Key": key},
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await row_counts(session) == (0, 0)
    assert stored_files(settings) == set()


# --- concurrent twins -------------------------------------------------------------------------


class CountingStorage(LocalPhotoStorage):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.puts: list[str] = []
        self.deletes: list[str] = []

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        self.puts.append(key)
        await super().put(key, data, content_type)

    async def delete(self, key: str) -> None:
        self.deletes.append(key)
        await super().delete(key)


async def test_concurrent_twins_make_one_report(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
) -> None:
    headers = await login("courier1")
    key = str(uuid.uuid4())
    first, second = await asyncio.gather(post(client, headers, key), post(client, headers, key))
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["number"] == second.json()["number"]
    assert await row_counts(session) == (1, 2)
    assert stored_files(settings) == await photo_keys(session)
    assert len(stored_files(settings)) == 4


async def test_the_loser_of_a_race_removes_its_uploads(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both twins pass the look-up and upload their photos before either writes a row: the
    database lets one win; the other undoes its rows, removes what it uploaded and replays the
    winner's answer."""
    storage = CountingStorage(settings.photo_dir)
    app.state.photo_storage = storage
    barrier = asyncio.Barrier(2)
    real_write = intake._write

    async def write_together(*args: Any, **kwargs: Any) -> Any:
        # The first write of a submission: both twins have uploaded their photos by now.
        await asyncio.wait_for(barrier.wait(), timeout=30)
        return await real_write(*args, **kwargs)

    monkeypatch.setattr(intake, "_write", write_together)
    headers = await login("courier1")
    key = str(uuid.uuid4())
    responses = await asyncio.gather(post(client, headers, key), post(client, headers, key))
    assert [r.status_code for r in responses] == [201, 201], [r.text for r in responses]
    assert responses[0].json()["id"] == responses[1].json()["id"]
    assert sorted(r.headers.get("idempotent-replayed", "") for r in responses) == ["", "true"]
    assert responses[0].json() == responses[1].json()

    assert len(storage.puts) == 8  # both uploaded their two photos
    assert len(storage.deletes) == 4  # the loser took its four objects back
    assert set(storage.deletes) <= set(storage.puts)
    assert await row_counts(session) == (1, 2)
    kept = await photo_keys(session)
    assert stored_files(settings) == kept
    assert kept == set(storage.puts) - set(storage.deletes)

    await session.rollback()
    records = await session.scalar(select(func.count()).select_from(IdempotencyRecord))
    await session.rollback()
    assert records == 1


async def test_racing_twins_with_different_bodies(
    app: FastAPI,
    client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same key sent at once with two different bodies: one report, the other request is
    told the key was used for something else, and its uploads are gone."""
    barrier = asyncio.Barrier(2)
    real_write = intake._write

    async def write_together(*args: Any, **kwargs: Any) -> Any:
        # The first write of a submission: both twins have uploaded their photos by now.
        await asyncio.wait_for(barrier.wait(), timeout=30)
        return await real_write(*args, **kwargs)

    monkeypatch.setattr(intake, "_write", write_together)
    headers = await login("courier1")
    responses = await asyncio.gather(
        post(client, headers, "same-key", photos=files("Canon_40D.jpg")),
        post(client, headers, "same-key", photos=files("landscape_3.jpg")),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 422], [r.text for r in responses]
    [refused] = [r for r in responses if r.status_code == 422]
    assert refused.json()["code"] == "idempotency_key_reused"
    assert await row_counts(session) == (1, 1)
    assert stored_files(settings) == await photo_keys(session)
    assert len(stored_files(settings)) == 2


async def test_concurrent_submissions_get_consecutive_numbers(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, settings: Settings
) -> None:
    users = ["courier1", "courier2", "grid1", "resident1"]
    headers = {user: await login(user) for user in users}
    requests = [
        post(client, headers[users[i % len(users)]], None, photos=files("Canon_40D.jpg"))
        for i in range(8)
    ]
    responses = await asyncio.gather(*requests)
    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    numbers = [r.json()["number"] for r in responses]
    assert len(set(numbers)) == 8
    assert len({r.json()["id"] for r in responses}) == 8
    parsed = [re.fullmatch(r"SSP-150826-(\d{8})-(\d{6})", n) for n in numbers]
    assert all(parsed)
    assert len({m.group(1) for m in parsed if m}) == 1  # all today
    sequence = sorted(int(m.group(2)) for m in parsed if m)
    assert sequence == list(range(1, 9))  # the day's first eight, no gap
    assert await row_counts(session) == (8, 8)
    assert len(stored_files(settings)) == 16


async def test_concurrent_twins_among_other_submissions(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, settings: Settings
) -> None:
    headers = await login("courier1")
    keys = ["k1", "k1", "k2", "k2", "k2", None, None]
    responses = await asyncio.gather(
        *(post(client, headers, key, photos=files("Canon_40D.jpg")) for key in keys)
    )
    assert [r.status_code for r in responses] == [201] * len(keys), [r.text for r in responses]
    ids = [r.json()["id"] for r in responses]
    assert ids[0] == ids[1]
    assert ids[2] == ids[3] == ids[4]
    assert len(set(ids)) == 4
    assert await row_counts(session) == (4, 4)
    assert stored_files(settings) == await photo_keys(session)
    assert len(stored_files(settings)) == 8
