"""`OrderedMD5`: the MD5 of a whole upload, hashed part by part while the parts are sent.

Parts leave concurrently, but an MD5 only takes bytes in order: each part is
hashed in a worker thread (hashlib releases the GIL) once the part before it is
done, so hashing overlaps sending and never holds the event loop.

Example:
    >>> digest = OrderedMD5()
    >>> first = digest.add(b"ab")
    >>> second = digest.add(b"c")
    >>> await second                       # waits for ``first`` too
    >>> (await digest.value()).hex() == hashlib.md5(b"abc").hexdigest()
    True
"""

from __future__ import annotations

import asyncio
import hashlib

from ._pieces import Pieces, buffers_of

__all__ = ["OrderedMD5"]


def _update(md5: hashlib._Hash, data: bytes | Pieces) -> None:
    for buffer in buffers_of(data):
        md5.update(buffer)


class OrderedMD5:
    """A running MD5 fed whole parts in the order they were added."""

    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._last: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, data: bytes | Pieces) -> asyncio.Task[None]:
        """Hash ``data`` after every part added before it; the task ends once it is hashed.

        ``data`` must not change until then (the uploader's parts never do).
        """
        task = asyncio.create_task(self._hash_after(self._last, data))
        self._last = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _hash_after(self, previous: asyncio.Task[None] | None, data: bytes | Pieces) -> None:
        if previous is not None:
            await previous
        await asyncio.to_thread(_update, self._md5, data)

    async def value(self) -> bytes:
        """The digest of every part added, once all are hashed."""
        if self._last is not None:
            await self._last
        return self._md5.digest()

    def cancel(self) -> None:
        """Stop hashing (an aborted upload)."""
        for task in self._tasks:
            task.cancel()
