"""User-facing streams: `Reader` (chunks out of a store) and `Writer` (chunks in)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType

from ._adapter import ReadStream, WriteStream
from ._errors import ClosedError, InvalidArgumentError, StorageError
from ._sources import check_chunk
from ._transfer import shielded
from ._types import Object

__all__ = ["Reader", "Writer"]


class Reader:
    """A streaming download; an async context manager and an async iterator of chunks.

    Example:
        >>> async with store.reader("big.bin", offset=1024) as r:
        ...     async for chunk in r:
        ...         sink.write(chunk)
    """

    def __init__(self, opener: Callable[[], Awaitable[ReadStream]], on_error: Callable[[StorageError], None]):
        self._opener = opener
        self._on_error = on_error
        self._stream: ReadStream | None = None
        self._pending = b""
        self._closed = False

    @property
    def object(self) -> Object:
        """The object being read (its full size, etag, ...); available once opened."""
        return self._require_stream().object

    async def __aenter__(self) -> Reader:
        await self._open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _open(self) -> None:
        if self._stream is None:
            try:
                self._stream = await self._opener()
            except StorageError as error:
                self._on_error(error)
                raise

    def _require_stream(self) -> ReadStream:
        if self._closed:
            raise ClosedError("the reader is closed", op="read")
        if self._stream is None:
            raise ClosedError("use the reader inside 'async with'", op="read")
        return self._stream

    async def _next(self) -> bytes:
        if self._pending:
            chunk, self._pending = self._pending, b""
            return chunk
        try:
            return await self._require_stream().next_chunk()
        except StorageError as error:
            self._on_error(error)
            raise

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        await self._open()
        while chunk := await self._next():
            yield chunk

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (everything left when ``n < 0``); ``b""`` at the end."""
        await self._open()
        if n < 0:
            parts = []
            while chunk := await self._next():
                parts.append(chunk)
            return b"".join(parts)
        chunk = await self._next()
        if len(chunk) > n:
            chunk, self._pending = chunk[:n], chunk[n:]
        return chunk

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            if self._stream is not None:
                await self._stream.aclose()


class Writer:
    """A streaming upload; nothing is visible until the ``async with`` block exits
    cleanly. Leaving it by an exception or a cancellation aborts: nothing is left.

    Example:
        >>> async with store.writer("big.bin") as w:
        ...     async for chunk in source:
        ...         await w.write(chunk)
        >>> w.object.size
    """

    def __init__(
        self,
        opener: Callable[[], Awaitable[WriteStream]],
        on_error: Callable[[StorageError], None],
        *,
        expected_size: int | None,
        cleanup_timeout: float,
    ) -> None:
        self._opener = opener
        self._on_error = on_error
        self._expected_size = expected_size
        self._cleanup_timeout = cleanup_timeout
        self._stream: WriteStream | None = None
        self._written = 0
        self._done = False
        self.object: Object | None = None

    async def __aenter__(self) -> Writer:
        try:
            self._stream = await self._opener()
        except StorageError as error:
            self._on_error(error)
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None:
            await self.abort()
            return
        await self.commit()

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes; the buffer may be reused once this returns."""
        stream = self._require_open()
        view = check_chunk(data)
        try:
            await stream.write(view)
        except BaseException as error:
            await self._fail(error)
            raise
        self._written += view.nbytes

    async def commit(self) -> Object:
        """Finish the upload and make the object visible (``async with`` does this)."""
        stream = self._require_open()
        try:
            self._check_size()
            self.object = await stream.commit()
        except BaseException as error:
            await self._fail(error)
            raise
        self._done = True
        return self.object

    async def abort(self) -> None:
        """Discard everything written; safe to call twice."""
        if self._done or self._stream is None:
            return
        self._done = True
        await shielded(self._stream.abort(), self._cleanup_timeout)

    async def _fail(self, error: BaseException) -> None:
        if isinstance(error, StorageError):
            self._on_error(error)
        try:
            await self.abort()
        except asyncio.CancelledError:
            raise
        except Exception as cleanup_error:
            error.__context__ = cleanup_error

    def _check_size(self) -> None:
        if self._expected_size is not None and self._written != self._expected_size:
            raise InvalidArgumentError(
                f"size={self._expected_size} was given but {self._written} bytes were written", op="write"
            )

    def _require_open(self) -> WriteStream:
        if self._stream is None:
            raise ClosedError("use the writer inside 'async with'", op="write")
        if self._done:
            raise ClosedError("the writer is already committed or aborted", op="write")
        return self._stream
