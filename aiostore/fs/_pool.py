"""The fs adapter's own threads: blocking file calls run here, not in the loop's
default executor.

One `Pool` per event loop (and process), made lazily by the first call in that
loop. It is lighter than ``run_in_executor`` where small operations feel it:

- a `Job` is a plain object handed over a C ``SimpleQueue``: no concurrent
  ``Future``, no condition variable, no future chaining per call;
- finished jobs are handed back in batches: a worker queues its outcome and
  wakes the loop (``call_soon_threadsafe``) only when no delivery is pending
  already, so under load one wake-up delivers many results;
- a job submitted ``quiet`` wakes nobody: its outcome waits in the queue until
  a later wake-up, or until the loop asks for it (`Job.wait`). A stream that
  keeps several jobs queued thus wakes the loop once per group of them, not
  once per job (each wake-up costs the worker a turn on the GIL);
- a job submitted ``after`` another runs on the same thread right after it
  (unless that one is already done): a stream's writes stay in order and never
  contend with each other for the file;
- up to ``THREADS`` threads are started on demand; a thread idle for
  ``_IDLE_SECONDS`` exits, and the pool retires when the last store using it
  closes (`release`). A forked child or a closed loop gets a new pool.

Each job records its outcome before it is delivered, so a caller whose task was
cancelled can still wait for the thread (`Job.finished`) and undo the result.
"""

from __future__ import annotations

import asyncio
import collections
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["THREADS", "Job", "Pool", "acquire", "pool_for", "release"]

T = TypeVar("T")
THREADS = 8  # enough to overlap syscalls that block; more only fight over the GIL
_IDLE_SECONDS = 5.0
_pools: dict[int, Pool] = {}  # id(loop) -> its pool (the pool keeps the loop alive)


class Job(Generic[T]):
    """One call: ``future`` resolves in the loop once a thread has run it."""

    __slots__ = ("args", "func", "future", "next", "ok", "pool", "quiet", "ran", "value", "waiter")

    def __init__(
        self, pool: Pool, func: Callable[..., T], args: tuple[Any, ...], *, quiet: bool = False
    ) -> None:
        self.pool = pool
        self.future: asyncio.Future[T] = pool.loop.create_future()
        self.func = func
        self.args = args
        self.quiet = quiet  # the thread does not wake the loop for this one
        self.ran = False  # the thread is done with it (set under the pool's chain lock)
        self.next: Job[Any] | None = None  # to run on the same thread right after this one
        self.ok: bool | None = None  # None until delivered in the loop
        self.value: Any = None
        self.waiter: asyncio.Future[None] | None = None

    @property
    def done(self) -> bool:
        """Whether the thread has finished and the loop has taken the outcome."""
        return self.ok is not None

    def watch(self) -> None:
        """From now on the thread wakes the loop for this job; if it is already
        done (or any other job is), deliver now."""
        self.quiet = False
        self.pool.deliver_now()

    async def wait(self) -> T:
        """The outcome of a (possibly quiet) job: `outcome` once the thread is done."""
        if self.ok is None:
            self.watch()
        return await self.future

    async def finished(self) -> None:
        """Wait until the thread is done with this job, riding out cancellations."""
        if self.ok is None:
            self.watch()
        while self.ok is None:
            if self.waiter is None or self.waiter.done():
                self.waiter = self.future.get_loop().create_future()
            try:
                await self.waiter
            except asyncio.CancelledError:
                continue

    def outcome(self) -> T:
        """The result, or raise what the call raised (only once `done`)."""
        if not self.ok:
            raise self.value
        result: T = self.value
        return result


