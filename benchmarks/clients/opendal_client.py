"""OpenDAL's Python binding (Rust) with its ``AsyncOperator`` on the ``s3`` service.

Large uploads write the stream into ``op.open(key, "wb", chunk=part_size,
concurrent=part_concurrency)``; downloads read ``op.open(key, "rb")`` in 1 MiB
reads. Listing is ``op.list(prefix, recursive=True)``; its first entry is
taken as the first page.
"""

from __future__ import annotations

import time
from typing import Any

import opendal

from ..job import CHUNK, Job, Source
from .base import Client, Listed

__all__ = ["OpendalClient", "make"]


class OpendalClient(Client):
    upload_method = 'op.open(key, "wb", chunk=part_size, concurrent=part_concurrency), write per chunk'
    download_method = 'op.open(key, "rb"), read(1 MiB) loop'

    def __init__(self, job: Job) -> None:
        super().__init__(job)
        self.op: Any = None

    async def setup(self) -> None:
        server = self.job.server
        self.op = opendal.AsyncOperator(
            "s3",
            bucket=self.job.bucket,
            endpoint=server["endpoint"],
            region=server.get("region", "us-east-1"),
            access_key_id=server["access_key"],
            secret_access_key=server["secret_key"],
            disable_config_load="true",
            disable_ec2_metadata="true",
        )

    async def put(self, key: str, data: bytes) -> None:
        await self.op.write(key, data)

    async def get(self, key: str) -> int:
        return len(await self.op.read(key))

    async def head(self, key: str) -> int:
        meta = await self.op.stat(key)
        return int(meta.content_length)

    async def delete(self, key: str) -> None:
        await self.op.delete(key)

    async def upload_large(self, key: str, source: Source) -> None:
        job = self.job
        file = await self.op.open(key, "wb", chunk=job.part_size, concurrent=job.part_concurrency)
        async with file:
            async for chunk in source.chunks():
                await file.write(chunk)

    async def download_large(self, key: str) -> int:
        received = 0
        file = await self.op.open(key, "rb")
        async with file:
            while chunk := await file.read(CHUNK):
                received += len(chunk)
        return received

    async def list(self, prefix: str) -> Listed:
        started = time.perf_counter()
        first = 0.0
        count = 0
        async for entry in await self.op.list(prefix, recursive=True):
            if entry.path.endswith("/"):
                continue
            count += 1
            if not first:
                first = time.perf_counter() - started
        return Listed(count, first)


def make(job: Job) -> Client:
    return OpendalClient(job)
