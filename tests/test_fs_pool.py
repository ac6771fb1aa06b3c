"""The fs adapter's thread pool: one per loop, outcomes handed back in batches, one
thread for quick calls and a helper for each stuck one, the thread waited for
when the caller is cancelled, retired when the last store closes, and never
inherited by a forked child."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from pathlib import Path

import pytest

import aiostore
from aiostore.fs import _pool


def _threads_of(pool: _pool.Pool) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == pool.thread_name]


def _count_wakeups(loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A one-item list counting the loop's ``call_soon_threadsafe`` calls (its wake-ups)."""
    count = [0]
    real = loop.call_soon_threadsafe

    def counting(callback: object, *args: object) -> asyncio.Handle:
        count[0] += 1
        return real(callback, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(loop, "call_soon_threadsafe", counting)
    return count


async def test_one_pool_per_loop_and_outcomes_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    pool = _pool.Pool(loop, threads=4)
    wakeups = _count_wakeups(loop, monkeypatch)
    gate = threading.Event()
    jobs = [pool.submit(lambda n=n: gate.wait(30) and n, ()) for n in range(40)]
    await asyncio.sleep(0.05)
    gate.set()
    assert await asyncio.gather(*(job.future for job in jobs)) == list(range(40))
    assert wakeups[0] < 40  # the loop woke up once per batch of finished jobs (or ticked), not per job
    assert 1 <= len(_threads_of(pool)) <= 4
    pool.retire()


async def test_errors_reach_the_caller_unchanged() -> None:
    pool = _pool.pool_for(asyncio.get_running_loop())
    assert _pool.pool_for(asyncio.get_running_loop()) is pool

    def fail() -> None:
        raise PermissionError("nope")

    with pytest.raises(PermissionError, match="nope"):
        await pool.submit(fail, ()).future


async def test_a_cancelled_caller_can_still_wait_for_the_thread() -> None:
    pool = _pool.pool_for(asyncio.get_running_loop())
    release = threading.Event()
    job = pool.submit(lambda: release.wait(30) and "late", ())
    waiter = asyncio.ensure_future(job.future)
    await asyncio.sleep(0.01)
    waiter.cancel()
    finished = asyncio.create_task(job.finished())
    await asyncio.sleep(0.05)
    assert not finished.done()  # the thread is still running
    release.set()
    await finished
    assert job.done
    assert job.ok
    assert job.value == "late"


async def test_quiet_jobs_wake_nobody_until_watched(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    pool = _pool.Pool(loop, threads=2)
    wakeups = _count_wakeups(loop, monkeypatch)
    ran = threading.Event()
    early = pool.submit(lambda: ran.set() or "early", (), quiet=True)
    await asyncio.sleep(0.1)  # no to_thread here: it would wake the loop itself
    assert ran.is_set()
    assert wakeups[0] == 0  # delivered by the loop's own tick, if at all
    assert await early.wait() == "early"  # delivered at once, without a wake-up
    assert wakeups[0] == 0
    gate = threading.Event()
    late = pool.submit(lambda: gate.wait(30) and "late", (), quiet=True)
    waiting = asyncio.ensure_future(late.wait())
    await asyncio.sleep(0.01)
    gate.set()
    assert await waiting == "late"  # watched before it finished: the thread woke us (or a tick)
    assert wakeups[0] <= 1
    pool.retire()


def _nap_then(n: int) -> int:
    time.sleep(0.001)
    return n


async def test_a_thread_works_through_the_queue_before_waking_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    pool = _pool.Pool(loop, threads=1)
    wakeups = _count_wakeups(loop, monkeypatch)
    gate = threading.Event()
    first = pool.submit(gate.wait, (30,))
    jobs = [pool.submit(_nap_then, (n,)) for n in range(40)]
    gate.set()  # each job sleeps (lets go of the GIL): a loop woken early would take it
    assert await asyncio.gather(*(job.future for job in jobs)) == list(range(40))
    assert await first.future
    assert wakeups[0] <= 1  # once the queue is empty, not once per job
    pool.retire()


async def test_quick_jobs_run_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pool, "_STUCK_TICKS", 10**6)  # however slow this machine is today
    pool = _pool.Pool(asyncio.get_running_loop(), threads=8)
    for _ in range(5):
        jobs = [pool.submit(threading.get_ident, ()) for _ in range(64)]
        idents = set(await asyncio.gather(*(job.future for job in jobs)))
        assert len(idents) == 1  # more threads would only take the GIL from each other
    assert len(_threads_of(pool)) == 1
    pool.retire()


async def test_a_stuck_job_gets_a_helper_that_leaves_afterwards() -> None:
    pool = _pool.Pool(asyncio.get_running_loop(), threads=4)
    gate = threading.Event()
    stuck = pool.submit(gate.wait, (30,))
    quick = pool.submit(lambda: "quick", ())
    assert await asyncio.wait_for(quick.future, 20) == "quick"  # on a second thread
    assert not stuck.done
    assert len(_threads_of(pool)) == 2
    gate.set()
    assert await stuck.future
    for _ in range(2000):  # the next ticks see nothing stuck: the helper is let go
        if len(_threads_of(pool)) == 1:
            break
        await pool.submit(time.sleep, (0.001,)).future
    assert len(_threads_of(pool)) == 1
    pool.retire()


async def test_an_answer_is_not_held_back_by_a_long_job_behind_it() -> None:
    pool = _pool.Pool(asyncio.get_running_loop(), threads=1)  # no helper thread
    gate = threading.Event()
    short = pool.submit(lambda: "short", ())
    long = pool.submit(gate.wait, (30,))  # queued: the thread does not wake the loop for ``short``
    assert await asyncio.wait_for(short.future, 20) == "short"  # the loop's tick delivers it
    assert not long.done
    gate.set()
    assert await long.future
    pool.retire()


async def test_chained_jobs_run_in_order_on_one_thread() -> None:
    pool = _pool.Pool(asyncio.get_running_loop(), threads=8)
    gate = threading.Event()
    seen: list[tuple[int, str]] = []

    def step(n: int) -> None:
        gate.wait(30)
        seen.append((n, threading.current_thread().name + str(threading.get_ident())))

    jobs = [pool.submit(step, (0,), quiet=True)]
    for n in range(1, 20):
        jobs.append(pool.submit(step, (n,), quiet=True, after=jobs[-1]))
    gate.set()
    for job in jobs:
        await job.wait()
    assert [n for n, _ in seen] == list(range(20))
    assert len({thread for _, thread in seen}) == 1
    done = pool.submit(lambda: "free", (), after=jobs[-1])  # after a finished job: queued as usual
    assert await done.future == "free"
    pool.retire()


async def test_the_last_store_to_close_retires_the_pool(tmp_path: Path) -> None:
    loop = asyncio.get_running_loop()
    async with (
        aiostore.connect("fs", work_dir=tmp_path) as one,
        aiostore.connect("fs", work_dir=tmp_path) as two,
    ):
        await asyncio.gather(*(one.write(f"k{n}", b"x") for n in range(20)))
        await two.read("k1")
        pool = _pool._pools[id(loop)]
        assert pool.users == 2
        assert _threads_of(pool)
    assert id(loop) not in _pool._pools
    for thread in _threads_of(pool):
        await asyncio.to_thread(thread.join, 10)
    assert _threads_of(pool) == []


@pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "fork"), reason="needs fork")
async def test_a_forked_child_gets_a_pool_of_its_own(tmp_path: Path) -> None:
    async with aiostore.connect("fs", work_dir=tmp_path) as store:
        await store.write("before", b"x")
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(read)
            code = 0 if not _pool._pools else 1
            code = code or _child_writes(tmp_path)
            os.write(write, bytes([code]))
            os._exit(0)
        os.close(write)
        status = await asyncio.to_thread(os.read, read, 1)
        os.close(read)
        await asyncio.to_thread(os.waitpid, pid, 0)
        assert status == b"\x00"
        assert await store.read("after") == b"y"


def _child_writes(root: Path) -> int:
    async def run() -> None:
        async with aiostore.connect("fs", work_dir=root) as child_store:
            await child_store.write("after", b"y")

    try:
        asyncio.run(asyncio.wait_for(run(), 20))
    except BaseException:
        return 2
    return 0
