"""Parallel ranged downloads for large ``Store.read`` calls on remote adapters.

The first range request also tells the object's size and ETag; the remaining
ranges are fetched concurrently, each pinned to that ETag so that a concurrent
overwrite gives `ConditionNotMetError` instead of bytes from two versions.
When that first answer is the whole object with a checksum the adapter checks
(`VerifyingStream`), its check is taken over and fed the ranges in order, so a
byte damaged in any range is `IntegrityError`, as on a single stream.

Every byte is copied once, into the buffer that becomes the result (`Presized`):
no chunk list joined at the end, no bytearray copied into ``bytes``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ._adapter import Adapter, ReadStream, read_to_end
from ._errors import ServiceUnavailableError, first_failure
from ._gather import Presized
from ._retry import Retrier
from ._streams import Verifier, VerifyingStream
from ._types import Object

__all__ = ["read_ranges"]

_VERIFY_SLICE = 8 * 1024 * 1024


@dataclass(slots=True)
class _Head:
    """The first answer cut short: the result buffer, how much of it it filled, and its check."""

    buffer: Presized
    filled: int
    etag: str
    verifier: Verifier | None


async def _drain(stream: ReadStream, sink: memoryview) -> int:
    """Copy the stream into ``sink``; returns the bytes written."""
    filled = 0
    try:
        while chunk := await stream.next_chunk():
            if filled + len(chunk) > sink.nbytes:
                raise ServiceUnavailableError(f"a range answered more than the {sink.nbytes} bytes asked")
            sink[filled : filled + len(chunk)] = chunk
            filled += len(chunk)
    finally:
        await stream.aclose()
    return filled


async def _read_head(stream: ReadStream, sink: memoryview, limit: int) -> tuple[int, Verifier | None]:
    """Copy the stream into ``sink`` until it holds more than ``limit`` bytes; the bytes
    written and the stream's running whole-object check (None when it has none).

    The stream is then closed, which drops its connection. A stream that ends
    before filling ``sink`` was cut short: a retryable error.
    """
    filled = 0
    try:
        while filled <= limit:
            chunk = await stream.next_chunk()
            if not chunk or filled + len(chunk) > sink.nbytes:
                raise ServiceUnavailableError(
                    f"the first answer ended or overran after {filled} of {sink.nbytes} bytes"
                )
            sink[filled : filled + len(chunk)] = chunk
            filled += len(chunk)
        return filled, stream.take_verifier() if isinstance(stream, VerifyingStream) else None
    finally:
        await stream.aclose()


def _feed(verifier: Verifier, span: memoryview) -> None:
    """Hash ``span`` into ``verifier`` a slice at a time (in a worker thread)."""
    for start in range(0, span.nbytes, _VERIFY_SLICE):
        verifier.update(span[start : start + _VERIFY_SLICE])


class _InOrderCheck:
    """Feeds the whole-object check the buffer's bytes in order while later ranges are
    still on their way: whenever the ranges that have landed extend the checked
    prefix, that stretch is hashed in a worker thread (hashlib releases the GIL).
    Hashing everything after the last range instead made a 128 MiB read on
    Azurite wait a further ~0.2 s for its MD5."""

    def __init__(self, verifier: Verifier, view: memoryview, checked: int) -> None:
        self._verifier = verifier
        self._view = view
        self._checked = checked  # bytes of the buffer fed so far
        self._ready = checked  # end of the prefix that has landed
        self._landed: dict[int, int] = {}  # ranges past that prefix: start -> end
        self._wake = asyncio.Event()

    def landed(self, start: int, end: int) -> None:
        """The range ``[start, end)`` of the buffer is filled."""
        self._landed[start] = end
        while self._ready in self._landed:
            self._ready = self._landed.pop(self._ready)
        self._wake.set()

    async def run(self) -> None:
        """Hash each new stretch of the prefix as it lands; settle the check at the end."""
        total = self._view.nbytes
        while self._checked < total:
            await self._wake.wait()
            self._wake.clear()
            ready = self._ready
            if ready > self._checked:
                span = self._view[self._checked : ready]
                try:
                    await asyncio.to_thread(_feed, self._verifier, span)
                finally:
                    # the worker may still hold its arguments: a view left exported would
                    # make the result's getvalue() copy the whole buffer (2x the memory)
                    span.release()
                self._checked = ready
        self._verifier.finish()


def _range_length(obj: Object, offset: int, size: int | None) -> int | None:
    """Bytes a read of ``offset``/``size`` returns from ``obj`` (None when its size is unknown)."""
    if obj.size is None:
        return None
    end = obj.size if size is None else min(offset + size, obj.size)
    return max(end - offset, 0)


async def read_ranges(
    adapter: Adapter,
    key: str,
    *,
    offset: int,
    size: int | None,
    part_size: int,
    concurrency: int,
    retrier: Retrier,
) -> bytes:
    """Read ``size`` bytes (all when None) from ``offset``.

    The first request asks for the whole range, so a range that fits in two parts
    (or whose size or ETag is unknown) arrives in that one response, verified
    against the whole-object checksum. For a larger one, the first response fills
    the first two parts, then is dropped, and the rest is fetched with up to
    ``concurrency`` ranged requests pinned to its ETag.
    """

    async def first_request() -> bytes | _Head:
        stream = await adapter.open_read(key, offset=offset, size=size)
        length = _range_length(stream.object, offset, size)
        etag = stream.object.etag
        if length is None or etag is None or length <= 2 * part_size:
            return await read_to_end(stream)
        buffer = await Presized.in_steps(length)
        filled, verifier = await _read_head(stream, buffer.view, 2 * part_size)
        return _Head(buffer, filled, etag, verifier)

    first = await retrier.call(first_request, idempotent=True)
    if isinstance(first, bytes):
        return first
    return await _read_rest(adapter, key, offset, first, part_size, concurrency, retrier)


async def _read_rest(
    adapter: Adapter,
    key: str,
    offset: int,
    head: _Head,
    part_size: int,
    concurrency: int,
    retrier: Retrier,
) -> bytes:
    """Fill the rest of ``head.buffer`` with ranges pinned to its ETag; verify; the bytes."""
    view = head.buffer.view
    end = offset + view.nbytes
    slots = asyncio.Semaphore(concurrency)

    # the ranges need no check of their own when the whole-object one covers them
    opener = adapter.open_covered_read if head.verifier is not None else adapter.open_read
    check = None if head.verifier is None else _InOrderCheck(head.verifier, view, head.filled)

    async def fetch_once(start: int, length: int) -> None:
        stream = await opener(key, offset=start, size=length, if_match=head.etag)
        filled = await _drain(stream, view[start - offset : start - offset + length])
        if filled != length:
            raise ServiceUnavailableError(f"range at {start} ended after {filled} of {length} bytes")

    async def fetch(start: int) -> None:
        length = min(part_size, end - start)
        async with slots:
            await retrier.call(lambda: fetch_once(start, length), idempotent=True)
        if check is not None:
            check.landed(start - offset, start - offset + length)

    try:
        async with asyncio.TaskGroup() as group:
            if check is not None:
                group.create_task(check.run())
            for start in range(offset + head.filled, end, part_size):
                group.create_task(fetch(start))
    except BaseExceptionGroup as failed:
        raise first_failure(failed) from None
    return head.buffer.value()
