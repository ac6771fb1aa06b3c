"""Part uploads that outlive a cancelled caller, so `abort` can wait for them.

A part is a plain object write. Once its request is on the wire the service
will store it whether or not the caller is still waiting, so cancelling the
caller must not forget the request: a part landing after ``abort`` deleted the
upload's temporaries would stay behind, with no manifest to list it by (gap G1).
Each part upload therefore runs in a task of its own; the caller awaits it
through `asyncio.shield`. ``abort`` first refuses new parts of the upload, then
waits for the ones in flight, and only then deletes what landed. A retry of a
part waits for the attempt it replaces, so two writes of one key never race.

Example:
    >>> part = await tasks.run(upload_id, index, upload_part(...))
    >>> async with tasks.closing(upload_id):   # abort: no new parts, in-flight ones done
    ...     await delete_temporaries(upload_id)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from functools import partial
from typing import Any

from aiostore._errors import NotFoundError
from aiostore._types import Part

__all__ = ["PartTasks"]


class PartTasks:
    """The part uploads in flight in this process, by upload id and part index."""

    def __init__(self) -> None:
        self._tasks: dict[str, dict[int, asyncio.Task[Part]]] = {}
        self._closing: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"PartTasks(in_flight={sum(len(t) for t in self._tasks.values())})"

    async def run(self, upload_id: str, index: int, upload: Coroutine[Any, Any, Part]) -> Part:
        """Run ``upload`` to the end even if the caller is cancelled meanwhile."""
        try:
            await self._turn(upload_id, index)
        except BaseException:
            upload.close()  # never started: no "coroutine was never awaited" warning
            raise
        task = asyncio.ensure_future(upload)
        self._tasks.setdefault(upload_id, {})[index] = task
        task.add_done_callback(partial(self._forget, upload_id, index))
        return await asyncio.shield(task)

    async def _turn(self, upload_id: str, index: int) -> None:
        """Wait for an earlier attempt at this part; refuse parts of an upload being aborted."""
        while (previous := self._tasks.get(upload_id, {}).get(index)) is not None:
            await asyncio.wait([previous])
        if upload_id in self._closing:
            raise NotFoundError(f"segment upload {upload_id} is being aborted")

    def _forget(self, upload_id: str, index: int, task: asyncio.Task[Part]) -> None:
        tasks = self._tasks.get(upload_id)
        if tasks is not None and tasks.get(index) is task:
            del tasks[index]
            if not tasks:
                del self._tasks[upload_id]
        if not task.cancelled():
            task.exception()  # retrieved: a caller that was cancelled never sees it

    @contextlib.asynccontextmanager
    async def closing(self, upload_id: str) -> AsyncIterator[None]:
        """Refuse new parts of ``upload_id`` and wait for those in flight; the body then
        sees every part that will ever land from this process."""
        self._closing[upload_id] = self._closing.get(upload_id, 0) + 1
        try:
            while tasks := list(self._tasks.get(upload_id, {}).values()):
                await asyncio.wait(tasks)
            yield
        finally:
            left = self._closing.pop(upload_id) - 1
            if left:
                self._closing[upload_id] = left

    async def aclose(self, grace: float) -> None:
        """Let the uploads in flight finish within ``grace`` seconds, then cancel the rest."""
        tasks = [task for by_index in self._tasks.values() for task in by_index.values()]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