class Pool:
    """Threads bound to one event loop; see the module docstring."""

    def __init__(self, loop: asyncio.AbstractEventLoop, threads: int | None = None) -> None:
        self.loop = loop
        self.users = 0
        self._max = threads or THREADS
        self._threads = 0
        self._busy = 0  # submitted, not yet delivered (loop thread only)
        self._lock = threading.Lock()  # thread count against idle exits
        self._chain = threading.Lock()  # `Job.ran` against `Job.next`
        self._jobs: queue.SimpleQueue[Job[Any] | None] = queue.SimpleQueue()
        self._finished: collections.deque[tuple[Job[Any], bool, Any]] = collections.deque()
        self._wake_pending = False
        self._retired = False
        self.thread_name = f"aiostore-fs-{id(self):x}"

    def usable(self, loop: asyncio.AbstractEventLoop) -> bool:
        return self.loop is loop and not self._retired and not loop.is_closed()

    def submit(
        self,
        func: Callable[..., T],
        args: tuple[Any, ...],
        *,
        quiet: bool = False,
        after: Job[Any] | None = None,
    ) -> Job[T]:
        """Queue ``func(*args)`` for a thread (call from the loop's thread); a
        ``quiet`` job must be awaited with `Job.wait` (see the module docstring)."""
        job: Job[T] = Job(self, func, args, quiet=quiet)
        self._busy += 1
        if after is not None:
            with self._chain:
                if not after.ran:
                    after.next = job  # its thread runs this one next
                    return job
        self._jobs.put(job)
        if self._busy > self._threads:
            with self._lock:
                if self._threads < self._max and not self._retired:
                    self._threads += 1
                    threading.Thread(target=self._work, name=self.thread_name, daemon=True).start()
        return job

    def retire(self) -> None:
        """Let every thread exit once the jobs queued before this are done."""
        with self._lock:
            self._retired = True
            count = self._threads
        for _ in range(count):
            self._jobs.put(None)

    # -- worker side ---------------------------------------------------------------
    def _work(self) -> None:
        get = self._jobs.get
        while True:
            try:
                job = get(timeout=_IDLE_SECONDS)
            except queue.Empty:
                if self._may_exit():
                    return
                continue
            if job is None:
                return
            while job is not None:
                job, alive = self._run(job)
                if not alive:  # the loop is closed: nobody is waiting any more
                    return

    def _run(self, job: Job[Any]) -> tuple[Job[Any] | None, bool]:
        """Run ``job``, queue its outcome and wake the loop if needed; then the job
        chained after it, and whether the loop is still open."""
        try:
            self._finished.append((job, True, job.func(*job.args)))
        except BaseException as exc:  # delivered to the awaiting task
            self._finished.append((job, False, exc))
        with self._chain:
            job.ran = True
            after, job.next = job.next, None
        # the outcome is queued before ``quiet`` is read: `Job.watch` clears
        # ``quiet`` before it looks at the queue, so one of us delivers it
        quiet = job.quiet
        del job  # drop the arguments here, not when the next job arrives
        if not quiet and not self._wake_pending:
            self._wake_pending = True
            try:
                self.loop.call_soon_threadsafe(self._deliver)
            except RuntimeError:
                return None, False
        return after, True

    def _may_exit(self) -> bool:
        with self._lock:
            if not self._jobs.empty():  # a job came in while timing out: stay for it
                return False
            self._threads -= 1
            return True

    # -- loop side -----------------------------------------------------------------
    def _deliver(self) -> None:
        self._wake_pending = False  # before draining: a later outcome wakes us again
        self.deliver_now()

    def deliver_now(self) -> None:
        """Hand every queued outcome to its job (in the loop's thread)."""
        finished = self._finished
        while finished:
            job, ok, value = finished.popleft()
            self._busy -= 1
            job.ok, job.value = ok, value
            future = job.future
            if not future.done():
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
            if job.waiter is not None and not job.waiter.done():
                job.waiter.set_result(None)


def pool_for(loop: asyncio.AbstractEventLoop) -> Pool:
    """The pool of ``loop`` in this process, made if missing (or after a fork)."""
    pool = _pools.get(id(loop))
    if pool is None or not pool.usable(loop):
        for key, old in list(_pools.items()):  # forget pools of closed loops
            if old.loop.is_closed():
                del _pools[key]
        pool = _pools[id(loop)] = Pool(loop)
    return pool


def _forget_all() -> None:
    """In a forked child: the parent's threads do not exist here."""
    _pools.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_all)


def acquire() -> None:
    """A store of the running loop starts using its pool (see `release`)."""
    pool_for(asyncio.get_running_loop()).users += 1


def release() -> None:
    """A store stops using the running loop's pool; the last one retires it."""
    loop = asyncio.get_running_loop()
    pool = _pools.get(id(loop))
    if pool is None or not pool.usable(loop):
        return
    pool.users -= 1
    if pool.users <= 0:
        del _pools[id(loop)]
        pool.retire()
