"""`FsWriteStream`: a sequential write into a hidden temporary file that `commit`
renames into place (no segment staging on local disk).

Chunks travel to a thread in batches of at least ``chunk_size`` bytes, written
there with ``os.writev``. A large ``bytes`` chunk (nobody can change it) joins a
batch by reference; anything else is copied into a buffer of ours first, because
the caller may reuse its buffer once `write` returns. One batch is written while
the caller produces the next; its error surfaces on the next `write` or on `commit`.

Batches stay about one chunk: holding more of the caller's freshly allocated
chunks makes the allocator return and re-fault their memory (measured: 4x the
page faults and twice the CPU per GB at 8 MiB). For the same reason the loop
thread, not the worker, drops the last reference to a written batch.

Nothing is visible before `commit`. `abort` (and so any failure or cancellation)
waits for the batch in flight, so no thread ever writes to a closed descriptor,
then removes the temporary file.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from typing import Any

from .._adapter import WriteStream
from .._errors import ClosedError
from .._types import Object
from ._atomic import Staged, writev_all
from ._hop import ADAPTER, os_errors, run_io, settle

__all__ = ["FsWriteStream"]

_BY_REFERENCE = 64 * 1024  # smaller immutable chunks are copied too: fewer, larger iovecs
_SPARES = 4  # buffers kept for reuse once their batch is written


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
        self._buffer_size = self._batch_size = chunk_size
        self._batch: list[memoryview] = []  # in file order
        self._batched = 0
        self._owned: list[bytearray] = []  # our buffers the batch points into
        self._buffer: bytearray | None = None  # being filled; [mark:fill] not batched yet
        self._mark = self._fill = 0
        self._spares: list[bytearray] = []
        self._flight: asyncio.Future[None] | None = None
        self._flight_batch: list[memoryview] = []
        self._flight_owned: list[bytearray] = []
        self._finished = False

    async def write(self, data: bytes | memoryview) -> None:
        self._check_open()
        view = memoryview(data).cast("B")
        if view.nbytes >= _BY_REFERENCE and _immutable(view):
            self._seal()
            self._add(view)
        elif view.nbytes >= self._batch_size:  # large and mutable: write it in place, then return
            await self._send()
            self._add(view)
            await self._send()
            await self._wait()
            return
        else:
            self._copy(view)
        if self._batched >= self._batch_size:
            await self._send()

    async def commit(self) -> Object:
        self._check_open()
        await self._wait()
        self._seal()
        batch, self._batch = self._batch, []
        self._finished = True
        cancel = threading.Event()
        return await run_io("write", self._key, self._finish, batch, cancel, cancel=cancel)

    async def abort(self) -> None:
        if self._finished:
            return
        self._finished = True
        flight, self._flight = self._flight, None
        if flight is not None:
            await settle(flight)
        self._batch.clear()
        self._flight_batch.clear()
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
        """Hand the batch to a thread once the previous one is written."""
        self._seal()
        if not self._batch:
            return
        await self._wait()
        self._flight_batch, self._batch, self._batched = self._batch, [], 0
        self._flight_owned, self._owned = self._owned, []
        self._buffer = None  # it belongs to the batch in flight now
        loop = asyncio.get_running_loop()
        self._flight = loop.run_in_executor(None, writev_all, self._staged.fd, self._flight_batch)

    async def _wait(self) -> None:
        """Wait for the batch in flight; its buffers become spares again."""
        flight = self._flight
        if flight is None:
            return
        with os_errors("write", self._key):
            await asyncio.shield(flight)
        self._flight = None
        self._flight_batch.clear()  # here, not in the worker: see the module docstring
        owned, self._flight_owned = self._flight_owned, []
        self._spares.extend(owned[: _SPARES - len(self._spares)])

    def _finish(self, batch: list[memoryview], cancel: threading.Event) -> Object:
        """In the thread: the last bytes, then publish (or discard on failure)."""
        try:
            if batch:
                writev_all(self._staged.fd, batch)
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
