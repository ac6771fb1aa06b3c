"""aiostore through its public API only, on every target.

Connections:
    s3:     ``aiostore.connect("s3://BUCKET", endpoint=, access_key_id=, secret_access_key=,
            region=, profile="seaweedfs", max_pool_connections=concurrency)``
    gcs:    ``aiostore.connect("gs://BUCKET", endpoint=EMULATOR)`` (anonymous with an emulator)
    azure:  ``aiostore.connect("azblob://CONTAINER", connection_string=...)``
    fs:     ``aiostore.connect("fs", work_dir=ROOT)``
    memory: ``aiostore.connect("memory://")``
plus ``transfer=TransferOptions(part_size=, concurrency=part_concurrency)`` and any
``--aiostore-option KEY=VALUE`` given on the command line. Large uploads write
the stream chunk by chunk into ``store.writer(key)`` (no size given);
downloads iterate ``store.reader(key)``; listings iterate
``store.list(prefix, recursive=True).pages()``.
"""

from __future__ import annotations

import time
from typing import Any

import aiostore

from ..job import Job, Source
from .base import Client, Listed

__all__ = ["AiostoreClient", "connect_options", "make"]


def connect_options(job: Job) -> tuple[str, dict[str, Any]]:
    """The target string and keyword options ``aiostore.connect`` gets for ``job``."""
    server = job.server
    if job.target in ("s3", "moto"):
        options: dict[str, Any] = {
            "endpoint": server["endpoint"],
            "access_key_id": server["access_key"],
            "secret_access_key": server["secret_key"],
            "region": server.get("region", "us-east-1"),
            "profile": server.get("profile", "seaweedfs"),
            "max_pool_connections": max(job.concurrency, job.part_concurrency),
        }
        target = f"s3://{job.bucket}"
    elif job.target == "gcs":
        target, options = f"gs://{job.bucket}", {"endpoint": server["endpoint"]}
    elif job.target == "azure":
        target, options = f"azblob://{job.bucket}", {"connection_string": server["connection_string"]}
    elif job.target == "fs":
        target, options = "fs", {"work_dir": job.bucket}
    else:
        target, options = "memory://", {}
    return target, {**options, **job.options}


class AiostoreClient(Client):
    upload_method = "store.writer(key) (no size), await w.write(chunk) per 1 MiB chunk"
    download_method = "async for chunk in store.reader(key)"

    def __init__(self, job: Job) -> None:
        super().__init__(job)
        target, options = connect_options(job)
        transfer = aiostore.TransferOptions(part_size=job.part_size, concurrency=job.part_concurrency)
        self.store = aiostore.connect(target, transfer=transfer, **options)

    async def setup(self) -> None:
        await self.store.__aenter__()

    async def teardown(self) -> None:
        await self.store.aclose()

    async def put(self, key: str, data: bytes) -> None:
        await self.store.write(key, data)

    async def get(self, key: str) -> int:
        return len(await self.store.read(key))

    async def head(self, key: str) -> int:
        return (await self.store.stat(key)).size or 0

    async def delete(self, key: str) -> None:
        await self.store.delete(key)

    async def upload_large(self, key: str, source: Source) -> None:
        async with self.store.writer(key) as writer:
            async for chunk in source.chunks():
                await writer.write(chunk)

    async def download_large(self, key: str) -> int:
        received = 0
        async with self.store.reader(key) as reader:
            async for chunk in reader:
                received += len(chunk)
        return received

    async def list(self, prefix: str) -> Listed:
        started = time.perf_counter()
        first = 0.0
        count = 0
        async for page in self.store.list(prefix, recursive=True).pages():
            count += len(page)
            if not first:
                first = time.perf_counter() - started
        return Listed(count, first)


def make(job: Job) -> Client:
    return AiostoreClient(job)
