"""Opening adapters lazily inside the running loop, and refusing use after close."""

from __future__ import annotations

import asyncio
import enum
import os
from collections.abc import Awaitable, Callable

from ._errors import ClosedError

__all__ = ["Lifecycle", "State"]


class State(enum.Enum):
    NEW = "new"
    OPEN = "open"
    CLOSED = "closed"


class Lifecycle:
    """Shared by a store and its scoped views: one open, one close.

    Resources are opened on first use inside the running loop. A store used
    from another event loop or a forked child fails at once with a clear
    `ClosedError` instead of hanging on a pool bound to the old loop.
    """

    def __init__(
        self, name: str, open_: Callable[[], Awaitable[None]], close: Callable[[], Awaitable[None]]
    ) -> None:
        self._name = name
        self._open = open_
        self._close = close
        self.state = State.NEW
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = os.getpid()

    async def ensure_open(self) -> None:
        if self.state is State.OPEN:
            self._check_binding()
            return
        if self.state is State.CLOSED:
            raise ClosedError(f"this {self._name} store is closed", adapter=self._name)
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.state is State.NEW:
                await self._open()
                self._loop = asyncio.get_running_loop()
                self._pid = os.getpid()
                self.state = State.OPEN
            elif self.state is State.CLOSED:
                raise ClosedError(f"this {self._name} store is closed", adapter=self._name)

    def _check_binding(self) -> None:
        if os.getpid() != self._pid:
            raise ClosedError(
                f"this {self._name} store was opened in another process (before a fork); "
                "create a new store in the child",
                adapter=self._name,
            )
        if asyncio.get_running_loop() is not self._loop:
            raise ClosedError(
                f"this {self._name} store was opened in another event loop; create one store per loop",
                adapter=self._name,
            )

    async def close(self) -> None:
        if self.state is State.CLOSED:
            return
        was_open = self.state is State.OPEN
        self.state = State.CLOSED
        if was_open:
            await self._close()
