"""aiobotocore used directly: the raw S3 calls most async Python S3 code is built on.

Defaults are kept (botocore's checksum settings included) except the connection
pool, raised to the number of requests in flight so the pool is not the limit.
Large uploads are a hand-written multipart upload: parts of ``part_size`` cut
from the stream, ``part_concurrency`` in flight (what a careful user writes).
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from typing import Any

from aiobotocore.config import AioConfig  # type: ignore[import-untyped]
from aiobotocore.session import get_session  # type: ignore[import-untyped]

from ..job import CHUNK, Job, Source
from .base import Client, Listed

__all__ = ["AiobotocoreClient", "client_kwargs", "make"]


def client_kwargs(job: Job) -> dict[str, Any]:
    """Keyword arguments for ``create_client("s3", ...)`` against the job's server."""
    server = job.server
    return {
        "endpoint_url": server["endpoint"],
        "region_name": server.get("region", "us-east-1"),
        "aws_access_key_id": server["access_key"],
        "aws_secret_access_key": server["secret_key"],
        "config": AioConfig(
            max_pool_connections=max(job.concurrency, job.part_concurrency, 10),
            s3={"addressing_style": "path"},
        ),
    }


class AiobotocoreClient(Client):
    upload_method = "hand-written multipart: create, upload_part x part_concurrency, complete"
    download_method = "one get_object, body.read(1 MiB) loop"

    def __init__(self, job: Job) -> None:
        super().__init__(job)
        self._stack = AsyncExitStack()
        self.s3: Any = None
        self.bucket = job.bucket

    async def setup(self) -> None:
        session = get_session()
        self.s3 = await self._stack.enter_async_context(
            session.create_client("s3", **client_kwargs(self.job))
        )

    async def teardown(self) -> None:
        await self._stack.aclose()

    async def put(self, key: str, data: bytes) -> None:
        await self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)

    async def get(self, key: str) -> int:
        response = await self.s3.get_object(Bucket=self.bucket, Key=key)
        body = response["Body"]
        try:
            return len(await body.read())
        finally:
            body.close()

    async def head(self, key: str) -> int:
        response = await self.s3.head_object(Bucket=self.bucket, Key=key)
        return int(response["ContentLength"])

    async def delete(self, key: str) -> None:
        await self.s3.delete_object(Bucket=self.bucket, Key=key)

    async def upload_large(self, key: str, source: Source) -> None:
        await multipart_upload(self.s3, self.bucket, key, source, self.job)

    async def download_large(self, key: str) -> int:
        response = await self.s3.get_object(Bucket=self.bucket, Key=key)
        received = 0
        body = response["Body"]
        try:
            while chunk := await body.read(CHUNK):
                received += len(chunk)
        finally:
            body.close()
        return received

    async def list(self, prefix: str) -> Listed:
        return await paginate_keys(self.s3, self.bucket, prefix)


async def paginate_keys(s3: Any, bucket: str, prefix: str) -> Listed:
    """ListObjectsV2 through botocore's paginator; first page timed separately."""
    started = time.perf_counter()
    first = 0.0
    count = 0
    paginator = s3.get_paginator("list_objects_v2")
    async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        count += len(page.get("Contents", ()))
        if not first:
            first = time.perf_counter() - started
    return Listed(count, first)


async def multipart_upload(s3: Any, bucket: str, key: str, source: Source, job: Job) -> None:
    """Cut ``source`` into parts; at most ``part_concurrency`` parts uploading (plus one filling)."""
    upload = await s3.create_multipart_upload(Bucket=bucket, Key=key)
    upload_id = upload["UploadId"]
    slots = asyncio.Semaphore(job.part_concurrency)
    etags: dict[int, str] = {}

    async def send(number: int, body: bytes) -> None:
        try:
            part = await s3.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
            )
            etags[number] = part["ETag"]
        finally:
            slots.release()

    try:
        async with asyncio.TaskGroup() as group:
            number = 0
            async for part in _parts(source, job.part_size):
                await slots.acquire()
                number += 1
                group.create_task(send(number, part))
        parts = [{"PartNumber": n, "ETag": etags[n]} for n in sorted(etags)]
        await s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except BaseException:
        await asyncio.shield(s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id))
        raise


async def _parts(source: Source, part_size: int) -> Any:
    buffer = bytearray()
    async for chunk in source.chunks():
        buffer += chunk
        if len(buffer) >= part_size:
            yield bytes(buffer[:part_size])
            del buffer[:part_size]
    if buffer or not source.size:
        yield bytes(buffer)


def make(job: Job) -> Client:
    return AiobotocoreClient(job)
