"""Both photo stores against one contract: the local folder, and S3 spoken over HTTP to a real
S3-compatible server (moto's) on the loopback interface."""

from __future__ import annotations

import asyncio
import os
import stat
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from app.core.config import Settings
from app.core.storage import (
    InvalidStorageKey,
    LocalPhotoStorage,
    PhotoStorage,
    S3PhotoStorage,
    StorageNotReady,
    StoredObject,
    StoredPhotoNotFound,
    build_storage,
    photo_key,
)

JPEG = "image/jpeg"
# S3 keeps Last-Modified to the second; file systems to the nanosecond.
CLOCK_SLACK = timedelta(seconds=2)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_storage(endpoint: str, bucket: str, *, create_bucket: bool) -> S3PhotoStorage:
    return S3PhotoStorage(
        bucket=bucket,
        endpoint_url=endpoint,
        access_key="suishoupai-test",
        secret_key="suishoupai-test-secret",
        region="us-east-1",
        addressing_style="path",
        create_bucket=create_bucket,
    )


def new_bucket_name() -> str:
    return f"photos-{uuid.uuid4().hex[:16]}"


@pytest.fixture(params=["local", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> PhotoStorage:
    store: PhotoStorage
    if request.param == "local":
        store = LocalPhotoStorage(tmp_path / "photos")
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        store = s3_storage(endpoint, new_bucket_name(), create_bucket=True)
    await store.prepare()
    return store


async def listed(storage: PhotoStorage, prefix: str = "") -> dict[str, datetime]:
    return {stored.key: stored.last_modified async for stored in storage.list_keys(prefix)}


KEY = f"2026/11/29/{uuid.uuid4()}/display.jpg"


async def test_a_stored_photo_can_be_read_back(storage: PhotoStorage) -> None:
    await storage.put(KEY, b"\xff\xd8photo", JPEG)
    assert await storage.exists(KEY)
    assert await storage.get(KEY) == b"\xff\xd8photo"


async def test_putting_again_replaces_the_photo(storage: PhotoStorage) -> None:
    await storage.put(KEY, b"first", JPEG)
    await storage.put(KEY, b"second", JPEG)
    assert await storage.get(KEY) == b"second"


async def test_a_missing_photo_is_reported_as_missing(storage: PhotoStorage) -> None:
    assert not await storage.exists(KEY)
    with pytest.raises(StoredPhotoNotFound):
        await storage.get(KEY)
    # A folder on the way to keys is not a key either.
    await storage.put(KEY, b"photo", JPEG)
    assert not await storage.exists("2026/11/29")
    with pytest.raises(StoredPhotoNotFound):
        await storage.get("2026/11/29")


async def test_a_deleted_photo_is_gone(storage: PhotoStorage) -> None:
    await storage.put(KEY, b"photo", JPEG)
    await storage.delete(KEY)
    assert not await storage.exists(KEY)
    with pytest.raises(StoredPhotoNotFound):
        await storage.get(KEY)
    await storage.delete(KEY)  # deleting twice is fine


async def test_large_photos_round_trip(storage: PhotoStorage) -> None:
    data = os.urandom(3 * 1024 * 1024)
    await storage.put(KEY, data, JPEG)
    assert await storage.get(KEY) == data


async def test_keys_are_listed_by_prefix_with_their_time(storage: PhotoStorage) -> None:
    before = datetime.now(UTC)
    keys = {
        "2026/11/29/a/display.jpg",
        "2026/11/29/a/thumb.jpg",
        "2026/11/30/b/display.jpg",
        "2026/12/01/c/display.jpg",
    }
    for key in keys:
        await storage.put(key, b"photo", JPEG)
    after = datetime.now(UTC)

    everything = await listed(storage)
    assert set(everything) == keys
    for last_modified in everything.values():
        assert last_modified.tzinfo is not None
        assert before - CLOCK_SLACK <= last_modified <= after + CLOCK_SLACK

    assert set(await listed(storage, "2026/11/")) == keys - {"2026/12/01/c/display.jpg"}
    assert set(await listed(storage, "2026/11/29/a/")) == {
        "2026/11/29/a/display.jpg",
        "2026/11/29/a/thumb.jpg",
    }
    assert set(await listed(storage, "2026/11/3")) == {"2026/11/30/b/display.jpg"}
    assert await listed(storage, "2027/") == {}


async def test_listing_an_empty_store_yields_nothing(storage: PhotoStorage) -> None:
    assert await listed(storage) == {}


BAD_KEYS = [
    "../outside.jpg",
    "2026/../../outside.jpg",
    "/etc/passwd",
    "2026/./display.jpg",
    "2026//display.jpg",
    "2026/11/",
    ".hidden",
    "2026\\11\\display.jpg",
    "2026/11/ display.jpg",
    "2026/11/显示.jpg",
    "2026/11/display.jpg\x00.png",
    "",
    "a" * 1025,
]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_keys_that_could_escape_are_refused(storage: PhotoStorage, key: str) -> None:
    with pytest.raises(InvalidStorageKey):
        await storage.put(key, b"photo", JPEG)
    with pytest.raises(InvalidStorageKey):
        await storage.get(key)
    with pytest.raises(InvalidStorageKey):
        await storage.exists(key)
    with pytest.raises(InvalidStorageKey):
        await storage.delete(key)


@pytest.mark.parametrize("prefix", ["../", "/", "2026/../", ".", "2026//"])
async def test_prefixes_that_could_escape_are_refused(storage: PhotoStorage, prefix: str) -> None:
    with pytest.raises(InvalidStorageKey):
        await listed(storage, prefix)


def test_photo_keys_start_with_the_kind_then_the_day_and_id() -> None:
    photo_id = uuid.UUID("0b7e8b9c-31d3-4c4e-9f3e-6f1d2a3b4c5d")
    day = date(2026, 11, 29)
    assert [
        photo_key("display", day, photo_id, "jpg"),
        photo_key("thumb", day, photo_id, "jpg"),
        photo_key("original", day, photo_id),
    ] == [
        "display/2026/11/29/0b7e8b9c-31d3-4c4e-9f3e-6f1d2a3b4c5d.jpg",
        "thumb/2026/11/29/0b7e8b9c-31d3-4c4e-9f3e-6f1d2a3b4c5d.jpg",
        "original/2026/11/29/0b7e8b9c-31d3-4c4e-9f3e-6f1d2a3b4c5d",
    ]


# --- Local folder -------------------------------------------------------------------------------


def files_under(root: Path) -> list[str]:
    return [path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()]


async def test_local_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    storage = LocalPhotoStorage(tmp_path)
    await storage.put(KEY, b"photo", JPEG)
    await storage.put(KEY, b"photo again", JPEG)
    assert files_under(tmp_path) == [KEY]
    assert stat.S_IMODE((tmp_path / KEY).stat().st_mode) == 0o600


async def test_local_writes_in_progress_are_not_listed(tmp_path: Path) -> None:
    storage = LocalPhotoStorage(tmp_path)
    await storage.put(KEY, b"photo", JPEG)
    (tmp_path / KEY).with_name(".display.jpg.tmp").write_bytes(b"half a ph")
    assert set(await listed(storage)) == {KEY}


async def test_local_storage_stays_inside_its_folder(tmp_path: Path) -> None:
    storage = LocalPhotoStorage(tmp_path / "photos")
    await storage.prepare()
    (tmp_path / "secret.txt").write_bytes(b"secret")
    with pytest.raises(InvalidStorageKey):
        await storage.get("../secret.txt")
    assert (tmp_path / "secret.txt").read_bytes() == b"secret"


# --- S3 -----------------------------------------------------------------------------------------


async def test_s3_refuses_a_missing_bucket_unless_told_to_create_it(s3_endpoint: str) -> None:
    bucket = new_bucket_name()
    with pytest.raises(StorageNotReady):
        await s3_storage(s3_endpoint, bucket, create_bucket=False).prepare()

    await s3_storage(s3_endpoint, bucket, create_bucket=True).prepare()
    await s3_storage(s3_endpoint, bucket, create_bucket=False).prepare()
    await s3_storage(s3_endpoint, bucket, create_bucket=True).prepare()


async def test_s3_keeps_the_content_type(s3_endpoint: str) -> None:
    storage = s3_storage(s3_endpoint, new_bucket_name(), create_bucket=True)
    await storage.prepare()
    await storage.put(KEY, b"photo", JPEG)
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="suishoupai-test",
        aws_secret_access_key="suishoupai-test-secret",
        region_name="us-east-1",
    )
    assert client.head_object(Bucket=storage.bucket, Key=KEY)["ContentType"] == JPEG


async def test_s3_lists_past_one_page(s3_endpoint: str) -> None:
    storage = s3_storage(s3_endpoint, new_bucket_name(), create_bucket=True)
    await storage.prepare()
    keys = {f"2026/11/29/{index:04d}/thumb.jpg" for index in range(1001)}
    await asyncio.gather(*(storage.put(key, b"t", JPEG) for key in keys))
    assert set(await listed(storage, "2026/")) == keys


# --- Factory ------------------------------------------------------------------------------------


def test_build_storage_follows_the_settings(tmp_path: Path) -> None:
    local = build_storage(Settings(env="test", photo_dir=tmp_path / "photos"))
    assert isinstance(local, LocalPhotoStorage)
    assert local.root == tmp_path / "photos"

    s3 = build_storage(
        Settings(
            env="test",
            photo_storage="s3",
            s3_endpoint_url="http://127.0.0.1:9000",
            s3_bucket="city-photos",
            s3_region="cn-north-1",
            s3_create_bucket=True,
        ),
    )
    assert isinstance(s3, S3PhotoStorage)
    assert (s3.bucket, s3.region, s3.create_bucket) == ("city-photos", "cn-north-1", True)


async def test_stored_objects_are_key_and_time_pairs(tmp_path: Path) -> None:
    storage = LocalPhotoStorage(tmp_path)
    await storage.put(KEY, b"photo", JPEG)
    [stored] = [item async for item in storage.list_keys()]
    key, last_modified = stored
    assert stored == StoredObject(key, last_modified)
    assert key == KEY
