"""Where photo files live: a local folder (the embedded default) or any S3-compatible store
(MinIO, Aliyun OSS, Tencent COS, AWS S3) so that API replicas stay stateless.

A photo's files are keyed by kind first, then by its day (China time) and id:
``display/2026/11/29/<uuid>.jpg``, ``thumb/2026/11/29/<uuid>.jpg``, ``original/2026/11/29/<uuid>``.
The kind comes first so that a bucket's lifecycle rules, which match key prefixes, can treat
each kind apart (originals to a colder storage class, thumbnails never); the day comes next so
that garbage collection can list the last few days instead of a whole national bucket. Rows keep
the key they were stored under: files of the earlier layout, ``2026/11/29/<uuid>/display.jpg``,
are read as before. Every backend refuses keys that could escape its root: only
``[A-Za-z0-9._-]`` segments that do not start with a dot.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal, NamedTuple, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from app.core.config import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

AddressingStyle = Literal["auto", "virtual", "path"]

# Defaults for settings that are not in ``Settings`` yet.
DEFAULT_S3_CREATE_BUCKET: Final = False
DEFAULT_S3_ADDRESSING_STYLE: Final[AddressingStyle] = "auto"

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")
_MAX_KEY_LENGTH = 1024  # S3's limit, kept for the local folder too so that data can move
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})


class InvalidStorageKey(ValueError):
    pass


class StoredPhotoNotFound(LookupError):
    pass


class StorageNotReady(RuntimeError):
    pass


class StoredObject(NamedTuple):
    key: str
    last_modified: datetime


class PhotoStorage(Protocol):
    async def prepare(self) -> None:
        """Checks, once at startup, that the store can be used."""

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Stores the object whole or not at all; replaces one with the same key."""

    async def get(self, key: str) -> bytes:
        """Raises ``StoredPhotoNotFound``."""

    async def delete(self, key: str) -> None:
        """Deleting a missing key is not an error."""

    async def move(self, key: str, new_key: str) -> None:
        """Moves an object to another key (replacing one there); ``StoredPhotoNotFound`` when
        there is nothing at ``key``. Used to quarantine files before they are deleted."""

    async def exists(self, key: str) -> bool: ...

    def list_keys(self, prefix: str = "") -> AsyncIterator[StoredObject]:
        """Every key starting with ``prefix``, in no promised order, for garbage collection."""


PhotoFileKind = Literal["display", "thumb", "original"]
# The top-level prefix of each kind of file; nothing else is stored beside them but quarantine/.
PHOTO_FILE_KINDS: Final[tuple[PhotoFileKind, ...]] = ("display", "thumb", "original")


def photo_key(
    kind: PhotoFileKind, day: date, photo_id: uuid.UUID, extension: str | None = None
) -> str:
    name = f"{photo_id}.{extension}" if extension else str(photo_id)
    key = f"{day_prefix(kind, day)}{name}"
    check_key(key)
    return key


def day_prefix(kind: PhotoFileKind, day: date) -> str:
    """Where the files of one kind stored on one day (China time) are listed."""
    return f"{kind}/{day:%Y/%m/%d}/"


def check_key(key: str) -> None:
    if len(key) > _MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise InvalidStorageKey(f"not a valid storage key: {key!r}")


def check_prefix(prefix: str) -> None:
    # A prefix is valid when some valid key could start with it.
    if prefix:
        check_key(prefix + "x")


def build_storage(settings: Settings) -> PhotoStorage:
    if settings.photo_storage == "s3":
        return S3PhotoStorage(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            region=settings.s3_region,
            addressing_style=settings.s3_addressing_style,
            create_bucket=settings.s3_create_bucket,
        )
    return LocalPhotoStorage(settings.photo_dir)


