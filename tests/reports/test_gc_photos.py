"""gc-photos: stored files no photo references go to quarantine, and are deleted by a later run
after the quarantine period; a run that would take more than a share of the store, or any file
while the database holds no photos (the wrong database), changes nothing unless forced. On the
local folder and on S3 (moto's server on the loopback interface). A run lists the last few days'
prefixes of each kind unless told to walk the whole store; files of the earlier key layout are
still served, and kept while referenced."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from moto.server import ThreadedMotoServer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import create_engine, create_sessionmaker
from app.core.migrations import upgrade
from app.core.storage import PhotoStorage, StoredPhotoNotFound, photo_key
from app.core.workcalendar import CHINA_TZ
from app.models import Photo
from app.photos.gc import QUARANTINE, collect_orphans, listed_prefixes, quarantine_key
from app.photos.uploads import PhotoServices, UploadedPhoto, process_and_store
from tests.conftest import LoginFn, make_test_settings
from tests.reports.conftest import SubmitFn, photo_bytes
from tests.support import command_env, run_command

TODAY = datetime.now(CHINA_TZ).date()
ORPHAN = photo_key("display", TODAY, uuid.UUID(int=1), "jpg")
LATER = timedelta(hours=2)  # every file written by the test is older than the grace period then
WEEK = timedelta(days=7)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["local", "s3"])
def settings(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Settings:
    """The test app's settings, once with the local folder and once with an S3 bucket."""
    if request.param == "local":
        return make_test_settings(database_url, tmp_path)
    return make_test_settings(
        database_url,
        tmp_path,
        photo_storage="s3",
        s3_endpoint_url=request.getfixturevalue("s3_endpoint"),
        s3_bucket=f"photos-{uuid.uuid4().hex[:16]}",
        s3_access_key="suishoupai-test",
        s3_secret_key="suishoupai-test-secret",
        s3_addressing_style="path",
        s3_create_bucket=True,
    )


@pytest.fixture
async def storage(app: Any) -> PhotoStorage:
    store: PhotoStorage = app.state.photo_storage
    await store.prepare()  # the test client runs no lifespan
    return store


async def keys(storage: PhotoStorage) -> set[str]:
    return {stored.key async for stored in storage.list_keys()}


async def photo_files_of(
    client: httpx.AsyncClient, login: LoginFn, report: dict[str, Any]
) -> list[int]:
    """The status of each of the report's photos as the reporter fetches it."""
    headers = await login("courier1")
    return [(await client.get(p["url"], headers=headers)).status_code for p in report["photos"]]


@pytest.fixture
async def wrong_database(empty_database: str) -> AsyncIterator[AsyncSession]:
    """A migrated database with no photos: what a mistyped SSP_DATABASE_URL points at."""
    await asyncio.to_thread(upgrade, empty_database)
    engine = create_engine(Settings(env="test", database_url=empty_database))
    try:
        async with create_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def test_orphans_go_to_quarantine_then_away_after_the_quarantine_period(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    session: AsyncSession,
    storage: PhotoStorage,
) -> None:
    reports = [(await submit("courier1")).json() for _ in range(5)]
    photo_keys = await keys(storage)
    assert len(photo_keys) == 10  # a display and a thumbnail per report
    await storage.put(ORPHAN, b"left by a crash", "image/jpeg")
    now = datetime.now(UTC) + LATER

    first = await collect_orphans(session, storage, now)

    assert first.applied
    assert (first.scanned, first.orphans, first.refused) == (11, [ORPHAN], None)
    assert await keys(storage) == photo_keys | {quarantine_key(ORPHAN, now)}
    assert await storage.get(quarantine_key(ORPHAN, now)) == b"left by a crash"
    for report in reports:
        assert await photo_files_of(client, login, report) == [200]

    within = await collect_orphans(session, storage, now + WEEK - timedelta(minutes=1))
    assert (within.orphans, within.to_delete, within.in_quarantine) == ([], [], 1)
    assert quarantine_key(ORPHAN, now) in await keys(storage)

    after = await collect_orphans(session, storage, now + WEEK)
    assert [entry.original_key for entry in after.to_delete] == [ORPHAN]
    assert await keys(storage) == photo_keys


