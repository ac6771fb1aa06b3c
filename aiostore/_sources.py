"""Turning what users pass to ``write`` into chunks, and reporting progress.

``write`` accepts bytes-like data, a sync or async iterable of bytes, or a binary
file object with a sync or async ``read``. Everything becomes an async iterator of
bytes-like chunks here, so the writers see one shape.
"""

from __future__ import annotations

import asyncio
import inspect
import io
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, TypeAlias

from ._errors import InvalidArgumentError

__all__ = ["Data", "Progress", "ProgressReporter", "as_buffer", "iter_chunks", "size_of"]

BytesLike: TypeAlias = bytes | bytearray | memoryview
Data: TypeAlias = BytesLike | Iterable[bytes] | AsyncIterable[bytes] | Any
Progress: TypeAlias = Callable[[int, int | None], Awaitable[None] | None]

FILE_CHUNK = 1024 * 1024


def as_buffer(data: object) -> memoryview | None:
    """A flat byte view of bytes-like ``data``, or None when it is a stream."""
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        return view if view.format == "B" and view.ndim == 1 else view.cast("B")
    return None


def size_of(data: object) -> int | None:
    """The number of bytes ``data`` holds when that is known without reading it."""
    view = as_buffer(data)
    if view is not None:
        return view.nbytes
    if isinstance(data, io.BytesIO):
        return len(data.getbuffer()) - data.tell()
    return None


def _is_async_reader(data: object) -> bool:
    read = getattr(data, "read", None)
    return read is not None and inspect.iscoroutinefunction(read)


async def _read_sync_file(data: Any, chunk_size: int) -> AsyncIterator[bytes]:
    in_memory = isinstance(data, io.BytesIO)
    while True:
        chunk = data.read(chunk_size) if in_memory else await asyncio.to_thread(data.read, chunk_size)
        if not chunk:
            return
        yield chunk


async def _read_async_file(data: Any, chunk_size: int) -> AsyncIterator[bytes]:
    while chunk := await data.read(chunk_size):
        yield chunk


async def _iterate_sync(data: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in data:
        yield chunk


def iter_chunks(data: Data, chunk_size: int = FILE_CHUNK) -> AsyncIterator[BytesLike]:
    """An async iterator over the chunks of any accepted ``data``.

    Example:
        >>> [c async for c in iter_chunks([b"a", b"b"])]
        [b'a', b'b']
    """
    if as_buffer(data) is not None:
        return _iterate_sync([data])  # type: ignore[list-item]
    if _is_async_reader(data):
        return _read_async_file(data, chunk_size)
    if hasattr(data, "read"):
        return _read_sync_file(data, chunk_size)
    if isinstance(data, AsyncIterable):
        return aiter(data)
    if isinstance(data, Iterable) and not isinstance(data, str):
        return _iterate_sync(data)  # type: ignore[arg-type]
    raise InvalidArgumentError(
        f"cannot write {type(data).__name__}: pass bytes, an iterable of bytes or a binary file",
        op="write",
    )


def check_chunk(chunk: object) -> memoryview:
    """Refuse chunks that are not bytes-like (a str chunk is a common mistake)."""
    view = as_buffer(chunk)
    if view is None:
        raise InvalidArgumentError(f"chunks must be bytes-like, got {type(chunk).__name__}", op="write")
    return view


class ProgressReporter:
    """Calls a sync or async ``progress(done, total)``; monotonic, each byte once."""

    __slots__ = ("_callback", "done", "total")

    def __init__(self, callback: Progress | None, total: int | None) -> None:
        self._callback = callback
        self.total = total
        self.done = 0

    async def add(self, count: int) -> None:
        if count <= 0 and self.done:
            return
        self.done += count
        if self._callback is not None:
            result = self._callback(self.done, self.total)
            if inspect.isawaitable(result):
                await result