class LocalPhotoStorage:
    """Files under one folder. A write goes to a temporary file in the target folder and is
    renamed into place, so readers never see half a photo. Emptied folders are left behind:
    removing them would race with a concurrent write into the same folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def prepare(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(_write_atomically, self._path(key), data)

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as error:
            raise StoredPhotoNotFound(key) from error

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def move(self, key: str, new_key: str) -> None:
        source, target = self._path(key), self._path(new_key)
        try:
            await asyncio.to_thread(_rename_into, source, target)
        except FileNotFoundError as error:
            raise StoredPhotoNotFound(key) from error

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def list_keys(self, prefix: str = "") -> AsyncIterator[StoredObject]:
        check_prefix(prefix)
        # Walked one folder per hop to a worker thread: a store of millions of photos is never
        # held in memory, nor walked on the event loop.
        batches = self._walk(prefix)
        while (batch := await asyncio.to_thread(next, batches, None)) is not None:
            for stored in batch:
                yield stored

    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / key

    def _walk(self, prefix: str) -> Iterator[list[StoredObject]]:
        start = self.root / prefix.rpartition("/")[0]
        for folder, subfolders, files in os.walk(start):
            subfolders.sort()
            batch = []
            for name in sorted(files):
                path = Path(folder, name)
                key = path.relative_to(self.root).as_posix()
                # Temporary files of writes in progress start with a dot: never valid keys.
                if not key.startswith(prefix) or not _KEY.fullmatch(key):
                    continue
                try:
                    modified = path.stat().st_mtime
                except FileNotFoundError:  # deleted since the folder was read
                    continue
                batch.append(StoredObject(key, datetime.fromtimestamp(modified, UTC)))
            if batch:
                yield batch


def _rename_into(source: Path, target: Path) -> None:
    if not source.is_file():
        raise FileNotFoundError(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    # One file system (both under the root): a rename, atomic, and the file keeps its times.
    os.replace(source, target)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp's 0600 is kept on purpose: photos show people and number plates.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            # Without this a crash soon after the rename can leave an empty file under the key.
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class S3PhotoStorage:
    """Objects in one bucket of an S3-compatible store.

    boto3 called through ``asyncio.to_thread`` rather than aiobotocore: boto3 clients are
    thread-safe, the calls are few and each moves a whole photo, so a thread hop costs nothing
    that matters; aiobotocore pins exact botocore versions (a constant fight with boto3, moto and
    other AWS packages) and brings aiohttp in beside httpx.
    """

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str = "us-east-1",
        addressing_style: AddressingStyle = DEFAULT_S3_ADDRESSING_STYLE,
        create_bucket: bool = DEFAULT_S3_CREATE_BUCKET,
    ) -> None:
        self.bucket = bucket
        self.region = region
        self.create_bucket = create_bucket
        config = Config(
            region_name=region,
            signature_version="s3v4",
            s3={"addressing_style": addressing_style},
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=5,
            read_timeout=30,
            # boto3 ≥ 1.36 adds CRC checksums to every upload by default, which MinIO before
            # 2025, Aliyun OSS and Tencent COS refuse; checksums only where S3 requires them.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        # With no keys given, boto3's usual chain applies (environment, instance role).
        self._client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=config,
        )

    async def prepare(self) -> None:
        """Fails when the bucket is missing, unless told to create it: a production deployment
        pointing at a mistyped bucket must not quietly start filling a new one."""
        try:
            await asyncio.to_thread(self._client.head_bucket, Bucket=self.bucket)
            return
        except ClientError as error:
            if not _is_not_found(error):
                raise
        if not self.create_bucket:
            raise StorageNotReady(f"the S3 bucket {self.bucket!r} does not exist")
        await asyncio.to_thread(self._create_bucket)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        check_key(key)
        await asyncio.to_thread(
            self._client.put_object,
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
        )

    async def get(self, key: str) -> bytes:
        check_key(key)
        try:
            return await asyncio.to_thread(self._read, key)
        except ClientError as error:
            if _is_not_found(error):
                raise StoredPhotoNotFound(key) from error
            raise

    async def delete(self, key: str) -> None:
        check_key(key)
        await asyncio.to_thread(self._client.delete_object, Bucket=self.bucket, Key=key)

    async def move(self, key: str, new_key: str) -> None:
        # S3 has no rename: a copy made by the server (content type kept), then the delete.
        check_key(key)
        check_key(new_key)
        try:
            await asyncio.to_thread(
                self._client.copy_object,
                Bucket=self.bucket,
                Key=new_key,
                CopySource={"Bucket": self.bucket, "Key": key},
            )
        except ClientError as error:
            if _is_not_found(error):
                raise StoredPhotoNotFound(key) from error
            raise
        await asyncio.to_thread(self._client.delete_object, Bucket=self.bucket, Key=key)

    async def exists(self, key: str) -> bool:
        check_key(key)
        try:
            await asyncio.to_thread(self._client.head_object, Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _is_not_found(error):
                return False
            raise
        return True

    async def list_keys(self, prefix: str = "") -> AsyncIterator[StoredObject]:
        check_prefix(prefix)
        pages = iter(
            self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
        )
        # Each page (up to 1000 keys) is one request, made in a worker thread.
        while (page := await asyncio.to_thread(next, pages, None)) is not None:
            for item in page.get("Contents", []):
                yield StoredObject(item["Key"], item["LastModified"])

    def _read(self, key: str) -> bytes:
        return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def _create_bucket(self) -> None:
        try:
            # us-east-1 is the one region that refuses to be named as a location constraint.
            if self.region == "us-east-1":
                self._client.create_bucket(Bucket=self.bucket)
            else:
                # The stubs list AWS regions only; OSS and COS regions are as valid here.
                self._client.create_bucket(
                    Bucket=self.bucket,
                    CreateBucketConfiguration={"LocationConstraint": self.region},  # type: ignore[typeddict-item]
                )
        except self._client.exceptions.BucketAlreadyOwnedByYou:
            pass  # another replica created it first


def _is_not_found(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in _NOT_FOUND_CODES
