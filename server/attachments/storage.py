"""Where attachments' bytes live: a directory on local disk (the default) or an S3-compatible
bucket (``ATTACHMENTS_S3_BUCKET``, through aiobotocore).

Both take the upload as an open file and copy it in pieces (never the whole file in memory)
and give it back as an async iterator of pieces. Keys are ``<organization id>/<attachment id>``:
nothing a user typed ends up in a path."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Protocol

from anyio import to_thread

from server.config import Settings

CHUNK = 64 * 1024  # read and write this much at a time
S3_PART = 8 * 1024 * 1024  # S3 multipart upload parts (S3 wants at least 5 MiB but the last)


class Storage(Protocol):
    name: str

    async def save(self, key: str, source: IO[bytes]) -> None: ...

    def open(self, key: str) -> AsyncIterator[bytes]: ...

    async def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files under ``root``: written to a temporary file beside the target and renamed into
    place, so a reader never sees half a file."""

    name = "local"

    def __init__(self, root: str):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:  # keys are ours, but never leave the root
            raise ValueError(f"bad storage key {key!r}")
        return path

    def _write(self, key: str, source: IO[bytes]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(CHUNK):
                    out.write(chunk)
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise

    async def save(self, key: str, source: IO[bytes]) -> None:
        await to_thread.run_sync(self._write, key, source)

    async def open(self, key: str) -> AsyncIterator[bytes]:
        handle = await to_thread.run_sync(self._path(key).open, "rb")
        try:
            while chunk := await to_thread.run_sync(handle.read, CHUNK):
                yield chunk
        finally:
            handle.close()

    def _remove(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    async def delete(self, key: str) -> None:
        await to_thread.run_sync(self._remove, key)


class S3Storage:
    """An S3-compatible bucket (AWS S3, MinIO, Ceph, moto's server in the tests)."""

    name = "s3"

    def __init__(self, settings: Settings):
        self.bucket = settings.attachments_s3_bucket
        self.prefix = settings.attachments_s3_prefix
        self.options = {
            "region_name": settings.attachments_s3_region or None,
            "endpoint_url": settings.attachments_s3_endpoint_url or None,
            "aws_access_key_id": settings.attachments_s3_access_key_id or None,
            "aws_secret_access_key": settings.attachments_s3_secret_access_key or None,
        }

    def _client(self):
        from aiobotocore.session import get_session

        return get_session().create_client("s3", **self.options)

    async def save(self, key: str, source: IO[bytes]) -> None:
        """One PUT for a small file; a multipart upload of ``S3_PART`` pieces for a larger one,
        so at most one piece is in memory."""
        name = self.prefix + key
        async with self._client() as client:
            first = await to_thread.run_sync(source.read, S3_PART)
            second = await to_thread.run_sync(source.read, S3_PART)
            if not second:
                await client.put_object(Bucket=self.bucket, Key=name, Body=first)
                return
            upload = await client.create_multipart_upload(Bucket=self.bucket, Key=name)
            upload_id, parts, part = upload["UploadId"], [], first
            try:
                while part:
                    number = len(parts) + 1
                    done = await client.upload_part(
                        Bucket=self.bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=part
                    )
                    parts.append({"PartNumber": number, "ETag": done["ETag"]})
                    part, second = second, (await to_thread.run_sync(source.read, S3_PART) if second else b"")
                await client.complete_multipart_upload(
                    Bucket=self.bucket, Key=name, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
            except BaseException:
                await client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
                raise

    async def open(self, key: str) -> AsyncIterator[bytes]:
        async with self._client() as client:
            found = await client.get_object(Bucket=self.bucket, Key=self.prefix + key)
            async with found["Body"] as body:
                async for chunk in body.iter_chunks(CHUNK):
                    yield chunk

    async def delete(self, key: str) -> None:
        async with self._client() as client:
            await client.delete_object(Bucket=self.bucket, Key=self.prefix + key)


def configured(settings: Settings) -> Storage:
    """Where new files go: the bucket when one is configured, else the local directory."""
    if settings.attachments_s3_bucket:
        return S3Storage(settings)
    return LocalStorage(settings.attachments_dir)


def named(settings: Settings, name: str) -> Storage:
    """The storage a stored file was written to (a file stays where it was put, even after
    the configuration changes)."""
    return S3Storage(settings) if name == "s3" else LocalStorage(settings.attachments_dir)