async def test_young_files_are_left_alone(
    submit: SubmitFn, session: AsyncSession, storage: PhotoStorage, settings: Settings
) -> None:
    if settings.photo_storage != "local":
        pytest.skip("S3 sets an object's time itself; the rule does not depend on the store")
    await submit("courier1")
    for n in range(10):
        await storage.put(f"display/{TODAY:%Y/%m/%d}/young{n}.jpg", b"in flight", "image/jpeg")
    await storage.put(ORPHAN, b"left by a crash", "image/jpeg")
    two_hours_ago = time.time() - 7200
    for path in settings.photo_dir.rglob("*"):
        if path.is_file() and "young" not in path.relative_to(settings.photo_dir).as_posix():
            os.utime(path, (two_hours_ago, two_hours_ago))

    result = await collect_orphans(session, storage, datetime.now(UTC))

    assert result.orphans == [ORPHAN]
    assert result.scanned == 13
    assert {key for key in await keys(storage) if "young" in key} == {
        f"display/{TODAY:%Y/%m/%d}/young{n}.jpg" for n in range(10)
    }


async def test_the_wrong_database_is_refused_and_forced_runs_can_be_undone(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    session: AsyncSession,
    storage: PhotoStorage,
    wrong_database: AsyncSession,
) -> None:
    report = (await submit("courier1")).json()
    before = await keys(storage)
    now = datetime.now(UTC) + LATER

    refused = await collect_orphans(wrong_database, storage, now)
    assert not refused.applied
    assert refused.refused is not None
    assert "no photos" in refused.refused
    assert (refused.photo_rows, refused.scanned, len(refused.orphans)) == (0, 2, 2)
    assert await keys(storage) == before

    # Forced against the wrong database: nothing is deleted, only moved aside ...
    forced = await collect_orphans(wrong_database, storage, now, force=True)
    assert forced.applied
    assert await keys(storage) == {quarantine_key(key, now) for key in before}
    assert await photo_files_of(client, login, report) == [404]
    # ... and the next run against the right database puts every file back.
    fixed = await collect_orphans(session, storage, now + timedelta(days=1))
    assert sorted(entry.original_key for entry in fixed.to_restore) == sorted(before)
    assert await keys(storage) == before
    assert await photo_files_of(client, login, report) == [200]


async def test_more_than_the_allowed_share_is_refused(
    submit: SubmitFn, session: AsyncSession, storage: PhotoStorage
) -> None:
    await submit("courier1")
    await storage.put(ORPHAN, b"left by a crash", "image/jpeg")
    before = await keys(storage)
    now = datetime.now(UTC) + LATER

    refused = await collect_orphans(session, storage, now)  # 1 of 3 files, 33 % > 10 %
    assert refused.refused is not None
    assert "1 of 3 stored files (33%)" in refused.refused
    assert await keys(storage) == before

    allowed = await collect_orphans(session, storage, now, max_share=0.34)
    assert allowed.applied
    assert await keys(storage) == (before - {ORPHAN}) | {quarantine_key(ORPHAN, now)}


async def test_a_dry_run_changes_nothing(
    submit: SubmitFn, session: AsyncSession, storage: PhotoStorage
) -> None:
    await submit("courier1")
    old = "2026/01/01/00000000-0000-0000-0000-000000000002/display.jpg"
    await storage.put(quarantine_key(old, datetime.now(UTC) - 2 * WEEK), b"old", "image/jpeg")
    await storage.put(ORPHAN, b"left by a crash", "image/jpeg")
    before = await keys(storage)

    result = await collect_orphans(
        session, storage, datetime.now(UTC) + LATER, dry_run=True, force=True
    )

    assert not result.applied
    assert result.orphans == [ORPHAN]
    assert [entry.original_key for entry in result.to_delete] == [old]
    assert await keys(storage) == before


async def test_files_under_quarantine_this_code_did_not_put_there_are_left_alone(
    submit: SubmitFn, session: AsyncSession, storage: PhotoStorage
) -> None:
    await submit("courier1")
    stranger = f"{QUARANTINE}notes/readme.txt"
    await storage.put(stranger, b"kept by hand", "text/plain")
    result = await collect_orphans(session, storage, datetime.now(UTC) + 10 * WEEK, days=None)
    assert result.applied
    assert (result.scanned, result.in_quarantine, result.to_delete) == (2, 1, [])
    assert stranger in await keys(storage)


async def test_a_move_keeps_the_bytes_and_a_missing_file_is_said_so(
    storage: PhotoStorage,
) -> None:
    await storage.put(ORPHAN, b"photo", "image/jpeg")
    target = quarantine_key(ORPHAN, datetime.now(UTC))
    await storage.move(ORPHAN, target)
    assert await keys(storage) == {target}
    assert await storage.get(target) == b"photo"
    with pytest.raises(StoredPhotoNotFound):
        await storage.move(ORPHAN, target)
    assert await storage.get(target) == b"photo"


