"""Native streams: reads in large chunks, and sequential writes into a temporary
file that `commit` renames into place (no segment staging on local disk).

The file handles are aiofiles wrappers, one thread hop per chunk. Writes smaller
than ``chunk_size`` are gathered so that a hop moves at least a chunk, and a
buffer the caller cannot change any more (``bytes``, or one we filled) is written
while the caller prepares the next, with one write in flight at most. An error of
that write surfaces on the next `write` or on `commit`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from typing import Any, BinaryIO

from aiofiles.threadpool.binary import AsyncBufferedIOBase, AsyncBufferedReader

from .._adapter import ReadStream, WriteStream
from .._errors import ClosedError, StorageError
from .._types import Object
from ._atomic import Staged
from ._hop import ADAPTER, os_errors, run_io

__all__ = ["FsReadStream", "FsWriteStream"]


class FsReadStream(ReadStream):
    """``length`` bytes of an open file, positioned at the first one, in chunks."""

    def __init__(self, file: BinaryIO, obj: Object, length: int, chunk_size: int) -> None:
        self.object = obj
        self._raw = file
        self._file = AsyncBufferedReader(file, None, None)
        self._left = length
        self._chunk_size = chunk_size
        self._closed = False
        self._broken = False

    async def next_chunk(self) -> bytes:
        if self._closed:
            raise ClosedError("the read stream is closed", op="read", path=self.object.path, adapter=ADAPTER)
        if self._broken:
            raise StorageError(
                "an earlier read of this stream failed or was cancelled; reopen it",
                op="read",
                path=self.object.path,
                adapter=ADAPTER,
                retryable=True,
            )
        if self._left <= 0:
            return b""
        self._broken = True  # until this read completes: a cancelled read loses its position
        with os_errors("read", self.object.path):
            chunk = await self._file.read(min(self._chunk_size, self._left))
        if not chunk:
            raise StorageError(
                "the file ended early: it was truncated while being read",
                op="read",
                path=self.object.path,
                adapter=ADAPTER,
                retryable=True,
            )
        self._broken = False
        self._left -= len(chunk)
        return chunk

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await run_io("read", self.object.path, self._raw.close)


class FsWriteStream(WriteStream):
    """A write into ``staged``; nothing is visible before `commit`."""

    def __init__(
        self,
        staged: Staged,
        key: str,
        *,
        content_type: str | None,
        metadata: Mapping[str, str],
        if_not_exists: bool,
        chunk_size: int,
    ) -> None:
        if staged.file is None:
            raise ValueError("the staged file must have a file object attached")
        self._staged = staged
        self._file = AsyncBufferedIOBase(staged.file, None, None)
        self._key = key
        self._publish: dict[str, Any] = {
            "content_type": content_type,
            "metadata": metadata,
            "if_not_exists": if_not_exists,
        }
        self._chunk_size = chunk_size
        self._buffers: list[bytearray] = []  # two, filled in turn while the other is written
        self._fill = 0
        self._pending: asyncio.Task[int] | None = None
        self._finished = False

    async def write(self, data: bytes | memoryview) -> None:
        self._check_open()
        view = memoryview(data).cast("B")
        while view:
            if self._fill == 0 and view.nbytes >= self._chunk_size:
                await self._submit(view)
                if not _immutable(view):
                    await self._wait()  # the caller may reuse its buffer once we return
                return
            view = await self._gather(view)

    async def _gather(self, view: memoryview) -> memoryview:
        """Copy what fits into the current buffer; hand it over when full."""
        if not self._buffers:
            self._buffers = [bytearray(self._chunk_size), bytearray(self._chunk_size)]
        buffer = self._buffers[0]
        taken = min(self._chunk_size - self._fill, view.nbytes)
        buffer[self._fill : self._fill + taken] = view[:taken]
        self._fill += taken
        if self._fill == self._chunk_size:
            await self._submit(memoryview(buffer))
            self._buffers.reverse()
            self._fill = 0
        return view[taken:]

    async def commit(self) -> Object:
        self._check_open()
        await self._wait()
        tail = memoryview(self._buffers[0])[: self._fill] if self._buffers else memoryview(b"")
        self._finished = True
        cancel = threading.Event()
        return await run_io("write", self._key, self._finish, tail, cancel, cancel=cancel)

    async def abort(self) -> None:
        if self._finished:
            return
        self._finished = True
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.add_done_callback(_retrieve)
        await run_io("write", self._key, self._staged.discard)

    def _finish(self, tail: memoryview, cancel: threading.Event) -> Object:
        """In the thread: the last bytes, then publish (or discard on failure)."""
        file = self._staged.file
        try:
            if tail and file is not None:
                file.write(tail)
        except BaseException:
            self._staged.discard()
            raise
        return self._staged.publish(self._key, cancel=cancel, **self._publish)

    async def _submit(self, buffer: bytearray | memoryview) -> None:
        await self._wait()
        self._pending = asyncio.ensure_future(self._file.write(buffer))

    async def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            with os_errors("write", self._key):
                await pending

    def _check_open(self) -> None:
        if self._finished:
            message = "the write stream is already committed or aborted"
            raise ClosedError(message, op="write", path=self._key, adapter=ADAPTER)


def _immutable(view: memoryview) -> bool:
    """Whether nobody can change these bytes behind our back (a view of ``bytes``)."""
    return view.readonly and isinstance(view.obj, bytes)


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()
