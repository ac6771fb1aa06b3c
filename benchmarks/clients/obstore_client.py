"""obstore (Rust object_store behind Python bindings): the reference peer.

On ``s3`` it uses ``S3Store`` (path style, HTTP allowed); on ``fs`` it uses
``LocalStore`` rooted at the job's directory. Large uploads pass the stream as
an async iterator to ``put_async`` (``chunk_size=part_size``,
``max_concurrency=part_concurrency``); downloads iterate ``get_async(...).stream()``.
"""

from __future__ import annotations

import time
from typing import Any

import obstore
from obstore.store import LocalStore, S3Store

from ..job import CHUNK, Job, Source
from .base import Client, Listed

__all__ = ["ObstoreClient", "make"]

_LIST_BATCH = 1000  # one S3 page; obstore's default Python batch is 50 entries


def _store(job: Job) -> Any:
    if job.target == "fs":
        return LocalStore(job.bucket)
    server = job.server
    return S3Store(
        job.bucket,
        endpoint=server["endpoint"],
        region=server.get("region", "us-east-1"),
        access_key_id=server["access_key"],
        secret_access_key=server["secret_key"],
        virtual_hosted_style_request=False,
        client_options={"allow_http": True, "pool_max_idle_per_host": str(job.concurrency)},
    )


class ObstoreClient(Client):
    upload_method = "put_async(async iterator), chunk_size=part_size, max_concurrency=part_concurrency"
    download_method = "get_async(...).stream(1 MiB) iterated"

    def __init__(self, job: Job) -> None:
        super().__init__(job)
        self.store: Any = None

    async def setup(self) -> None:
        self.store = _store(self.job)

    async def put(self, key: str, data: bytes) -> None:
        await obstore.put_async(self.store, key, data)

    async def get(self, key: str) -> int:
        result = await obstore.get_async(self.store, key)
        return len(await result.bytes_async())

    async def head(self, key: str) -> int:
        meta = await obstore.head_async(self.store, key)
        return int(meta["size"])

    async def delete(self, key: str) -> None:
        await obstore.delete_async(self.store, key)

    async def upload_large(self, key: str, source: Source) -> None:
        await obstore.put_async(
            self.store,
            key,
            source.chunks(),
            chunk_size=self.job.part_size,
            max_concurrency=self.job.part_concurrency,
        )

    async def download_large(self, key: str) -> int:
        result = await obstore.get_async(self.store, key)
        received = 0
        async for chunk in result.stream(min_chunk_size=CHUNK):
            received += len(chunk)
        return received

    async def list(self, prefix: str) -> Listed:
        started = time.perf_counter()
        first = 0.0
        count = 0
        async for batch in obstore.list(self.store, prefix.rstrip("/"), chunk_size=_LIST_BATCH):
            count += len(batch)
            if not first:
                first = time.perf_counter() - started
        return Listed(count, first)


def make(job: Job) -> Client:
    return ObstoreClient(job)
