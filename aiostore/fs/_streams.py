"""Native streams: `FsReadStream` reads in large chunks through an aiofiles
wrapper, one thread hop per chunk; `FsWriteStream` (in `_writer`) writes batches.
"""

from __future__ import annotations

from typing import BinaryIO

from aiofiles.threadpool.binary import AsyncBufferedReader

from .._adapter import ReadStream
from .._errors import ClosedError, StorageError
from .._types import Object
from ._hop import ADAPTER, os_errors, run_io
from ._writer import FsWriteStream

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
