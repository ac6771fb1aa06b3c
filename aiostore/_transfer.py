"""The transfer engine: the bounded-concurrency segment uploader every adapter shares.

`SegmentedWrite` buffers one part at a time and keeps at most ``concurrency``
parts in flight, so peak memory stays near ``part_size * (concurrency + 1)``
whatever the object size. Data that fits in one part goes out as a single write.
Any failure or cancellation aborts the upload in a shielded cleanup: nothing is
left behind.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ._adapter import Adapter, WriteStream
from ._digest import OrderedMD5
from ._errors import InvalidArgumentError
from ._pieces import PieceCollector, Pieces
from ._retry import Retrier
from ._sources import ProgressReporter
from ._types import Limits, Object, Part, Segment, WriteOptions

__all__ = ["BufferedWrite", "SegmentedWrite", "TransferOptions", "choose_part_size", "shielded"]

MiB = 1024 * 1024
T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferOptions:
    """How the core moves data; immutable.

    Attributes:
        part_size: bytes per segment part; None chooses from the size and limits.
        concurrency: parts in flight at once for one upload.
        chunk_size: bytes per chunk handed out by streaming reads.
        cleanup_timeout: seconds a shielded abort may take after a failure.
        parallel_reads: whether ``Store.read`` of more than two parts fetches the rest
            as ``concurrency`` parallel ranges pinned to the first answer's ETag;
            None takes the adapter's default (on for S3 and Azure, off for GCS).

    Example:
        >>> aiostore.connect("memory://", transfer=TransferOptions(part_size=16 * MiB))
    """

    part_size: int | None = None
    concurrency: int = 8
    chunk_size: int = MiB
    cleanup_timeout: float = 30.0
    parallel_reads: bool | None = None

    def __post_init__(self) -> None:
        if self.part_size is not None and self.part_size < 1:
            raise InvalidArgumentError(f"part_size must be positive, got {self.part_size}")
        if self.concurrency < 1:
            raise InvalidArgumentError(f"concurrency must be at least 1, got {self.concurrency}")
        if self.chunk_size < 1:
            raise InvalidArgumentError(f"chunk_size must be positive, got {self.chunk_size}")

    def part_size_for(self, size: int | None, limits: Limits) -> int:
        """The part size an upload of ``size`` bytes uses under ``limits``."""
        return choose_part_size(size, limits, self.part_size)


DEFAULT_PART_SIZE = 8 * MiB


def choose_part_size(size: int | None, limits: Limits, requested: int | None) -> int:
    """A part size within ``limits`` that fits ``size`` into ``max_segments`` parts.

    Example:
        >>> choose_part_size(200 * 1024**3, Limits(), None) // MiB  # 200 GiB
        21
    """
    part = max(requested or DEFAULT_PART_SIZE, limits.min_segment_size)
    if size is not None and size > part * limits.max_segments:
        part = math.ceil(size / limits.max_segments / MiB) * MiB
    part = min(part, limits.max_segment_size)
    if size is not None and size > part * limits.max_segments:
        raise InvalidArgumentError(f"{size} bytes is more than this adapter can store in one object")
    return part


async def shielded(awaitable: Awaitable[T], within: float) -> T:
    """Run cleanup to the end even if the caller is cancelled meanwhile, within ``within`` s.

    A cancellation that arrives during the cleanup is re-raised once it is done.
    """
    task = asyncio.ensure_future(asyncio.wait_for(awaitable, within))
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():
                break
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return task.result()


async def start_segment(
    adapter: Adapter, retrier: Retrier, path: str, options: WriteOptions, cleanup_timeout: float
) -> Segment:
    """``init_segment`` that a cancellation cannot orphan: if the caller is cancelled
    while the upload is being created, the creation finishes and the upload is
    aborted in a shielded cleanup before the cancellation goes on."""
    init = asyncio.ensure_future(retrier.call(lambda: adapter.init_segment(path, options), idempotent=False))
    try:
        return await asyncio.shield(init)
    except asyncio.CancelledError:

        async def undo() -> None:
            try:
                segment = await init
            except Exception:
                return
            await retrier.call(lambda: adapter.abort_segment(segment), idempotent=True)

        await shielded(undo(), cleanup_timeout)
        raise


class SegmentedWrite(WriteStream):
    """A streaming upload over the adapter's segment primitives."""

    def __init__(
        self,
        adapter: Adapter,
        path: str,
        options: WriteOptions,
        *,
        part_size: int,
        concurrency: int,
        progress: ProgressReporter,
        retrier: Retrier,
        cleanup_timeout: float = 30.0,
    ) -> None:
        self._adapter = adapter
        self._retrier = retrier
        self._path = path
        self._options = options
        self._part_size = part_size
        self._progress = progress
        self._cleanup_timeout = cleanup_timeout
        self._slots = asyncio.Semaphore(concurrency)
        self._pending = PieceCollector()
        self._segment: Segment | None = None
        self._next_index = 0
        self._parts: list[Part] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._failure: BaseException | None = None
        self._md5 = OrderedMD5() if adapter.stores_content_md5 else None

    async def write(self, data: bytes | memoryview) -> None:
        self._raise_failure()
        view = memoryview(data).cast("B") if not isinstance(data, bytes) else memoryview(data)
        pending, part_size = self._pending, self._part_size
        while view.nbytes:
            room = part_size - pending.size
            pending.add(view[:room])
            view = view[room:]
            if pending.size == part_size:
                await self._submit(pending.take())

    async def commit(self) -> Object:
        self._raise_failure()
        if self._segment is None:
            body = self._pending.take().join()
            obj = await self._retrier.call(
                lambda: self._adapter.write_once(self._path, body, self._options),
                idempotent=True,
                created_if_absent=self._options.if_not_exists,
            )
            await self._progress.add(len(body))
            return obj
        if self._pending.size:
            await self._submit(self._pending.take())
        if self._tasks:
            await asyncio.wait(set(self._tasks))
        self._raise_failure()
        parts = sorted(self._parts, key=lambda part: part.index)
        segment = self._segment
        if self._md5 is not None:
            md5 = await self._md5.value()
            return await self._retrier.call(
                lambda: self._adapter.complete_segment_with_md5(segment, parts, self._options, md5),
                idempotent=False,
            )
        return await self._retrier.call(
            lambda: self._adapter.complete_segment(segment, parts, self._options), idempotent=False
        )

    async def abort(self) -> None:
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        if self._md5 is not None:
            self._md5.cancel()
        segment, self._segment = self._segment, None
        self._pending.take()

        async def cleanup() -> None:
            if tasks:
                await asyncio.wait(tasks)
            if segment is not None:
                await self._retrier.call(lambda: self._adapter.abort_segment(segment), idempotent=True)

        await shielded(cleanup(), self._cleanup_timeout)

    async def _submit(self, pieces: Pieces) -> None:
        # joined here, once, for an adapter that needs one buffer: the pieces go
        # right away, so a part never holds its bytes twice
        data: Pieces | bytes = pieces if self._adapter.writes_pieces else pieces.join()
        del pieces
        if self._segment is None:
            self._segment = await start_segment(
                self._adapter, self._retrier, self._path, self._options, self._cleanup_timeout
            )
        await self._slots.acquire()
        if self._failure is not None:
            self._slots.release()
            self._raise_failure()
        index, self._next_index = self._next_index, self._next_index + 1
        hashed = self._md5.add(data) if self._md5 is not None else None
        task = asyncio.create_task(self._upload(self._segment, index, data, hashed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        # let the part start sending now: a producer that never awaits anything else
        # (an in-memory source) would otherwise fill every free slot before any
        # part leaves, and the connection would idle meanwhile
        await asyncio.sleep(0)

    async def _upload(
        self, segment: Segment, index: int, data: Pieces | bytes, hashed: asyncio.Task[None] | None
    ) -> None:
        try:
            part = await self._retrier.call(lambda: self._send(segment, index, data), idempotent=True)
            if hashed is not None:  # the slot, and with it the part's memory, is held until hashed
                await hashed
            self._parts.append(part)
            await self._progress.add(len(data))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            if self._failure is None:
                self._failure = exc
        finally:
            self._slots.release()

    def _send(self, segment: Segment, index: int, data: Pieces | bytes) -> Awaitable[Part]:
        if isinstance(data, Pieces):
            return self._adapter.write_segment_pieces(segment, index, data)
        return self._adapter.write_segment(segment, index, memoryview(data))

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure


class BufferedWrite(WriteStream):
    """For adapters without segments: collect in memory, then one write."""

    def __init__(
        self, adapter: Adapter, path: str, options: WriteOptions, progress: ProgressReporter, retrier: Retrier
    ) -> None:
        self._adapter = adapter
        self._retrier = retrier
        self._path = path
        self._options = options
        self._progress = progress
        self._buffer = bytearray()

    async def write(self, data: bytes | memoryview) -> None:
        self._buffer += data

    async def commit(self) -> Object:
        body = memoryview(self._buffer)
        obj = await self._retrier.call(
            lambda: self._adapter.write_once(self._path, body, self._options),
            idempotent=True,
            created_if_absent=self._options.if_not_exists,
        )
        await self._progress.add(len(self._buffer))
        return obj

    async def abort(self) -> None:
        self._buffer = bytearray()


class ProgressWrite(WriteStream):
    """Wraps a native adapter stream to report progress as each write returns."""

    def __init__(self, inner: WriteStream, progress: ProgressReporter) -> None:
        self._inner = inner
        self._progress = progress

    async def write(self, data: bytes | memoryview) -> None:
        await self._inner.write(data)
        await self._progress.add(len(data))

    async def commit(self) -> Object:
        obj = await self._inner.commit()
        await self._progress.add(0)
        return obj

    async def abort(self) -> None:
        await self._inner.abort()


def sorted_parts(parts: Sequence[Part]) -> list[Part]:
    return sorted(parts, key=lambda part: part.index)