def cli_environment(settings: Settings, database_url: str) -> dict[str, str]:
    env = command_env(
        database_url,
        SSP_PHOTO_STORAGE=settings.photo_storage,
        SSP_PHOTO_DIR=str(settings.photo_dir),
        SSP_S3_BUCKET=settings.s3_bucket,
        SSP_S3_ADDRESSING_STYLE=settings.s3_addressing_style,
    )
    for name in ("s3_endpoint_url", "s3_access_key", "s3_secret_key"):
        if (value := getattr(settings, name)) is not None:
            env[f"SSP_{name.upper()}"] = value
    return env


async def run_gc_photos(env: dict[str, str], *args: str) -> tuple[int, str]:
    return await run_command("gc-photos", "--grace-minutes", "0", *args, env=env)


async def test_the_command_refuses_the_wrong_database_and_lists_what_would_go(
    submit: SubmitFn, storage: PhotoStorage, settings: Settings, empty_database: str
) -> None:
    await submit("courier1")
    before = await keys(storage)
    await asyncio.to_thread(upgrade, empty_database)
    wrong = cli_environment(settings, empty_database)

    code, output = await run_gc_photos(wrong)
    assert code == 1, output
    assert "Refused, nothing changed: the database holds no photos" in output
    assert await keys(storage) == before

    code, output = await run_gc_photos(wrong, "--dry-run")
    assert code == 0, output
    listed = [line.split()[1] for line in output.splitlines() if line.startswith("quarantine ")]
    assert sorted(listed) == sorted(before)
    assert "A real run would refuse" in output
    assert await keys(storage) == before


async def test_the_command_quarantines_orphans_of_the_right_database(
    submit: SubmitFn, storage: PhotoStorage, settings: Settings, database_url: str
) -> None:
    await submit("courier1")
    before = await keys(storage)
    await storage.put(ORPHAN, b"left by a crash", "image/jpeg")
    right = cli_environment(settings, database_url)

    code, output = await run_gc_photos(right)
    assert code == 1, output
    assert "more than the 10% allowed" in output

    code, output = await run_gc_photos(right, "--max-percent", "50")
    assert code == 0, output
    assert "did quarantine 1 orphans" in output
    after = await keys(storage)
    assert after - before == {next(key for key in after if key.endswith(ORPHAN))}
    assert next(iter(after - before)).startswith(QUARANTINE)


async def test_pictures_of_rewards_and_wishes_are_not_orphans(
    client: httpx.AsyncClient, login: LoginFn, session: AsyncSession, storage: PhotoStorage
) -> None:
    staff = await login("staff1")
    photo = ("shelf.jpg", photo_bytes("Canon_40D.jpg"), "image/jpeg")
    uploads = [
        (await client.post("/api/v1/uploads", files={"file": photo}, headers=staff)).json()["id"]
        for _ in range(2)
    ]
    me = (await client.get("/api/v1/me", headers=staff)).json()
    community = me["roles"][0]["scope_id"]
    reward = await client.post(
        "/api/v1/rewards",
        json={"name": "毛巾", "points_price": 10, "stock": 5, "community_id": community,
              "photo_id": uploads[0]},
        headers=staff,
    )  # fmt: skip
    wish = await client.post(
        "/api/v1/wishes",
        json={"community_id": community, "title": "修灯", "photo_id": uploads[1]},
        headers=staff,
    )
    assert (reward.status_code, wish.status_code) == (201, 201)
    pictures = await keys(storage)
    assert len(pictures) == 4

    swept = await collect_orphans(session, storage, datetime.now(UTC) + LATER)

    assert (swept.scanned, swept.orphans) == (4, [])
    assert await keys(storage) == pictures
    for answer in (reward.json()["picture"], wish.json()["picture"]):
        assert (await client.get(answer["display_url"])).status_code == 200


def day_path(day: date) -> str:
    return f"{day:%Y/%m/%d}"


async def test_a_new_photo_is_stored_under_its_kind_then_its_day_and_id(
    app: FastAPI, submit: SubmitFn, storage: PhotoStorage, settings: Settings
) -> None:
    before = datetime.now(CHINA_TZ).date()
    [photo] = (await submit("courier1")).json()["photos"]
    days = {day_path(before), day_path(datetime.now(CHINA_TZ).date())}  # midnight between
    stored = await keys(storage)
    assert any(
        stored == {f"display/{day}/{photo['id']}.jpg", f"thumb/{day}/{photo['id']}.jpg"}
        for day in days
    ), stored

    # With originals kept; 01:30 in China is still the evening before in UTC.
    keeping = PhotoServices(
        settings.model_copy(update={"keep_original_photos": True}),
        storage,
        app.state.photo_pool,
    )
    upload = UploadedPhoto("a.jpg", photo_bytes("Canon_40D.jpg"))
    [kept] = await process_and_store([upload], keeping, datetime(2026, 12, 5, 17, 30, tzinfo=UTC))
    photo_id = kept.keys.photo_id
    assert kept.keys.all() == [
        f"display/2026/12/06/{photo_id}.jpg",
        f"thumb/2026/12/06/{photo_id}.jpg",
        f"original/2026/12/06/{photo_id}",
    ]
    assert await storage.get(f"original/2026/12/06/{photo_id}") == upload.data
    assert await keys(storage) == stored | set(kept.keys.all())


