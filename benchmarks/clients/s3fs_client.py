"""s3fs (fsspec) in its asynchronous mode, through its public async methods.

s3fs has no async streaming writer, so the large upload hands ``_pipe_file`` the
whole object as one ``bytes`` built before the timed section (its RSS baseline
includes that buffer). Its async listing (``_find``) gathers every page before
returning, so the time to first page is the whole listing time.
"""

from __future__ import annotations

import time
from typing import Any

import s3fs  # type: ignore[import-untyped]

from ..job import CHUNK, Job, Source
from .base import Client, Listed

__all__ = ["S3fsClient", "make"]


class S3fsClient(Client):
    upload_method = "_pipe_file(whole object as bytes, chunksize=part_size, max_concurrency=part_concurrency)"
    download_method = "open_async(rb), read(1 MiB) loop (one get_object)"

    def __init__(self, job: Job) -> None:
        super().__init__(job)
        self.fs: Any = None
        self._session: Any = None
        self._buffer = b""

    async def setup(self) -> None:
        server = self.job.server
        self.fs = s3fs.S3FileSystem(
            asynchronous=True,
            skip_instance_cache=True,
            key=server["access_key"],
            secret=server["secret_key"],
            endpoint_url=server["endpoint"],
            client_kwargs={"region_name": server.get("region", "us-east-1")},
            config_kwargs={"max_pool_connections": max(self.job.concurrency, 10)},
        )
        self._session = await self.fs.set_session()

    async def teardown(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _path(self, key: str) -> str:
        return f"{self.job.bucket}/{key}"

    async def put(self, key: str, data: bytes) -> None:
        await self.fs._pipe_file(self._path(key), data)

    async def get(self, key: str) -> int:
        return len(await self.fs._cat_file(self._path(key)))

    async def head(self, key: str) -> int:
        info = await self.fs._info(self._path(key))
        return int(info["size"])

    async def delete(self, key: str) -> None:
        await self.fs._rm_file(self._path(key))

    async def prepare_upload(self, source: Source) -> None:
        self._buffer = source.materialize()

    async def upload_large(self, key: str, source: Source) -> None:
        job = self.job
        data, self._buffer = self._buffer, b""
        await self.fs._pipe_file(
            self._path(key), data, chunksize=job.part_size, max_concurrency=job.part_concurrency
        )

    async def download_large(self, key: str) -> int:
        received = 0
        file = await self.fs.open_async(self._path(key), "rb")
        while chunk := await file.read(CHUNK):
            received += len(chunk)
        return received

    async def list(self, prefix: str) -> Listed:
        started = time.perf_counter()
        found = await self.fs._find(self._path(prefix))
        return Listed(len(found), time.perf_counter() - started)


def make(job: Job) -> Client:
    return S3fsClient(job)
