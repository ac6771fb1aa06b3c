"""The fs adapter's own threads: blocking file calls run here, not in the loop's
default executor.

One `Pool` per event loop (and process), made lazily by the first call in that
loop. It is lighter than ``run_in_executor`` where small operations feel it:

- a `Job` is a plain object handed over a C ``SimpleQueue``: no concurrent
  ``Future``, no condition variable, no future chaining per call;
- finished jobs are handed back in batches: a thread queues its outcome and
  wakes the loop (``call_soon_threadsafe``) only once the job queue is empty and
  no wake-up is pending already. Every wake-up is a turn on the GIL, and a loop
  woken while the thread still has queued jobs takes the GIL from it at each of
  their system calls; so the thread works through the queue first and one
  wake-up delivers the whole batch;
- a job submitted ``quiet`` wakes nobody: its outcome waits in the queue until
  a later wake-up or tick, or until the loop asks for it (`Job.wait`). A stream
  that keeps several jobs queued thus wakes the loop once per group of them;
- a job submitted ``after`` another runs on the same thread right after it
  (unless that one is already done): a stream's writes stay in order and never
  contend with each other for the file;
- while jobs are in flight the loop ticks every ``_TICK`` seconds: it delivers
  the outcomes that are ready (so a short job's answer waits one tick at most
  when a long job follows it on the same thread), and it keeps one thread more
  than are stuck in a slow call (in the same job for ``_STUCK_TICKS`` ticks),
  up to ``THREADS``. Small calls on a fast disk thus run on one thread, which
  never fights another thread for the GIL; a blocked disk or network file
  system gets threads that run around the stuck ones;
- a thread idle for ``_IDLE_SECONDS`` exits, and the pool retires when the
  last store using it closes (`release`). A forked child or a closed loop gets
  a new pool.

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
THREADS = 8  # at most: enough to run around calls that block; more only fight over the GIL
_IDLE_SECONDS = 5.0
_TICK = 0.005  # seconds between the loop's checks while jobs are in flight
_STUCK_TICKS = 2  # a thread in one job for this many ticks is stuck in a slow call
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


class _Worker:
    """One thread, as the loop's tick sees it: whether it is in a job, and which."""

    __slots__ = ("busy", "runs", "seen", "ticks")

    def __init__(self) -> None:
        self.busy = False  # set by the thread around each job
        self.runs = 0  # jobs started (by the thread)
        self.seen = 0  # ``runs`` at the previous tick
        self.ticks = 0  # consecutive ticks in that job

    def stuck(self) -> bool:
        """Once per tick: whether the thread has been in one job for `_STUCK_TICKS` ticks."""
        runs = self.runs
        if not self.busy or runs != self.seen:
            self.seen, self.ticks = runs, 0
            return False
        self.ticks += 1
        return self.ticks >= _STUCK_TICKS


