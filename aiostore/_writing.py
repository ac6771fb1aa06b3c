"""Writing on a `Store`: ``write`` (one call) and ``writer`` (streaming)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._base import StoreBase
from ._errors import InvalidArgumentError, StorageError
from ._sources import Data, Progress, ProgressReporter, as_buffer, iter_chunks, size_of
from ._streams import Writer
from ._transfer import DEFAULT_PART_SIZE, BufferedWrite, ProgressWrite, SegmentedWrite, choose_part_size
from ._types import EMPTY_METADATA, Object, WriteOptions

__all__ = ["WritingMixin"]


class WritingMixin(StoreBase):
    """The writing half of `Store`."""

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
        buffer = as_buffer(data)
        known = buffer.nbytes if buffer is not None else size_of(data)
        _check_size(size, known)
        if buffer is not None and self._fits_one_write(buffer.nbytes):
            try:
                await self._lifecycle.ensure_open()
                obj = await self._retrier.call(
                    lambda: self._adapter.write_once(key, buffer, options),
                    idempotent=True,
                    created_if_absent=if_not_exists,
                )
            except StorageError as error:
                self._fill(error, "write", path)
                raise
            if progress is not None:
                await ProgressReporter(progress, buffer.nbytes).add(buffer.nbytes)
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

    def _fits_one_write(self, size: int) -> bool:
        """Whether ``size`` bytes go out in one request rather than in parts."""
        limits = self._adapter.limits
        # choose_part_size never goes below the requested (or default) part size
        # within the segment limits, so small data needs no further look
        floor = max(self._transfer.part_size or DEFAULT_PART_SIZE, limits.min_segment_size)
        if size <= floor and size <= limits.max_segment_size and size <= limits.max_single_write:
            return True
        return size <= min(choose_part_size(size, limits, self._transfer.part_size), limits.max_single_write)

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

        return Writer(
            open_stream,
            on_error,
            expected_size=size,
            cleanup_timeout=transfer.cleanup_timeout,
            convert=self._unscope if self._scope else None,
        )


def _write_options(
    content_type: str | None, metadata: Mapping[str, str] | None, if_not_exists: bool, extra: dict[str, Any]
) -> WriteOptions:
    if metadata is not None and not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise InvalidArgumentError("metadata keys and values must be str", op="write")
    if content_type is None and not metadata and not if_not_exists and not extra:
        return _PLAIN  # the common case: nothing to copy or build
    return WriteOptions(
        content_type=content_type, metadata=dict(metadata or {}), if_not_exists=if_not_exists, extra=extra
    )


_PLAIN = WriteOptions(metadata=EMPTY_METADATA, extra=EMPTY_METADATA)


def _check_size(size: int | None, known: int | None) -> None:
    if size is None:
        return
    if not isinstance(size, int) or size < 0:
        raise InvalidArgumentError(f"size must be a non-negative int, got {size!r}", op="write")
    if known is not None and known != size:
        raise InvalidArgumentError(f"size={size} but the data holds {known} bytes", op="write")
