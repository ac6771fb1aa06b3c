"""Parallel ranged downloads for large ``Store.read`` calls on remote adapters.

The first range request also tells the object's size and ETag; the remaining
ranges are fetched concurrently, each pinned to that ETag so that a concurrent
overwrite gives `ConditionNotMetError` instead of bytes from two versions.
When that first answer is the whole object with a checksum the adapter checks
(`VerifyingStream`), its check is taken over and fed the ranges in order, so a
byte damaged in any range is `IntegrityError`, as on a single stream.
"""

from __future__ import annotations

import asyncio

from ._adapter import Adapter, ReadStream
from ._errors import ServiceUnavailableError
from ._retry import Retrier
from ._streams import Verifier, VerifyingStream

__all__ = ["read_ranges"]


async def _drain(stream: ReadStream, sink: memoryview) -> int:
    """Copy the stream into ``sink``; returns the bytes written."""
    filled = 0
    try:
        while chunk := await stream.next_chunk():
            sink[filled : filled + len(chunk)] = chunk
            filled += len(chunk)
    finally:
        await stream.aclose()
    return filled


async def _read_all(stream: ReadStream) -> bytes:
    parts = []
    try:
        while chunk := await stream.next_chunk():
            parts.append(chunk)
    finally:
        await stream.aclose()
    return b"".join(parts)


_VERIFY_SLICE = 8 * 1024 * 1024


async def _read_head(stream: ReadStream, limit: int) -> tuple[bytes, Verifier | None, bool]:
    """The stream's data up to a little past ``limit`` bytes, the stream's running
    whole-object check when it is cut short (None when it has none), and whether it ended.

    A stream read to its end has had its whole-object checksum verified by the
    adapter; one cut short hands its check over and is closed, which drops its connection.
    """
    parts: list[bytes] = []
    have = 0
    try:
        while chunk := await stream.next_chunk():
            parts.append(chunk)
            have += len(chunk)
            if have > limit:
                verifier = stream.take_verifier() if isinstance(stream, VerifyingStream) else None
                return b"".join(parts), verifier, False
        return b"".join(parts), None, True
    finally:
        await stream.aclose()


def _verify_rest(verifier: Verifier, rest: memoryview) -> None:
    """Feed the bytes after the head to ``verifier`` in order, then settle it."""
    for start in range(0, rest.nbytes, _VERIFY_SLICE):
        verifier.update(bytes(rest[start : start + _VERIFY_SLICE]))
    verifier.finish()


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

    The first request asks for the whole range, so an object that fits in two parts
    arrives in one response, verified against its whole-object checksum. For a
    larger one the bytes read so far are kept, that response is dropped, and the
    rest is fetched with up to ``concurrency`` ranged requests pinned to its ETag.
    """

    async def first_request() -> tuple[int | None, str | None, bytes, Verifier | None, bool]:
        stream = await adapter.open_read(key, offset=offset, size=size)
        head, verifier, ended = await _read_head(stream, 2 * part_size)
        return stream.object.size, stream.object.etag, head, verifier, ended

    total, etag, head, verifier, ended = await retrier.call(first_request, idempotent=True)
    if ended:
        return head
    if total is None or etag is None:
        return head + await _read_rest(adapter, key, offset + len(head), size, len(head), retrier)
    end = total if size is None else min(offset + size, total)
    buffer = bytearray(end - offset)
    buffer[: len(head)] = head
    view = memoryview(buffer)
    slots = asyncio.Semaphore(concurrency)

    async def fetch_once(start: int, length: int) -> None:
        stream = await adapter.open_read(key, offset=start, size=length, if_match=etag)
        filled = await _drain(stream, view[start - offset : start - offset + length])
        if filled != length:
            raise ServiceUnavailableError(f"range at {start} ended after {filled} of {length} bytes")

    async def fetch(start: int) -> None:
        length = min(part_size, end - start)
        async with slots:
            await retrier.call(lambda: fetch_once(start, length), idempotent=True)

    async with asyncio.TaskGroup() as group:
        for start in range(offset + len(head), end, part_size):
            group.create_task(fetch(start))
    if verifier is not None:  # hashing releases the GIL: off the loop, it does not stall it
        await asyncio.to_thread(_verify_rest, verifier, view[len(head) :])
    return bytes(buffer)


async def _read_rest(
    adapter: Adapter, key: str, offset: int, size: int | None, done: int, retrier: Retrier
) -> bytes:
    """Without an ETag to pin ranges to, read the rest as one stream."""
    if size is not None and done >= size:
        return b""
    left = None if size is None else size - done
    stream = await retrier.call(lambda: adapter.open_read(key, offset=offset, size=left), idempotent=True)
    return await _read_all(stream)