class Pool:
    """Threads bound to one event loop; see the module docstring."""

    def __init__(self, loop: asyncio.AbstractEventLoop, threads: int | None = None) -> None:
        self.loop = loop
        self.users = 0
        self._max = threads or THREADS
        self._workers: list[_Worker] = []  # changed under ``_lock``
        self._leaving = 0  # exit requests queued by `_balance`, not yet taken
        self._busy = 0  # submitted, not yet delivered (loop thread only)
        self._lock = threading.Lock()  # the thread list against idle exits
        self._chain = threading.Lock()  # `Job.ran` against `Job.next`
        self._jobs: queue.SimpleQueue[Job[Any] | None] = queue.SimpleQueue()
        self._finished: collections.deque[tuple[Job[Any], bool, Any]] = collections.deque()
        self._wake_pending = False
        self._owed = False  # an outcome somebody waits for is queued without a wake-up
        self._tick: asyncio.TimerHandle | None = None
        self._retired = False
        self.thread_name = f"aiostore-fs-{id(self):x}"

    @property
    def threads(self) -> int:
        """How many threads the pool has now."""
        return len(self._workers)

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
        if self._tick is None:
            self._tick = self.loop.call_later(_TICK, self._on_tick)
        if after is not None:
            with self._chain:
                if not after.ran:
                    after.next = job  # its thread runs this one next
                    return job
        self._jobs.put(job)
        if not self._workers:
            self._spawn()
        return job

    def retire(self) -> None:
        """Let every thread exit once the jobs queued before this are done."""
        with self._lock:
            self._retired = True
            count = len(self._workers)
        for _ in range(count):
            self._jobs.put(None)

    # -- loop side: ticks ----------------------------------------------------------
    def _on_tick(self) -> None:
        self._tick = None
        if self._finished:
            self.deliver_now()
        if self._busy > 0:
            self._balance()
            self._tick = self.loop.call_later(_TICK, self._on_tick)

    def _balance(self) -> None:
        """One thread more than are stuck: start one while jobs wait, or let one go."""
        stuck = sum(worker.stuck() for worker in tuple(self._workers))
        wanted = min(stuck + 1, self._max)
        count = len(self._workers) - self._leaving
        if count < wanted and not self._jobs.empty():
            self._spawn()
        elif count > wanted:
            self._leaving += 1
            self._jobs.put(None)  # the first thread to find it exits

    def _spawn(self) -> None:
        with self._lock:
            if len(self._workers) >= self._max or self._retired:
                return
            worker = _Worker()
            self._workers.append(worker)
        threading.Thread(target=self._work, args=(worker,), name=self.thread_name, daemon=True).start()

    # -- worker side ---------------------------------------------------------------
    def _work(self, worker: _Worker) -> None:
        get = self._jobs.get
        while True:
            try:
                job = get(timeout=_IDLE_SECONDS)
            except queue.Empty:
                if self._leave(worker, idle=True):
                    return
                continue
            if job is None:
                self._leave(worker, idle=False)
                return
            while job is not None:
                job, alive = self._run(job, worker)
                if not alive:  # the loop is closed: nobody is waiting any more
                    self._leave(worker, idle=False)
                    return

    def _run(self, job: Job[Any], worker: _Worker) -> tuple[Job[Any] | None, bool]:
        """Run ``job``, queue its outcome and wake the loop if needed; then the job
        chained after it, and whether the loop is still open."""
        worker.runs += 1
        worker.busy = True
        try:
            self._finished.append((job, True, job.func(*job.args)))
        except BaseException as exc:  # delivered to the awaiting task
            self._finished.append((job, False, exc))
        worker.busy = False
        with self._chain:
            job.ran = True
            after, job.next = job.next, None
        # the outcome is queued before ``quiet`` is read: `Job.watch` clears
        # ``quiet`` before it looks at the queue, so either it delivers the
        # outcome, or we owe a wake-up (sent once the queue is empty; a tick
        # delivers it anyway)
        if not job.quiet:
            self._owed = True
        del job  # drop the arguments here, not when the next job arrives
        if self._owed and not self._wake_pending and self._jobs.empty():
            self._wake_pending = True
            try:
                self.loop.call_soon_threadsafe(self._deliver)
            except RuntimeError:
                return None, False
        return after, True

    def _leave(self, worker: _Worker, *, idle: bool) -> bool:
        """Take ``worker`` off the list; an idle one stays if a job came in meanwhile."""
        with self._lock:
            if idle and not self._jobs.empty():
                return False
            if not idle and self._leaving:
                self._leaving -= 1
            self._workers.remove(worker)
            return True

    # -- loop side: delivery -------------------------------------------------------
    def _deliver(self) -> None:
        self._wake_pending = False  # before draining: a later outcome wakes us again
        self.deliver_now()

    def deliver_now(self) -> None:
        """Hand every queued outcome to its job (in the loop's thread)."""
        self._owed = False  # before draining: a later outcome sets it again
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
