"""Small helpers shared by the conformance tests: data, sources, listings, progress."""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
import tracemalloc
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field

from aiostore import Object, Segment, Store

__all__ = [
    "KiB",
    "MiB",
    "AsyncFile",
    "ProgressLog",
    "achunks",
    "big_size",
    "chunks",
    "collect",
    "digest",
    "listing",
    "payload",
    "read_stream",
    "segment_size",
    "segments",
    "traced_peak",
    "write_many",
]

KiB = 1024
MiB = 1024 * KiB


async def traced_peak(awaitable: Awaitable[bytes]) -> tuple[bytes, int]:
    """``awaitable``'s bytes and the peak of the memory Python allocated while it ran.

    Example:
        >>> data, peak = await traced_peak(store.read("large.bin"))
    """
    tracemalloc.start()
    try:
        result = await awaitable
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def payload(size: int, seed: int = 0) -> bytes:
    """Deterministic pseudo-random bytes; anything over a few bytes is not valid UTF-8."""
    return random.Random(seed).randbytes(size)


def digest(data: bytes) -> str:
    """The SHA-256 of ``data`` in hex, so failures print a short value, not megabytes."""
    return hashlib.sha256(data).hexdigest()


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    """``data`` cut into pieces of ``size`` bytes (the last one shorter)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def achunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    """``data`` as an async iterable of unknown total size, yielding to the loop between pieces."""
    for piece in chunks(data, size):
        await asyncio.sleep(0)
        yield piece


class AsyncFile:
    """A binary file object with an async ``read()``, like the ones aiofiles returns."""

    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)

    async def read(self, size: int = -1) -> bytes:
        await asyncio.sleep(0)
        return self._buffer.read(size)


def segment_size(store: Store) -> int:
    """A part size every adapter accepts for a part that is not the last."""
    return max(store.metadata().limits.min_segment_size, 256 * KiB)


def big_size(store: Store) -> int:
    """The size of a multi-segment object: 2.5 parts of the store's upload part size."""
    return int(2.5 * store.transfer.part_size_for(None, store.metadata().limits))


async def collect(entries: AsyncIterable[Object]) -> list[Object]:
    """Every entry of an async iterator of objects, in order."""
    return [entry async for entry in entries]


async def listing(store: Store, directory: str = "", *, recursive: bool = False) -> dict[str, Object]:
    """``path -> Object`` for a listing; fails on a path listed twice."""
    found: dict[str, Object] = {}
    async for entry in store.list(directory, recursive=recursive):
        assert entry.path not in found, f"{entry.path!r} listed twice"
        found[entry.path] = entry
    return found


async def segments(store: Store, directory: str = "") -> list[Segment]:
    """Every upload in progress under ``directory``."""
    return [segment async for segment in store.list_segments(directory)]


async def read_stream(
    store: Store, path: str, *, offset: int = 0, size: int | None = None
) -> tuple[bytes, Object]:
    """Read through ``store.reader``: the joined chunks and the reader's ``object``."""
    async with store.reader(path, offset=offset, size=size) as reader:
        pieces = [piece async for piece in reader]
        return b"".join(pieces), reader.object


async def write_many(store: Store, items: Mapping[str, bytes], concurrency: int = 8) -> None:
    """Write every ``path -> data`` item, ``concurrency`` at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(path: str, data: bytes) -> None:
        async with gate:
            await store.write(path, data)

    async with asyncio.TaskGroup() as group:
        for path, data in items.items():
            group.create_task(one(path, data))


@dataclass
class ProgressLog:
    """Records progress calls; usable as a sync (`sync`) or async (`async_`) callback."""

    calls: list[tuple[int, int | None]] = field(default_factory=list)

    def sync(self, done: int, total: int | None) -> None:
        self.calls.append((done, total))

    async def async_(self, done: int, total: int | None) -> None:
        await asyncio.sleep(0)
        self.calls.append((done, total))

    def callback(self, kind: str) -> Callable[[int, int | None], Awaitable[None] | None]:
        """The ``"sync"`` or the ``"async"`` recording callback."""
        return self.sync if kind == "sync" else self.async_

    def check(self, size: int, *, total_known: bool) -> None:
        """Calls were made, ``done`` never went down, and the last one reports ``size``."""
        assert self.calls, "the progress callback was never called"
        done = [call[0] for call in self.calls]
        assert done == sorted(done), f"progress went backwards: {done}"
        assert done[-1] == size, f"last progress call reported {done[-1]} of {size} bytes"
        assert all(0 <= value <= size for value in done), f"progress out of range: {done}"
        totals = {call[1] for call in self.calls}
        assert totals <= {size, None}, f"progress totals {totals} for a {size}-byte object"
        if total_known:
            assert totals == {size}, f"the size was known, yet totals were {totals}"
