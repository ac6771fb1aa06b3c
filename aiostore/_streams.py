"""User-facing streams: `Reader` (chunks out of a store) and `Writer` (chunks in)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Protocol, runtime_checkable

from ._adapter import ReadStream, WriteStream
from ._errors import ClosedError, IntegrityError, InvalidArgumentError, StorageError, StorageTimeoutError
from ._gather import Gathered
from ._retry import Retrier
from ._sources import check_chunk
from ._transfer import shielded
from ._types import Object

__all__ = ["Reader", "Verifier", "VerifyingStream", "Writer"]


class Verifier(Protocol):
    """A running check of a whole object's bytes against the service's checksum."""

    def update(self, chunk: bytes | memoryview, /) -> None:
        """Hash the next bytes of the object (a view only lives for the call)."""

    def finish(self) -> None:
        """Raise `IntegrityError` unless the bytes hashed are the object the checksum names."""


@runtime_checkable
class VerifyingStream(Protocol):
    """A `ReadStream` that checks the whole object and can hand that check over.

    When a broken stream resumes, the rest comes as a byte range that no service
    checksum covers; the `Reader` takes the check, which has hashed exactly the
    bytes the stream returned, and feeds it the resumed bytes, so the whole object
    is still verified at the end.
    """

    def take_verifier(self) -> Verifier | None:
        """The running check (the stream stops checking), or None when it has none."""


class Reader:
    """A streaming download; an async context manager and an async iterator of chunks.

    A stream that breaks or stalls mid-way resumes with a ranged request pinned to
    the same version (its ETag); if the object changed meanwhile, the read fails
    with `ConditionNotMetError` rather than mixing bytes of two versions. A read
    the adapter verifies stays verified across resumes: the check of the first
    stream (`VerifyingStream`) carries on over the resumed ranges, and a mismatch
    at the end is `IntegrityError`, never a clean end.

    Example:
        >>> async with store.reader("big.bin", offset=1024) as r:
        ...     async for chunk in r:
        ...         sink.write(chunk)
    """

    def __init__(
        self,
        opener: Callable[[int, str | None, bool], Awaitable[ReadStream]],
        on_error: Callable[[StorageError], None],
        *,
        retrier: Retrier,
        resumable: bool,
    ) -> None:
        # opener(bytes consumed, ETag to pin or None, whether a carried check covers the rest)
        self._opener = opener
        self._on_error = on_error
        self._retrier = retrier
        self._resumable = resumable
        self._stream: ReadStream | None = None
        self._pending = b""
        self._consumed = 0
        self._resumes = 0
        self._verifier: Verifier | None = None  # carried over resumed ranges
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
        if self._stream is None and not self._closed:
            try:
                self._stream = await self._retrier.call(lambda: self._opener(0, None, False), idempotent=True)
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
        while True:
            stream = self._require_stream()
            try:
                chunk = await self._next_within_stall(stream)
                self._verify(chunk)
            except StorageError as error:
                if not await self._resume(error):
                    self._on_error(error)
                    raise
                continue
            self._consumed += len(chunk)
            return chunk

    async def _next_within_stall(self, stream: ReadStream) -> bytes:
        stall = self._retrier.timeouts.stall
        if stall is None:
            return await stream.next_chunk()
        try:
            async with asyncio.timeout(stall):
                return await stream.next_chunk()
        except TimeoutError as exc:
            if isinstance(exc, StorageError):
                raise
            raise StorageTimeoutError(f"no byte arrived for {stall:.3g} s", op="read") from exc

    def _verify(self, chunk: bytes) -> None:
        """Feed the carried check; at the end of the object, settle it."""
        verifier = self._verifier
        if verifier is None:
            return
        if chunk:
            verifier.update(chunk)
            return
        self._verifier = None
        verifier.finish()

    async def _resume(self, error: StorageError) -> bool:
        """Reopen after the bytes already handed out, pinned to the same version."""
        stream = self._require_stream()
        etag = stream.object.etag
        if isinstance(error, IntegrityError):
            return False  # the bad bytes may already be handed out: never paper over them
        if not (self._resumable and error.retryable and etag is not None):
            return False
        if self._resumes + 1 >= self._retrier.options.attempts:
            return False
        self._resumes += 1
        taken = stream.take_verifier() if isinstance(stream, VerifyingStream) else None
        if taken is not None:  # else keep the one carried from an earlier stream, if any
            self._verifier = taken
        await stream.aclose()
        consumed, covered = self._consumed, self._verifier is not None
        reopen = lambda: self._opener(consumed, etag, covered)  # noqa: E731
        self._stream = await self._retrier.call(reopen, idempotent=True)
        return True

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
            gathered = Gathered()
            while chunk := await self._next():
                gathered.add(chunk)
            return gathered.value()
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
        convert: Callable[[Object], Object] | None = None,
    ) -> None:
        self._opener = opener
        self._convert = convert
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
            obj = await stream.commit()
            self.object = self._convert(obj) if self._convert is not None else obj
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
