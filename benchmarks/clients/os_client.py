"""Plain ``os`` calls in one thread: the fs baseline.

Each operation of a phase runs in one ``asyncio.to_thread`` call looping over
plain ``os.open``/``os.write``/``os.read`` with 1 MiB buffers (large files) or
over all the small files, one after another, so this is "what one thread of
plain system calls does". No fsync, like the other fs clients unless they say so.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from ..job import CHUNK, Job, Source
from .base import Client

__all__ = ["OsClient", "make"]

_SMALL_READ = 64 * 1024


class OsClient(Client):
    upload_method = "to_thread: os.open + os.write per 1 MiB chunk from the (sync) stream"
    download_method = "to_thread: os.readv into one reused 1 MiB buffer"
    #: the small-file phases run as one thread loop over every key (see `run_batch`)
    batched = True

    def __init__(self, job: Job) -> None:
        super().__init__(job)
        self.root = Path(job.bucket)

    def _path(self, key: str) -> Path:
        return self.root / key

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, key, data)

    async def get(self, key: str) -> int:
        return await asyncio.to_thread(self._get, key)

    async def head(self, key: str) -> int:
        return await asyncio.to_thread(lambda: os.stat(self._path(key)).st_size)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(os.unlink, self._path(key))

    async def run_batch(self, op: str, keys: list[str], data: bytes) -> int:
        """Do ``op`` on every key in one thread; return the bytes read (gets)."""
        return await asyncio.to_thread(self._batch, op, keys, data)

    def _batch(self, op: str, keys: list[str], data: bytes) -> int:
        total = 0
        for key in keys:
            if op == "put":
                self._put(key, data)
            elif op == "get":
                total += self._get(key)
            elif op == "head":
                total += os.stat(self._path(key)).st_size
            else:
                os.unlink(self._path(key))
        return total

    def _put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)

    def _get(self, key: str) -> int:
        fd = os.open(self._path(key), os.O_RDONLY)
        try:
            total = 0
            while chunk := os.read(fd, _SMALL_READ):
                total += len(chunk)
            return total
        finally:
            os.close(fd)

    def _read_large(self, key: str) -> int:
        fd = os.open(self._path(key), os.O_RDONLY)
        try:
            return _read_all(fd)
        finally:
            os.close(fd)

    async def upload_large(self, key: str, source: Source) -> None:
        await asyncio.to_thread(self._write_stream, key, source)

    def _write_stream(self, key: str, source: Source) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            for chunk in source.sync_chunks():
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    async def download_large(self, key: str) -> int:
        return await asyncio.to_thread(self._read_large, key)


def _read_all(fd: int) -> int:
    buffer = bytearray(CHUNK)
    total = 0
    while n := os.readv(fd, [buffer]):
        total += n
    return total


def make(job: Job) -> Client:
    return OsClient(job)
