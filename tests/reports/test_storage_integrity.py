"""Photos and rows stay in step: a failed photo write leaves no report, a failed database write
leaves no stored photo; and the whole intake works against an S3-compatible store."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from fastapi import FastAPI
from moto.server import ThreadedMotoServer
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.storage import LocalPhotoStorage, S3PhotoStorage
from app.main import create_app
from app.models import IdempotencyRecord, Photo, Report, ReportEvent, ReportNumberCounter
from app.reports import intake, new_rows
from tests.conftest import LoginFn
from tests.reports.conftest import COMMUNITY_1_POINT, photo_bytes

PASSWORD = "suishoupai-demo"

# --- helpers --------------------------------------------------------------------------------


def stored_files(settings: Settings) -> set[str]:
    root = Path(settings.photo_dir)
    if not root.exists():
        return set()
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


async def count(session: AsyncSession, model: type[Any]) -> int:
    await session.rollback()  # a fresh snapshot: what the API committed so far
    value = await session.scalar(select(func.count()).select_from(model))
    await session.rollback()
    return value or 0


async def nothing_written(session: AsyncSession, settings: Settings) -> None:
    for model in (Report, Photo, ReportEvent, IdempotencyRecord):
        assert await count(session, model) == 0, model.__name__
    assert stored_files(settings) == set()


FORM = {
    "category_code": "chaotic_parking",
    "description": "巷子里乱停车，消防车进不去",
    "lat": str(COMMUNITY_1_POINT[0]),
    "lng": str(COMMUNITY_1_POINT[1]),
}


def files(*names: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("photos", (name, photo_bytes(name), "image/jpeg")) for name in names]


@pytest.fixture
async def lenient_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that gets the app's 500 answer instead of the exception behind it."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def assert_server_problem(response: httpx.Response) -> None:
    assert response.status_code >= 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "Traceback" not in response.text


# --- a failed photo write ---------------------------------------------------------------------


class StorageDown(OSError):
    pass


class FailingOnSecondPut(LocalPhotoStorage):
    """Writes the first object, refuses the second (a store that fills up or drops out)."""

    def __init__(self, root: Path, fail_on: int = 2) -> None:
        super().__init__(root)
        self.fail_on = fail_on
        self.calls = 0
        self.written: list[str] = []

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        self.calls += 1
        if self.calls == self.fail_on:
            raise StorageDown("the store is full")
        await super().put(key, data, content_type)
        self.written.append(key)


@pytest.mark.parametrize("photos", [1, 3])
async def test_a_failed_photo_write_leaves_no_report(
    app: FastAPI,
    lenient_client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
    photos: int,
) -> None:
    storage = FailingOnSecondPut(settings.photo_dir)
    app.state.photo_storage = storage
    names = ["Canon_40D.jpg", "landscape_3.jpg", "portrait_6.jpg"][:photos]
    response = await lenient_client.post(
        "/api/v1/reports",
        data=FORM,
        files=files(*names),
        headers={**(await login("courier1")), "Idempotency-Key": "k-1"},
    )
    assert_server_problem(response)
    assert storage.calls == 2 * photos
    assert storage.written  # something was written before the failure …
    await nothing_written(session, settings)  # … and removed again
    assert await count(session, ReportNumberCounter) == 0

    # Once the store works again, the same request (same key) goes through.
    app.state.photo_storage = LocalPhotoStorage(settings.photo_dir)
    retry = await lenient_client.post(
        "/api/v1/reports",
        data=FORM,
        files=files(*names),
        headers={**(await login("courier1")), "Idempotency-Key": "k-1"},
    )
    assert retry.status_code == 201, retry.text
    assert "idempotent-replayed" not in retry.headers
    assert retry.json()["number"].endswith("-000001")
    assert await count(session, Report) == 1
    assert len(stored_files(settings)) == 2 * photos


# --- a failed database write ------------------------------------------------------------------


async def test_a_failed_database_write_leaves_no_photo(
    app: FastAPI,
    lenient_client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    headers = await login("courier1")
    written: list[str] = []
    real_put = LocalPhotoStorage.put

    async def recording_put(self: LocalPhotoStorage, key: str, data: bytes, ctype: str) -> None:
        await real_put(self, key, data, ctype)
        written.append(key)

    async def broken_numbering(
        session: AsyncSession, report_id: uuid.UUID, county: str, now: datetime
    ) -> str:
        raise OperationalError("UPDATE report_number_counters", {}, Exception("disk I/O error"))

    monkeypatch.setattr(LocalPhotoStorage, "put", recording_put)
    monkeypatch.setattr(intake, "take_number", broken_numbering)
    response = await lenient_client.post(
        "/api/v1/reports",
        data=FORM,
        files=files("Canon_40D.jpg", "portrait_8.jpg"),
        headers={**headers, "Idempotency-Key": "db-down"},
    )
    assert_server_problem(response)
    assert len(written) == 4  # the photos had been stored …
    await nothing_written(session, settings)  # … and were removed with the failed insert

    monkeypatch.undo()
    retry = await lenient_client.post(
        "/api/v1/reports",
        data=FORM,
        files=files("Canon_40D.jpg", "portrait_8.jpg"),
        headers={**headers, "Idempotency-Key": "db-down"},
    )
    assert retry.status_code == 201, retry.text
    assert await count(session, Report) == 1


async def test_a_failed_flush_of_the_rows_leaves_no_photo(
    app: FastAPI,
    lenient_client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The report and photo rows were flushed, then the next write (the event) fails."""
    headers = await login("courier1")

    def broken_event(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("INSERT INTO report_events", {}, Exception("connection lost"))

    monkeypatch.setattr(new_rows, "timeline_entry", broken_event)
    response = await lenient_client.post(
        "/api/v1/reports", data=FORM, files=files("Canon_40D.jpg"), headers=headers
    )
    assert_server_problem(response)
    await nothing_written(session, settings)


async def test_a_failed_commit_leaves_no_photo(
    app: FastAPI,
    lenient_client: httpx.AsyncClient,
    login: LoginFn,
    session: AsyncSession,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The last database write is the commit, made after the intake returned: when it fails
    (a lost connection, a serialization failure) the photos must not stay behind either."""
    headers = await login("courier1")
    real_commit = AsyncSession.commit

    async def failing_commit(self: AsyncSession) -> None:
        if self is not session:
            await self.rollback()
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))
        await real_commit(self)

    monkeypatch.setattr(AsyncSession, "commit", failing_commit)
    response = await lenient_client.post(
        "/api/v1/reports", data=FORM, files=files("Canon_40D.jpg"), headers=headers
    )
    assert_server_problem(response)
    monkeypatch.undo()
    await nothing_written(session, settings)


# --- S3 end to end ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
async def s3_app(
    database_url: str, settings_for: Callable[..., Settings], s3_endpoint: str
) -> AsyncIterator[Any]:
    settings = settings_for(
        database_url,
        photo_storage="s3",
        s3_endpoint_url=s3_endpoint,
        s3_bucket=f"photos-{uuid.uuid4().hex[:16]}",
        s3_access_key="testing",
        s3_secret_key="testing",
        s3_create_bucket=True,
        s3_addressing_style="path",
    )
    application = create_app(settings)
    assert isinstance(application.state.photo_storage, S3PhotoStorage)
    await application.state.photo_storage.prepare()
    yield application
    application.state.photo_pool.shutdown()
    await application.state.engine.dispose()


def bucket_keys(endpoint: str, bucket: str) -> set[str]:
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


async def test_intake_end_to_end_on_s3(s3_app: Any, s3_endpoint: str) -> None:
    bucket = s3_app.state.settings.s3_bucket
    transport = httpx.ASGITransport(app=s3_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        token = await http.post(
            "/api/v1/auth/token", data={"username": "courier1", "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        response = await http.post(
            "/api/v1/reports", data=FORM, files=files("DSCN0010.jpg"), headers=headers
        )
        assert response.status_code == 201, response.text
        [photo] = response.json()["photos"]

        display = await http.get(photo["url"], headers=headers)
        assert display.status_code == 200
        assert display.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(display.content)) as image:
            assert image.format == "JPEG"
            assert image.size == (photo["width"], photo["height"]) == (640, 480)
            assert not image.getexif()

        thumb = await http.get(photo["thumbnail_url"], headers=headers)
        assert thumb.status_code == 200
        with Image.open(io.BytesIO(thumb.content)) as image:
            assert image.format == "JPEG"
            assert image.size == (photo["thumbnail_width"], photo["thumbnail_height"])

        async with s3_app.state.sessionmaker() as db:
            row = await db.scalar(select(Photo))
            assert row is not None
            assert bucket_keys(s3_endpoint, bucket) == {row.display_key, row.thumbnail_key}

        # A refused request leaves nothing in the bucket either.
        refused = await http.post(
            "/api/v1/reports",
            data={**FORM, "grid_id": str(uuid.uuid4())},
            files=files("Canon_40D.jpg"),
            headers=headers,
        )
        assert refused.status_code == 422
        assert len(bucket_keys(s3_endpoint, bucket)) == 2
    # Nothing was written to the local photo folder.
    assert stored_files(s3_app.state.settings) == set()