def test_a_run_lists_each_kind_of_the_last_days_and_the_quarantine() -> None:
    evening_in_utc = datetime(2026, 12, 5, 17, 30, tzinfo=UTC)  # 6 December in China
    assert listed_prefixes(evening_in_utc, 2) == [
        "display/2026/12/06/",
        "display/2026/12/05/",
        "thumb/2026/12/06/",
        "thumb/2026/12/05/",
        "original/2026/12/06/",
        "original/2026/12/05/",
        QUARANTINE,
    ]
    assert listed_prefixes(evening_in_utc, None) == [""]


async def test_an_orphan_of_an_older_day_is_left_unlisted_unless_the_whole_store_is_walked(
    submit: SubmitFn, storage: PhotoStorage, settings: Settings, database_url: str
) -> None:
    await submit("courier1")
    stale = photo_key("display", TODAY - timedelta(days=10), uuid.UUID(int=3), "jpg")
    await storage.put(stale, b"left by a crash long ago", "image/jpeg")
    before = await keys(storage)
    env = cli_environment(settings, database_url)

    code, output = await run_gc_photos(env)
    said = " ".join(output.split())
    assert code == 0, output
    assert "Scanned 2 stored files in the prefixes of the last 3 days" in said
    assert "would quarantine 0 orphans" in said or "did quarantine 0 orphans" in said
    assert await keys(storage) == before

    code, output = await run_gc_photos(env, "--full", "--max-percent", "50")
    said = " ".join(output.split())
    assert code == 0, output
    assert "Scanned 3 stored files in the whole store" in said
    assert "did quarantine 1 orphans" in said
    after = await keys(storage)
    assert stale not in after
    [moved] = after - before
    assert moved.startswith(QUARANTINE)
    assert moved.endswith(f"/{stale}")

    # A window that ends before the grace period does would never see a late file old enough.
    code, output = await run_command("gc-photos", "--days", "1", env=env)
    assert code == 2, output
    assert "too short" in output


async def test_files_of_the_earlier_layout_are_served_and_kept_while_referenced(
    client: httpx.AsyncClient,
    login: LoginFn,
    submit: SubmitFn,
    session: AsyncSession,
    storage: PhotoStorage,
) -> None:
    [photo] = (await submit("courier1")).json()["photos"]
    photo_id = uuid.UUID(photo["id"])
    display, thumbnail = (
        await session.execute(
            select(Photo.display_key, Photo.thumbnail_key).where(Photo.id == photo_id)
        )
    ).one()
    # Stored before the kinds came first: the same files under the keys of then.
    old_display = f"2026/01/02/{photo_id}/display.jpg"
    old_thumbnail = f"2026/01/02/{photo_id}/thumbnail.jpg"
    await storage.move(display, old_display)
    await storage.move(thumbnail, old_thumbnail)
    await session.execute(
        update(Photo)
        .where(Photo.id == photo_id)
        .values(display_key=old_display, thumbnail_key=old_thumbnail)
    )
    await session.commit()
    old_orphan = f"2026/01/02/{uuid.UUID(int=4)}/display.jpg"
    await storage.put(old_orphan, b"left by a crash", "image/jpeg")
    headers = await login("courier1")

    async def served() -> list[bytes]:
        answers = [await client.get(photo[n], headers=headers) for n in ("url", "thumbnail_url")]
        assert [answer.status_code for answer in answers] == [200, 200]
        return [answer.content for answer in answers]

    assert await served() == [await storage.get(old_display), await storage.get(old_thumbnail)]
    now = datetime.now(UTC) + LATER

    recent = await collect_orphans(session, storage, now)
    assert (recent.scanned, recent.orphans, recent.applied) == (0, [], True)

    whole = await collect_orphans(session, storage, now, days=None, max_share=0.5)
    assert (whole.scanned, whole.orphans, whole.applied) == (3, [old_orphan], True)
    assert await keys(storage) == {old_display, old_thumbnail, quarantine_key(old_orphan, now)}
    await served()
