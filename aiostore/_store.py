"""`Store`: the rich async API every adapter gets, built on the adapter primitives.

Example:
    >>> async with aiostore.connect("fs:///srv/data") as store:
    ...     await store.write("a/b.txt", b"hi", content_type="text/plain")
    ...     assert await store.read("a/b.txt") == b"hi"
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any

from . import _paths
from ._adapter import Adapter
from ._download import read_ranges
from ._errors import InvalidArgumentError, InvalidOffsetError, NotFoundError, StorageError, UnsupportedError
from ._lifecycle import Lifecycle
from ._listing import Listing
from ._retry import Retrier, RetryOptions, TimeoutOptions
from ._segments import SegmentsMixin
from ._sources import Data, Progress, ProgressReporter, as_buffer, iter_chunks, size_of
from ._streams import Reader, Writer
from ._transfer import (
    DEFAULT_PART_SIZE,
    BufferedWrite,
    ProgressWrite,
    SegmentedWrite,
    TransferOptions,
    choose_part_size,
)
from ._types import Object, ObjectType, Page, Statistics, StorageMeta, WriteOptions

__all__ = ["Store"]


class Store(SegmentsMixin):
    """One storager (bucket, container or directory) seen through its work dir.

    Create it with `aiostore.connect`; use it as an async context manager (or
    call `aclose`). Every method validates its arguments before any I/O.
    """

    def __init__(
        self,
        adapter: Adapter,
        *,
        transfer: TransferOptions | None = None,
        retry: RetryOptions | None = None,
        timeouts: TimeoutOptions | None = None,
        owner: bool = True,
        scope: str = "",
        lifecycle: Lifecycle | None = None,
        retrier: Retrier | None = None,
    ) -> None:
        self._adapter = adapter
        self._transfer = transfer or TransferOptions()
        self._retrier = retrier or Retrier(retry or RetryOptions(), timeouts or TimeoutOptions())
        adapter.timeouts = self._retrier.timeouts
        self._owner = owner
        self._scope = scope
        self._lifecycle = lifecycle or Lifecycle(adapter.name, adapter.open, self._close_adapter)

    async def _close_adapter(self) -> None:
        if self._owner:
            await self._adapter.aclose()

    def __repr__(self) -> str:
        meta = self.metadata()
        return f"<Store {meta.adapter}:{meta.name} work_dir={meta.work_dir!r} {self._lifecycle.state.value}>"

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close pooled resources this store owns; a scoped view closes nothing."""
        if not self._scope or self._owner:
            await self._lifecycle.close()

    def scoped(self, directory: str) -> Store:
        """A view of this store under ``directory``, sharing its adapter and lifetime.

        Example:
            >>> photos = store.scoped("photos/")
            >>> await photos.write("cat.jpg", data)   # writes photos/cat.jpg
        """
        directory = _paths.dir_path(directory, "scoped")
        return Store(
            self._adapter,
            transfer=self._transfer,
            owner=False,
            scope=self._scope + directory,
            lifecycle=self._lifecycle,
            retrier=self._retrier,
        )

    def metadata(self) -> StorageMeta:
        """Name, work dir, adapter, capabilities and limits; no I/O."""
        return StorageMeta(
            name=self._adapter.storager_name,
            work_dir=self._adapter.work_dir + self._scope,
            adapter=self._adapter.name,
            capabilities=self._adapter.capabilities,
            limits=self._adapter.limits,
        )

    # -- helpers ------------------------------------------------------------
    @contextlib.contextmanager
    def _context(self, op: str, path: str | None) -> Iterator[None]:
        try:
            yield
        except StorageError as error:
            self._fill(error, op, path)
            raise

    def _fill(self, error: StorageError, op: str, path: str | None) -> None:
        if error.path is not None and self._scope and error.path.startswith(self._scope):
            error.path = error.path[len(self._scope) :]
        error.with_context(op=op, path=path, adapter=self._adapter.name)

    def _key(self, path: str, op: str) -> str:
        return self._scope + _paths.object_path(path, op)

    def _dir(self, path: str, op: str) -> str:
        return self._scope + _paths.dir_path(path, op)

    def _unscope(self, obj: Object) -> Object:
        return dataclasses.replace(obj, path=obj.path[len(self._scope) :])

    def _require(self, capability: str, op: str) -> None:
        if not getattr(self._adapter.capabilities, capability):
            raise UnsupportedError(
                f"the {self._adapter.name} adapter does not support {op}", op=op, adapter=self._adapter.name
            )

    # -- reading ------------------------------------------------------------
    async def stat(self, path: str) -> Object:
        """Describe an object; `NotFoundError` when it does not exist."""
        key = self._key(path, "stat")
        with self._context("stat", path):
            await self._lifecycle.ensure_open()
            obj = await self._retrier.call(lambda: self._adapter.stat(key), idempotent=True)
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
        with self._context("read", path):
            await self._lifecycle.ensure_open()
            if self._adapter.parallel_reads:
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

    def reader(self, path: str, *, offset: int = 0, size: int | None = None) -> Reader:
        """A streaming reader: ``async with store.reader(p) as r: async for chunk in r``."""
        key = self._key(path, "read")
        _check_range(offset, size, "read", path)

        async def open_stream(consumed: int, etag: str | None) -> Any:
            await self._lifecycle.ensure_open()
            left = None if size is None else size - consumed
            return await self._adapter.open_read(key, offset=offset + consumed, size=left, if_match=etag)

        return Reader(
            open_stream,
            lambda error: self._fill(error, "read", path),
            retrier=self._retrier,
            resumable=self._adapter.capabilities.if_match_read,
        )

    # -- writing ------------------------------------------------------------
    async def write(
        self,
        path: str,
        data: Data,
        *,
        size: int | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        if_not_exists: bool = False,
        progress: Progress | None = None,
        **extra: Any,
    ) -> Object:
        """Replace the object at ``path`` with ``data``.

        ``data`` is bytes-like, a sync or async iterable of bytes, or a binary
        file object. Small data goes out in one request; large or unsized data
        goes through the segment uploader. A failure leaves nothing behind.
        """
        options = _write_options(content_type, metadata, if_not_exists, extra)
        key = self._key(path, "write")
        known = size_of(data)
        _check_size(size, known)
        buffer = as_buffer(data)
        if buffer is not None and buffer.nbytes <= self._single_write_limit(buffer.nbytes):
            reporter = ProgressReporter(progress, buffer.nbytes)
            with self._context("write", path):
                await self._lifecycle.ensure_open()
                obj = await self._retrier.call(
                    lambda: self._adapter.write_once(key, buffer, options), idempotent=True
                )
            await reporter.add(buffer.nbytes)
            return self._unscope(obj) if self._scope else obj
        writer = self._writer(path, key, options, size if size is not None else known, progress)
        async with writer:
            async for chunk in iter_chunks(data, self._transfer.chunk_size):
                await writer.write(chunk)
        assert writer.object is not None
        return writer.object

    def writer(
        self,
        path: str,
        *,
        size: int | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        if_not_exists: bool = False,
        progress: Progress | None = None,
        **extra: Any,
    ) -> Writer:
        """A streaming writer: ``async with store.writer(p) as w: await w.write(chunk)``.

        Nothing is visible until the block exits cleanly; an exception or a
        cancellation inside the block aborts the upload and leaves nothing.
        """
        options = _write_options(content_type, metadata, if_not_exists, extra)
        _check_size(size, None)
        return self._writer(path, self._key(path, "write"), options, size, progress)

    def _single_write_limit(self, size: int) -> int:
        limits = self._adapter.limits
        return min(choose_part_size(size, limits, self._transfer.part_size), limits.max_single_write)

    def _writer(
        self, path: str, key: str, options: WriteOptions, size: int | None, progress: Progress | None
    ) -> Writer:
        reporter = ProgressReporter(progress, size)
        transfer = self._transfer

        async def open_stream() -> Any:
            await self._lifecycle.ensure_open()
            part_size = choose_part_size(size, self._adapter.limits, transfer.part_size)
            native = await self._adapter.open_write(
                key, options, size_hint=size, part_size=part_size, concurrency=transfer.concurrency
            )
            if native is not None:
                return ProgressWrite(native, reporter)
            if not self._adapter.capabilities.segments:
                return BufferedWrite(self._adapter, key, options, reporter, self._retrier)
            return SegmentedWrite(
                self._adapter,
                key,
                options,
                part_size=part_size,
                concurrency=transfer.concurrency,
                progress=reporter,
                retrier=self._retrier,
                cleanup_timeout=transfer.cleanup_timeout,
            )

        def on_error(error: StorageError) -> None:
            self._fill(error, "write", path)

        return Writer(open_stream, on_error, expected_size=size, cleanup_timeout=transfer.cleanup_timeout)

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
            with self._context("delete", path):
                await self._lifecycle.ensure_open()
                await self._retrier.call(lambda: self._adapter.delete(key), idempotent=True)
            return
        directory = self._dir(path, "delete")
        with self._context("delete", path):
            await self._lifecycle.ensure_open()
            await self._delete_tree(directory)
            if directory != self._scope:
                await self._retrier.call(lambda: self._adapter.delete(directory[:-1]), idempotent=True)

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
            await self._retrier.call(functools.partial(self._adapter.delete_many, keys), idempotent=True)

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

    def _segment_dir(self, path: str, op: str) -> str:
        return self._dir(path, op)

    def _segment_key(self, path: str, op: str) -> str:
        return self._key(path, op)

    def _segment_adapter(self) -> Adapter:
        return self._adapter

    async def _ensure_open(self) -> None:
        await self._lifecycle.ensure_open()

    def _segment_retrier(self) -> Retrier:
        return self._retrier


def _write_options(
    content_type: str | None, metadata: Mapping[str, str] | None, if_not_exists: bool, extra: dict[str, Any]
) -> WriteOptions:
    if metadata is not None and not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise InvalidArgumentError("metadata keys and values must be str", op="write")
    return WriteOptions(
        content_type=content_type, metadata=dict(metadata or {}), if_not_exists=if_not_exists, extra=extra
    )


def _check_size(size: int | None, known: int | None) -> None:
    if size is None:
        return
    if not isinstance(size, int) or size < 0:
        raise InvalidArgumentError(f"size must be a non-negative int, got {size!r}", op="write")
    if known is not None and known != size:
        raise InvalidArgumentError(f"size={size} but the data holds {known} bytes", op="write")


def _check_range(offset: int, size: int | None, op: str, path: str) -> None:
    if not isinstance(offset, int) or offset < 0:
        raise InvalidOffsetError(f"offset must be a non-negative int, got {offset!r}", op=op, path=path)
    if size is not None and (not isinstance(size, int) or size < 0):
        raise InvalidOffsetError(f"size must be a non-negative int or None, got {size!r}", op=op, path=path)
