"""The workloads, each a few timed phases run against one client in one worker.

Every phase is checked (sizes and counts) after its timed section; a wrong
answer fails the run rather than producing a fast but meaningless number.

Example:
    >>> phases = await run_workload(client, job)
    >>> phases["put"]["cpu_s"]
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

from .clients import Client, Unsupported
from .counted import COUNTED_PHASES, Counted, Counter, counted_phase
from .job import Job, Source
from .measure import Measured
from .paced import PACED_PHASES, paced_phase, run_paced

__all__ = ["WORKLOAD_PHASES", "run_workload"]

Phases = dict[str, dict[str, Any]]

WORKLOAD_PHASES = {
    "small": ("put", "get", "head", "delete"),
    "paced": PACED_PHASES,
    "counted": COUNTED_PHASES,
    "upload": ("upload",),
    "download": ("download",),
    "list": ("list",),
}


class CheckFailed(Exception):
    """A phase finished but its answer was wrong."""


async def _run_all(keys: list[str], op: Callable[[str], Awaitable[int | None]], in_flight: int) -> int:
    """Run ``op`` on every key with ``in_flight`` workers; return the sum of what it returned."""
    feed = iter(keys)
    totals: list[int] = []

    async def worker() -> None:
        total = 0
        for key in feed:
            total += await op(key) or 0
        totals.append(total)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(in_flight, len(keys))):
            group.create_task(worker())
    return sum(totals)


def _small_ops(client: Client, data: bytes) -> dict[str, Callable[[str], Awaitable[int | None]]]:
    return {
        "put": lambda key: client.put(key, data),
        "get": client.get,
        "head": client.head,
        "delete": client.delete,
    }


def _expected(name: str, count: int, size: int) -> tuple[int, int]:
    """(bytes the op returns in total, bytes it moves) for ``count`` objects of ``size``."""
    returned = count * size if name in ("get", "head") else 0
    return returned, count * size if name in ("put", "get") else 0


def _check(name: str, total: int, expected: int) -> None:
    if total != expected:
        raise CheckFailed(f"{name}: got {total} bytes in total, expected {expected}")


def _server_pid(job: Job) -> int:
    """The server's process group id, so `Measured` can report the server's CPU too."""
    return int(job.server.get("pid", "0"))


async def _small(client: Client, job: Job) -> Phases:
    keys = [job.key(i) for i in range(job.count)]
    data = os.urandom(job.object_size)
    await client.prepare(keys)
    phases: Phases = {}
    batch = getattr(client, "run_batch", None)
    for name, op in _small_ops(client, data).items():
        expected, moved = _expected(name, job.count, job.object_size)
        async with Measured(ops=job.count, nbytes=moved, server_pid=_server_pid(job)) as measured:
            if batch is not None:
                total = await batch(name, keys, data)
            else:
                total = await _run_all(keys, op, job.concurrency)
        _check(name, total, expected)
        phases[name] = measured.result()
    return phases


async def _paced(client: Client, job: Job) -> Phases:
    """The small ops again, started at ``job.pace_ops`` per second (see `benchmarks.paced`)."""
    keys = [f"{job.prefix}paced/{i:07d}" for i in range(job.pace_count)]
    data = os.urandom(job.object_size)
    await client.prepare(keys)
    phases: Phases = {}
    for name, op in _small_ops(client, data).items():
        expected, moved = _expected(name, job.pace_count, job.object_size)
        async with Measured(ops=job.pace_count, nbytes=moved, server_pid=_server_pid(job)) as measured:
            total, peak = await run_paced(keys, op, job.pace_ops, job.concurrency)
        _check(name, total, expected)
        measured.extra.update(asked_ops_s=job.pace_ops, peak_in_flight=peak)
        phases[paced_phase(name)] = measured.result()
    return phases


async def _counted(client: Client, job: Job) -> Phases:
    """The small ops again under callgrind: instructions per op (see `benchmarks.counted`).

    One uncounted PUT of every key first, so the connections are open before counting.
    """
    counter = Counter.from_env()
    keys = [f"{job.prefix}counted/{i:07d}" for i in range(job.counted_count)]
    data = os.urandom(job.object_size)
    await client.prepare(keys)
    await _run_all(keys, lambda key: client.put(key, data), job.concurrency)
    phases: Phases = {}
    for name, op in _small_ops(client, data).items():
        expected, _ = _expected(name, job.counted_count, job.object_size)
        async with Counted(counter, ops=job.counted_count) as counted:
            total = await _run_all(keys, op, job.concurrency)
        _check(name, total, expected)
        phases[counted_phase(name)] = counted.result()
    return phases


async def _upload(client: Client, job: Job) -> Phases:
    key = f"{job.prefix}large.bin"
    source = Source(job.large_size)
    await client.prepare([key])
    await client.prepare_upload(source)
    try:
        async with Measured(ops=1, nbytes=job.large_size, server_pid=_server_pid(job)) as measured:
            await client.upload_large(key, source)
        size = await client.head(key)
    finally:
        await _quietly(client.delete(key))
    if size != job.large_size:
        raise CheckFailed(f"upload: stored {size} bytes, expected {job.large_size}")
    return {"upload": measured.result()}


async def _download(client: Client, job: Job) -> Phases:
    await client.prepare([job.large_key])
    async with Measured(ops=1, nbytes=job.large_size, server_pid=_server_pid(job)) as measured:
        received = await client.download_large(job.large_key)
    if received != job.large_size:
        raise CheckFailed(f"download: received {received} bytes, expected {job.large_size}")
    return {"download": measured.result()}


async def _list(client: Client, job: Job) -> Phases:
    """List each seeded prefix; the first (largest) one is the ``list`` phase."""
    phases: Phases = {}
    for index, (prefix, expected) in enumerate(job.list_prefixes.items()):
        async with Measured(ops=expected, server_pid=_server_pid(job)) as measured:
            listed = await client.list(prefix)
        if listed.count != expected:
            raise CheckFailed(f"list {prefix}: got {listed.count} keys, expected {expected}")
        measured.extra["first_page_s"] = listed.first_page_s
        phases["list" if index == 0 else f"list_{expected}"] = measured.result()
    return phases


async def _quietly(awaitable: Awaitable[Any]) -> None:
    try:
        await awaitable
    except Exception:  # cleanup only; the check that follows reports real failures
        return


_RUNNERS = {
    "small": _small,
    "paced": _paced,
    "counted": _counted,
    "upload": _upload,
    "download": _download,
    "list": _list,
}


async def warm_up(client: Client, job: Job) -> None:
    """One small round trip so connection setup is not inside a timed section."""
    if job.target in ("fs", "memory"):
        return
    key = f"{job.prefix}warm-up"
    await client.prepare([key])
    await client.put(key, b"warm-up")
    await client.delete(key)


async def run_workload(client: Client, job: Job, workload: str) -> Phases:
    """Run one workload; an `Unsupported` operation becomes a skipped phase."""
    try:
        return await _RUNNERS[workload](client, job)
    except Unsupported as exc:
        return {phase: {"skipped": str(exc)} for phase in WORKLOAD_PHASES[workload]}
