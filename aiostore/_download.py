"""Parallel ranged downloads for large ``Store.read`` calls on remote adapters.

The first range request also tells the object's size and ETag; the remaining
ranges are fetched concurrently, each pinned to that ETag so that a concurrent
overwrite gives `ConditionNotMetError` instead of bytes from two versions.
"""

from __future__ import annotations

import asyncio

from ._adapter import Adapter, ReadStream
from ._errors import ServiceUnavailableError
from ._retry import Retrier

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
    """Read ``size`` bytes (all when None) from ``offset`` with up to ``concurrency``
    ranged requests of ``part_size`` bytes in flight."""
    first_size = part_size if size is None else min(size, part_size)
    first = await retrier.call(
        lambda: adapter.open_read(key, offset=offset, size=first_size), idempotent=True
    )
    total = first.object.size
    etag = first.object.etag
    head = await _read_all(first)
    if total is None or etag is None:
        return head + await _read_rest(adapter, key, offset + len(head), size, len(head), retrier)
    end = total if size is None else min(offset + size, total)
    if offset + len(head) >= end:
        return head
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
