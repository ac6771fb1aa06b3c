"""`FsWriteStream`: a sequential write into a hidden temporary file that `commit`
renames into place (no segment staging on local disk).

Chunks travel to the pool's threads in batches of about ``_BATCH_CHUNKS`` x
``chunk_size`` bytes, each written with ``os.pwritev`` at its own offset. Up to
``_DEPTH`` batches are queued, each chained after the one before it, so one
thread writes them in order and goes straight on to the next (two threads
writing one file only contend for it). The batches are quiet jobs: the thread
wakes the loop only for a batch the loop waits for, and when all are in flight
the loop waits for the ``_REFILL`` oldest at once, so a wake-up (and the
thread's turn on the GIL that comes with it) serves several batches. A large ``bytes`` chunk
(nobody can change it) joins a batch by reference; anything else is copied into
a buffer of ours first, because the caller may reuse its buffer once `write`
returns. A batch's error surfaces on a later `write` or on `commit`.

Holding the caller's chunks is cheap only if they are freed one at a time: a
whole batch of them freed at once gives the allocator a free block large enough
to hand back to the system, and the next chunks fault their pages in again
(measured: 4x the page faults and twice the CPU per GB). So the loop thread, not
the worker, drops a written batch, one chunk per later `write`: each allocation
of the caller's then reuses the block just freed.

Nothing is visible before `commit`. `abort` (and so any failure or cancellation)
waits for every batch in flight, so no thread ever writes to a closed
descriptor, then removes the temporary file.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Mapping
from typing import Any

from .._adapter import WriteStream
from .._errors import ClosedError
from .._types import Object
from ._atomic import Staged, pwritev_all
from ._hop import ADAPTER, Flag, os_errors, run_io, settle
from ._pool import Job, pool_for

__all__ = ["FsWriteStream"]

_BY_REFERENCE = 64 * 1024  # smaller immutable chunks are copied too: fewer, larger iovecs
_SPARES = 4  # buffers kept for reuse once their batch is written
_BATCH_CHUNKS = 2  # chunk_size units per thread hop (1 measured 5-16% slower on tmpfs)
_DEPTH = 4  # batches queued or being written at once
_REFILL = 2  # when all are in flight, wait for this many (one wake-up) before adding more

# a batch handed to a thread: its job, its buffers, and our bytearrays they point into
_Flight = tuple[Job[None], list[memoryview], list[bytearray]]


class FsWriteStream(WriteStream):
    """A write into ``staged`` (its descriptor); nothing is visible before `commit`."""

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
        self._staged = staged
        self._key = key
        self._publish: dict[str, Any] = {
            "content_type": content_type,
            "metadata": metadata,
            "if_not_exists": if_not_exists,
        }
        self._buffer_size = chunk_size
        self._batch_size = chunk_size * _BATCH_CHUNKS
        self._batch: list[memoryview] = []  # in file order
        self._batched = 0
        self._offset = 0  # where the batch goes in the file
        self._owned: list[bytearray] = []  # our buffers the batch points into
        self._buffer: bytearray | None = None  # being filled; [mark:fill] not batched yet
        self._mark = self._fill = 0
        self._spares: list[bytearray] = []
        self._flights: collections.deque[_Flight] = collections.deque()
        self._written: list[memoryview] = []  # released one per write: see the docstring
        self._finished = False

    async def write(self, data: bytes | memoryview) -> None:
        self._check_open()
        view = memoryview(data).cast("B")
        if self._written:
            self._written.pop()
        if view.nbytes >= _BY_REFERENCE and _immutable(view):
            self._seal()
            self._add(view)
        elif view.nbytes >= self._buffer_size:  # large and mutable: write it in place, then return
            await self._send()
            self._add(view)
            await self._send()
            await self._drain()
            return
        else:
            self._copy(view)
        if self._batched >= self._batch_size:
            await self._send()

    async def commit(self) -> Object:
        self._check_open()
        await self._drain()
        self._seal()
        batch, self._batch = self._batch, []
        self._finished = True
        self._written.clear()
        cancel = Flag()
        return await run_io("write", self._key, self._finish, batch, self._offset, cancel, cancel=cancel)

    async def abort(self) -> None:
        if self._finished:
            return
        self._finished = True
        while self._flights:
            await settle(self._flights.popleft()[0])
        self._batch.clear()
        self._written.clear()
        await run_io("write", self._key, self._staged.discard)

    # -- batching ------------------------------------------------------------------
    def _copy(self, view: memoryview) -> None:
        """Copy ``view`` into our buffers, starting a new one whenever one fills up."""
        while view:
            if self._buffer is None:
                self._buffer = self._spares.pop() if self._spares else bytearray(self._buffer_size)
                self._owned.append(self._buffer)
                self._mark = self._fill = 0
            taken = min(self._buffer_size - self._fill, view.nbytes)
            self._buffer[self._fill : self._fill + taken] = view[:taken]
            self._fill += taken
            view = view[taken:]
            if self._fill == self._buffer_size:
                self._seal()
                self._buffer = None

    def _seal(self) -> None:
        """Put the filled, not yet batched part of the current buffer into the batch."""
        if self._buffer is not None and self._fill > self._mark:
            self._add(memoryview(self._buffer)[self._mark : self._fill])
            self._mark = self._fill

    def _add(self, view: memoryview) -> None:
        self._batch.append(view)
        self._batched += view.nbytes

    async def _send(self) -> None:
        """Hand the batch to a thread once fewer than ``_DEPTH`` are in flight."""
        self._seal()
        if not self._batch:
            return
        if len(self._flights) >= _DEPTH:
            with os_errors("write", self._key):  # the thread wakes us for this one only
                await self._flights[_REFILL - 1][0].wait()
            for _ in range(_REFILL):
                await self._land()
        batch, offset = self._batch, self._offset
        self._offset += self._batched
        self._batch, self._batched = [], 0
        owned, self._owned = self._owned, []
        self._buffer = None  # it belongs to the batch in flight now
        after = self._flights[-1][0] if self._flights else None
        job = pool_for(asyncio.get_running_loop()).submit(
            pwritev_all, (self._staged.fd, batch, offset), quiet=True, after=after
        )
        self._flights.append((job, batch, owned))

    async def _drain(self) -> None:
        while self._flights:
            await self._land()

    async def _land(self) -> None:
        """Wait for the oldest batch in flight; its buffers become spares again."""
        job, batch, owned = self._flights[0]
        with os_errors("write", self._key):
            try:
                await job.wait()  # if cancelled, the job stays in flight for `abort`
            finally:
                if job.done:
                    self._flights.popleft()
        # dropped here, not in the worker (see the docstring); never the caller's mutable buffers
        self._written.extend(view for view in batch if view.readonly)
        self._spares.extend(owned[: _SPARES - len(self._spares)])

    def _finish(self, batch: list[memoryview], offset: int, cancel: Flag) -> Object:
        """In the thread: the last bytes, then publish (or discard on failure)."""
        try:
            if batch:
                pwritev_all(self._staged.fd, batch, offset)
        except BaseException:
            self._staged.discard()
            raise
        return self._staged.publish(self._key, cancel=cancel, **self._publish)

    def _check_open(self) -> None:
        if self._finished:
            message = "the write stream is already committed or aborted"
            raise ClosedError(message, op="write", path=self._key, adapter=ADAPTER)


def _immutable(view: memoryview) -> bool:
    """Whether nobody can change these bytes behind our back (a view of ``bytes``)."""
    return view.readonly and isinstance(view.obj, bytes)
