"""`Store`: the rich async API every adapter gets, built on the adapter primitives.

Example:
    >>> async with aiostore.connect("fs:///srv/data") as store:
    ...     await store.write("a/b.txt", b"hi", content_type="text/plain")
    ...     assert await store.read("a/b.txt") == b"hi"
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Sequence

from ._adapter import ReadStream
from ._download import read_ranges
from ._errors import (
    InvalidArgumentError,
    InvalidOffsetError,
    NotFoundError,
    StorageError,
    UnsupportedError,
    first_failure,
)
from ._listing import Listing
from ._segments import SegmentsMixin
from ._streams import Reader
from ._transfer import (
    DEFAULT_PART_SIZE,
)
from ._types import Object, ObjectType, Page, Statistics, WriteOptions
from ._writing import WritingMixin

__all__ = ["Store"]

_MIN_DELETE_BATCH = 100  # keys: fewer per batch would only add requests


class Store(WritingMixin, SegmentsMixin):
    """One storager (bucket, container or directory) seen through its work dir.

    Create it with `aiostore.connect`; use it as an async context manager (or
    call `aclose`). Every method validates its arguments before any I/O.
    """

    # -- reading ------------------------------------------------------------
    async def stat(self, path: str) -> Object:
        """Describe an object; `NotFoundError` when it does not exist."""
        key = self._key(path, "stat")
        try:  # not `self._context`: inline on the hot paths (stat, read, write, delete)
            await self._lifecycle.ensure_open()
            obj = await self._retrier.call(lambda: self._adapter.stat(key), idempotent=True)
        except StorageError as error:
            self._fill(error, "stat", path)
            raise
        return self._unscope(obj) if self._scope else obj

    async def exists(self, path: str) -> bool:
        """Whether an object exists at ``path``."""
        try:
            await self.stat(path)
        except NotFoundError:
            return False
        return True

    async def read(self, path: str, *, offset: int = 0, size: int | None = None) -> bytes:
        """Read ``size`` bytes (all when None) from ``offset`` into memory.

        Reading at ``offset == object size`` gives ``b""``; a negative offset or
        one past the end is `InvalidOffsetError`.
        """
        key = self._key(path, "read")
        _check_range(offset, size, "read", path)
        try:
            await self._lifecycle.ensure_open()
            if self._reads_in_parallel():
                return await read_ranges(
                    self._adapter,
                    key,
                    offset=offset,
                    size=size,
                    part_size=self._transfer.part_size or DEFAULT_PART_SIZE,
                    concurrency=self._transfer.concurrency,
                    retrier=self._retrier,
                )
            return await self._retrier.call(
                lambda: self._adapter.read_bytes(key, offset=offset, size=size), idempotent=True
            )
        except StorageError as error:
            self._fill(error, "read", path)
            raise

    def _reads_in_parallel(self) -> bool:
        """Whether ``read`` fetches large objects as parallel ranges: the transfer
        options decide, else the adapter's default; ranges need ETag-pinned reads."""
        chosen = self._transfer.parallel_reads
        parallel = self._adapter.parallel_reads if chosen is None else chosen
        return parallel and self._adapter.capabilities.if_match_read

    def reader(self, path: str, *, offset: int = 0, size: int | None = None) -> Reader:
        """A streaming reader: ``async with store.reader(p) as r: async for chunk in r``."""
        key = self._key(path, "read")
        _check_range(offset, size, "read", path)

        async def open_stream(consumed: int, etag: str | None, covered: bool) -> ReadStream:
            await self._lifecycle.ensure_open()
            left = None if size is None else size - consumed
            start = offset + consumed
            if covered and etag is not None:  # the carried check covers the rest
                stream = await self._adapter.open_covered_read(key, offset=start, size=left, if_match=etag)
            else:
                stream = await self._adapter.open_read(key, offset=start, size=left, if_match=etag)
            if self._scope:
                stream.object = self._unscope(stream.object)
            return stream

        return Reader(
            open_stream,
            lambda error: self._fill(error, "read", path),
            retrier=self._retrier,
            resumable=self._adapter.capabilities.if_match_read,
        )

    # -- writing ------------------------------------------------------------
    # -- listing ------------------------------------------------------------
    def list(self, path: str = "", *, recursive: bool = False, page_size: int | None = None) -> Listing:
        """Objects under the directory ``path``, page by page, fetched lazily.

        One level (the default) yields files and sub-directories (`ObjectType.DIR`,
        paths ending with ``/``); ``recursive=True`` yields every object below.
        Listing a missing directory yields nothing.
        """
        directory = self._dir(path, "list")
        limit = self._adapter.limits.max_page_size
        if page_size is not None and not page_size >= 1:
            raise InvalidArgumentError(f"page_size must be positive, got {page_size}", op="list", path=path)
        size = min(page_size or limit, limit)

        async def fetch(token: str | None) -> Page:
            with self._context("list", path):
                await self._lifecycle.ensure_open()
                return await self._retrier.call(
                    lambda: self._adapter.list_page(
                        directory, recursive=recursive, page_size=size, token=token
                    ),
                    idempotent=True,
                )

        return Listing(fetch, self._unscope if self._scope else None)

    async def statistical(self) -> Statistics:
        """Count and total size of the objects under the work dir."""
        with self._context("statistical", None):
            await self._lifecycle.ensure_open()
            if not self._scope:
                stats = await self._retrier.call(self._adapter.statistical, idempotent=True)
                if stats is not None:
                    return stats
        count = size = 0
        async for obj in self.list("", recursive=True):
            count += 1
            size += obj.size or 0
        return Statistics(count=count, size=size)

    # -- changing -----------------------------------------------------------
    async def delete(self, path: str, *, recursive: bool = False) -> None:
        """Delete an object; deleting a missing one succeeds.

        With ``recursive=True`` everything under the directory ``path`` goes too
        (``a`` holds ``a/x`` but never ``ab``), plus the object ``path`` itself.
        """
        if not recursive:
            key = self._key(path, "delete")
            try:
                await self._lifecycle.ensure_open()
                await self._retrier.call(lambda: self._adapter.delete(key), idempotent=True)
            except StorageError as error:
                self._fill(error, "delete", path)
                raise
            return
        directory = self._dir(path, "delete")
        with self._context("delete", path):
            await self._lifecycle.ensure_open()
            await self._delete_tree(directory)
            if directory != self._scope:
                await self._retrier.call(lambda: self._adapter.delete(directory[:-1]), idempotent=True)

    async def delete_many(self, paths: Iterable[str]) -> None:
        """Delete every object in ``paths``; missing ones succeed.

        Where the service has a batch delete, one request carries many keys (S3:
        up to 1000, GCS: 100, Azure: 256). Up to ``transfer.concurrency`` batches
        are in flight, and a list too short to fill them all is spread over them
        (at least 100 keys each). Every path is checked first,
        so a bad one deletes nothing. On a failure the first error is raised;
        objects in other batches may already be gone, and calling again with the
        same paths finishes the job.

        Example:
            >>> await store.delete_many(["a.txt", "logs/1.txt", "logs/2.txt"])
        """
        if isinstance(paths, str | bytes):
            message = "delete_many takes a collection of paths, not one path (use delete)"
            raise InvalidArgumentError(message, op="delete", path=None)
        keys = list(dict.fromkeys(self._key(path, "delete") for path in paths))
        with self._context("delete", None):
            await self._lifecycle.ensure_open()
            await self._delete_keys(keys)

    async def _delete_keys(self, keys: Sequence[str]) -> None:
        """Delete ``keys`` in batches, several at once; the first failure is raised."""
        size = _delete_batch_size(len(keys), self._transfer.concurrency, self._adapter.limits.max_page_size)
        gate = asyncio.Semaphore(self._transfer.concurrency)
        try:
            async with asyncio.TaskGroup() as group:
                for start in range(0, len(keys), size):
                    group.create_task(self._delete_batch(keys[start : start + size], gate))
        except BaseExceptionGroup as failed:
            raise first_failure(failed) from None

    async def _delete_batch(self, keys: Sequence[str], gate: asyncio.Semaphore) -> None:
        async with gate:
            await self._retrier.call(functools.partial(self._adapter.delete_many, keys), idempotent=True)

    async def _delete_tree(self, directory: str) -> None:
        batch = self._adapter.limits.max_page_size
        previous: list[str] = []
        while True:
            page = await self._retrier.call(
                lambda: self._adapter.list_page(directory, recursive=True, page_size=batch, token=None),
                idempotent=True,
            )
            keys = [entry.path for entry in page.entries if entry.type is not ObjectType.DIR]
            if not keys:
                return
            if keys == previous:
                raise StorageError(f"deleting {keys[0]!r} did not take effect", op="delete")
            previous = keys
            await self._delete_keys(keys)

    async def copy(self, src: str, dst: str) -> None:
        """Copy ``src`` over ``dst`` (server-side when the adapter can)."""
        src_key, dst_key = self._key(src, "copy"), self._key(dst, "copy")
        with self._context("copy", src):
            await self._lifecycle.ensure_open()
            if src_key == dst_key:
                await self._retrier.call(lambda: self._adapter.stat(src_key), idempotent=True)
                return
            try:
                await self._retrier.call(lambda: self._adapter.copy(src_key, dst_key), idempotent=True)
            except UnsupportedError:
                await self._copy_by_streaming(src_key, dst_key)

    async def _copy_by_streaming(self, src_key: str, dst_key: str) -> None:
        source = await self._retrier.call(
            lambda: self._adapter.open_read(src_key, offset=0, size=None), idempotent=True
        )
        try:
            writer = self._writer(dst_key, dst_key, WriteOptions(), source.object.size, None)
            async with writer:
                while chunk := await source.next_chunk():
                    await writer.write(chunk)
        finally:
            await source.aclose()

    async def move(self, src: str, dst: str) -> None:
        """Move ``src`` onto ``dst``, replacing it; `NotFoundError` leaves ``dst`` alone."""
        src_key, dst_key = self._key(src, "move"), self._key(dst, "move")
        with self._context("move", src):
            await self._lifecycle.ensure_open()
            if src_key == dst_key:
                await self._retrier.call(lambda: self._adapter.stat(src_key), idempotent=True)
                return
            try:
                await self._retrier.call(lambda: self._adapter.move(src_key, dst_key), idempotent=False)
                return
            except UnsupportedError:
                pass
        await self.copy(src, dst)
        with self._context("move", src):
            await self._retrier.call(lambda: self._adapter.delete(src_key), idempotent=True)

    async def reach(self, path: str, *, expires: float = 3600, method: str = "GET") -> str:
        """A URL anyone can use (presigned/SAS) until ``expires`` seconds pass."""
        key = self._key(path, "reach")
        if not 0 < expires <= 7 * 24 * 3600:
            raise InvalidArgumentError(f"expires must be in (0, 604800] seconds, got {expires}", op="reach")
        method = method.upper()
        if method not in ("GET", "PUT", "HEAD"):
            raise InvalidArgumentError(f"method must be GET, PUT or HEAD, got {method!r}", op="reach")
        self._require("reach", "reach")
        with self._context("reach", path):
            await self._lifecycle.ensure_open()
            return await self._retrier.call(
                lambda: self._adapter.reach(key, expires=expires, method=method), idempotent=True
            )


def _check_range(offset: int, size: int | None, op: str, path: str) -> None:
    if not isinstance(offset, int) or offset < 0:
        raise InvalidOffsetError(f"offset must be a non-negative int, got {offset!r}", op=op, path=path)
    if size is not None and (not isinstance(size, int) or size < 0):
        raise InvalidOffsetError(f"size must be a non-negative int or None, got {size!r}", op=op, path=path)


def _delete_batch_size(count: int, concurrency: int, limit: int) -> int:
    """Keys per `delete_many` batch: ``count`` spread over ``concurrency`` batches,
    within [`_MIN_DELETE_BATCH`, ``limit``].

    A service works through one batch's keys one after another (SeaweedFS, 2000
    keys: 1.1 s as two batches of 1000, 0.7 s as eight of 250, 0.9 s one key per
    request), so a short list goes faster as several batches side by side.

    Example:
        >>> _delete_batch_size(2000, 8, 1000), _delete_batch_size(20_000, 8, 1000)
        (250, 1000)
    """
    spread = -(-count // max(concurrency, 1))
    return max(1, min(limit, max(spread, _MIN_DELETE_BATCH)))
