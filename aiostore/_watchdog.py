"""Per-attempt timeouts without a timer per attempt.

``asyncio.timeout`` schedules and cancels a timer handle (a heap push and a
cancelled entry) for every call; on a store doing thousands of small requests
a second that is a measurable share of the client's CPU. A `Watchdog` keeps
the attempts in flight in a set and one ``loop.call_at`` handle for the
earliest deadline among them: arming an attempt is a set insert, and the timer
is only rescheduled when a new deadline comes before the one already set.

When an attempt overruns, its task is cancelled, exactly as ``asyncio.timeout``
does it; `Guard.settle` tells the attempt whether the cancellation was the
watchdog's alone (then it becomes a timeout error) or someone else's too
(then it stays a cancellation).

Example:
    >>> guard = watchdog.arm(5.0)
    >>> try:
    ...     await call()
    ... except asyncio.CancelledError:
    ...     if guard.settle():
    ...         raise StorageTimeoutError("no answer within 5 s") from None
    ...     raise
    ... finally:
    ...     watchdog.disarm(guard)
"""

from __future__ import annotations

import asyncio
import math

__all__ = ["Guard", "Watchdog"]

_SLACK = 0.001  # the loop may run a timer this much early (its clock resolution)


class Guard:
    """One armed attempt: its task, its deadline (loop time) and whether it fired."""

    __slots__ = ("cancelling", "fired", "task", "when")

    def __init__(self, task: asyncio.Task[object], when: float) -> None:
        self.task = task
        self.when = when
        self.cancelling = task.cancelling()
        self.fired = False

    def settle(self) -> bool:
        """Take back the watchdog's cancellation; True when it was the only one pending."""
        if not self.fired:
            return False
        self.fired = False
        return self.task.uncancel() <= self.cancelling


class Watchdog:
    """Deadlines of the attempts in flight on one event loop, served by one timer."""

    __slots__ = ("_guards", "_handle", "_loop", "_wake")

    def __init__(self) -> None:
        self._guards: set[Guard] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._wake = math.inf

    def arm(self, limit: float) -> Guard:
        """Watch the current task: cancel it if it is still armed ``limit`` seconds from now."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._rebind(loop)
        task = asyncio.current_task(loop)
        if task is None:
            raise RuntimeError("a per-attempt timeout needs to run inside a task")
        guard = Guard(task, loop.time() + limit)
        self._guards.add(guard)
        if guard.when < self._wake:
            self._schedule(guard.when)
        return guard

    def disarm(self, guard: Guard) -> None:
        """The attempt is over; a cancellation it never saw is taken back."""
        self._guards.discard(guard)
        if guard.fired:
            guard.fired = False
            guard.task.uncancel()

    def _rebind(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._wake = math.inf
        self._guards = set()
        self._loop = loop

    def _schedule(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        assert self._loop is not None
        self._handle = self._loop.call_at(when, self._fire)
        self._wake = when

    def _fire(self) -> None:
        self._handle = None
        self._wake = math.inf
        assert self._loop is not None
        now = self._loop.time() + _SLACK
        earliest = math.inf
        for guard in list(self._guards):
            if guard.when <= now:
                self._guards.discard(guard)
                guard.fired = True
                guard.task.cancel()
            elif guard.when < earliest:
                earliest = guard.when
        if earliest < math.inf:
            self._schedule(earliest)
