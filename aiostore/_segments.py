"""Explicit multipart uploads ("segments") on a `Store`.

Example:
    >>> seg = await store.init_segment("big.bin")
    >>> await asyncio.gather(*(store.write_segment(seg, i, part) for i, part in enumerate(parts)))
    >>> obj = await store.complete_segment(seg)      # or: await store.abort_segment(seg)
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from ._adapter import Adapter
from ._base import StoreBase
from ._errors import InvalidArgumentError, UnsupportedError
from ._sources import as_buffer
from ._transfer import start_segment
from ._types import Object, Part, Segment, WriteOptions

__all__ = ["SegmentsMixin"]


async def _collect(segments: AsyncIterator[Segment]) -> list[Segment]:
    """Every upload in progress (few: they are aborted or completed), so a retry restarts cleanly."""
    return [segment async for segment in segments]


class SegmentsMixin(StoreBase):
    """The segment half of `Store`."""

    def _require_segments(self, op: str) -> Adapter:
        adapter = self._adapter
        if not adapter.capabilities.segments:
            raise UnsupportedError(f"the {adapter.name} adapter has no segments", op=op, adapter=adapter.name)
        return adapter

    def _to_user(self, segment: Segment) -> Segment:
        if not self._scope:
            return segment
        return dataclasses.replace(segment, path=segment.path[len(self._scope) :])

    def _to_adapter(self, segment: Segment, op: str) -> Segment:
        if not isinstance(segment, Segment):
            raise InvalidArgumentError(f"expected a Segment, got {type(segment).__name__}", op=op)
        return dataclasses.replace(segment, path=self._key(segment.path, op))

    @contextlib.contextmanager
    def _segment_context(self, op: str, segment: Segment) -> Iterator[None]:
        with self._context(op, segment.path):
            yield

    async def init_segment(
        self,
        path: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        if_not_exists: bool = False,
        **extra: Any,
    ) -> Segment:
        """Start a multipart upload to ``path``; nothing is visible until completed.

        With ``if_not_exists``, completing fails with `AlreadyExistsError` when an
        object appeared at ``path`` meanwhile.
        """
        key = self._key(path, "init_segment")
        adapter = self._require_segments("init_segment")
        options = WriteOptions(
            content_type=content_type, metadata=dict(metadata or {}), if_not_exists=if_not_exists, extra=extra
        )
        with self._context("init_segment", path):
            await self._ensure_open()
            cleanup = self._transfer.cleanup_timeout
            segment = await start_segment(adapter, self._retrier, key, options, cleanup)
            return self._to_user(segment)

    async def write_segment(self, segment: Segment, index: int, data: bytes | bytearray | memoryview) -> Part:
        """Upload part ``index`` (0-based; any order, concurrently; rewriting replaces)."""
        adapter = self._require_segments("write_segment")
        inner = self._to_adapter(segment, "write_segment")
        if not isinstance(index, int) or not 0 <= index < adapter.limits.max_segments:
            raise InvalidArgumentError(
                f"index must be in [0, {adapter.limits.max_segments}), got {index!r}", op="write_segment"
            )
        view = as_buffer(data)
        if view is None:
            raise InvalidArgumentError("segment data must be bytes-like", op="write_segment")
        if view.nbytes > adapter.limits.max_segment_size:
            raise InvalidArgumentError(
                f"a part holds at most {adapter.limits.max_segment_size} bytes", op="write_segment"
            )
        with self._segment_context("write_segment", segment):
            await self._ensure_open()
            return await self._retrier.call(
                lambda: adapter.write_segment(inner, index, view), idempotent=True
            )

    async def complete_segment(self, segment: Segment, parts: Sequence[Part] | None = None) -> Object:
        """Join the parts in index order (every uploaded part when ``parts`` is None)."""
        adapter = self._require_segments("complete_segment")
        inner = self._to_adapter(segment, "complete_segment")
        ordered = sorted(parts, key=lambda part: part.index) if parts is not None else None
        with self._segment_context("complete_segment", segment):
            await self._ensure_open()
            obj = await self._retrier.call(
                lambda: adapter.complete_segment(inner, ordered, WriteOptions()), idempotent=False
            )
        return self._unscope(obj) if self._scope else obj

    async def abort_segment(self, segment: Segment) -> None:
        """Discard the upload and its parts; aborting twice succeeds."""
        adapter = self._require_segments("abort_segment")
        inner = self._to_adapter(segment, "abort_segment")
        with self._segment_context("abort_segment", segment):
            await self._ensure_open()
            await self._retrier.call(lambda: adapter.abort_segment(inner), idempotent=True)

    async def list_segments(self, path: str = "") -> AsyncIterator[Segment]:
        """Uploads in progress under the directory ``path``."""
        directory = self._dir(path, "list_segments")
        adapter = self._adapter
        if not adapter.capabilities.list_segments:
            raise UnsupportedError(f"the {adapter.name} adapter cannot list segments", op="list_segments")
        with self._context("list_segments", path):
            await self._ensure_open()
            found = await self._retrier.call(
                lambda: _collect(adapter.list_segments(directory)), idempotent=True
            )
        for segment in found:
            yield self._to_user(segment)
