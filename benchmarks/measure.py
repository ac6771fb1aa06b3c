"""Client-side measurements taken inside a worker process: wall time, CPU, RSS.

CPU is ``getrusage(RUSAGE_SELF)`` user + system time, which covers every thread
of the process (obstore's and opendal's Rust runtimes, ``to_thread`` pools), and
nothing of the server. Peak RSS is the kernel's high-water mark (``VmHWM``),
reset right before the timed section through ``/proc/self/clear_refs`` so the
peak belongs to that section alone; where that is refused, ``ru_maxrss`` is
used and the result says so.

The section also counts the client's sleeps: voluntary context switches of all
its threads (``ru_nvcsw``), that is how often it waited for something (an answer,
a thread). On a VM every such wake-up costs CPU of its own (`idle_wake_cpu_us`),
so a client that gets its answers one at a time from a slow server pays it per op.

Two numbers about the machine come along, read outside the client's CPU
window: the server's CPU (every process in its process group, from
``/proc/<pid>/stat``) and the CPU time the hypervisor stole from this VM
(``steal`` in ``/proc/stat``). On two shared cores they show whether a transfer
was bound by the server's CPU and whether a slow repetition had a noisy
neighbour.

Example:
    >>> async with Measured(ops=100, nbytes=409600) as m:
    ...     await work()
    >>> m.result()["cpu_s"]
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import time
from types import TracebackType
from typing import Any

__all__ = [
    "Measured",
    "cpu_seconds",
    "group_cpu_seconds",
    "idle_wake_cpu_us",
    "rss_bytes",
    "settle",
    "sleeps",
    "steal_seconds",
]

_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    """User + system CPU seconds of this process, all threads included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def sleeps() -> int:
    """Voluntary context switches of this process so far, all threads included."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw


def idle_wake_cpu_us(wakes: int = 200, nap: float = 0.005) -> float:
    """CPU µs an asyncio loop is charged per wake-up from a short sleep, on this machine.

    Nothing else runs, so the whole cost is going to sleep, waking up and one
    turn of the loop: tens of µs on bare metal, far more on a virtual CPU whose
    caches went cold meanwhile. Call it outside a running loop.
    """

    async def naps() -> float:
        start = time.thread_time()
        for _ in range(wakes):
            await asyncio.sleep(nap)
        return (time.thread_time() - start) / wakes * 1e6

    return asyncio.run(naps())


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every live process in process group ``pgid``."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:  # the process went away meanwhile
            continue
        # after the command: state ppid pgrp session tty_nr tpgid flags minflt cminflt
        # majflt cmajflt utime stime ...
        if len(fields) > 12 and int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


def steal_seconds() -> float:
    """CPU seconds the hypervisor has run other guests on this VM's CPUs (all CPUs, since boot)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = stat.readline().split()
    return int(fields[8]) / _TICK if len(fields) > 8 and fields[0] == "cpu" else 0.0


def rss_bytes() -> int:
    """The resident set size now."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * _PAGE


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux ``clear_refs`` value 5); False if refused."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def _peak_rss(reset_worked: bool) -> int:
    """The peak RSS since the reset (``VmHWM``), else the process's lifetime peak."""
    if reset_worked:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def settle(pgid: int, *, busy: float = 0.1, window: float = 0.25, limit: float = 15.0) -> float:
    """Wait until the server's process group uses less than ``busy`` of one core over
    a ``window``-second window (at most ``limit`` s); the seconds waited.

    A server still finishing the previous phase's work (SeaweedFS after thousands of
    deletes, a collector) takes CPU from whichever client is timed next.
    """
    started = time.perf_counter()
    before = group_cpu_seconds(pgid)
    while time.perf_counter() - started < limit:
        await asyncio.sleep(window)
        now = group_cpu_seconds(pgid)
        if now - before < busy * window:
            break
        before = now
    return time.perf_counter() - started


class Measured:
    """Async context manager timing one section; read `result` afterwards.

    With a ``server_pid``, it first waits for the server to go quiet (`settle`).
    """

    def __init__(self, *, ops: int, nbytes: int = 0, server_pid: int = 0) -> None:
        self.ops = ops
        self.nbytes = nbytes
        self.server_pid = server_pid
        self.extra: dict[str, Any] = {}
        self._wall = 0.0
        self._cpu = 0.0
        self._rss_base = 0
        self._rss_peak = 0
        self._reset = False
        self._server_cpu = 0.0
        self._steal = 0.0
        self._sleeps = 0
        self._settle = 0.0

    async def __aenter__(self) -> Measured:
        if self.server_pid:
            self._settle = await settle(self.server_pid)
        gc.collect()
        self._server_cpu = group_cpu_seconds(self.server_pid) if self.server_pid else 0.0
        self._steal = steal_seconds()
        self._rss_base = rss_bytes()
        self._reset = _reset_peak()
        self._sleeps = sleeps()
        self._cpu = cpu_seconds()
        self._wall = time.perf_counter()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._wall = time.perf_counter() - self._wall
        self._cpu = cpu_seconds() - self._cpu
        self._sleeps = sleeps() - self._sleeps
        self._rss_peak = _peak_rss(self._reset)
        self._steal = steal_seconds() - self._steal
        if self.server_pid:
            self._server_cpu = group_cpu_seconds(self.server_pid) - self._server_cpu

    def result(self) -> dict[str, Any]:
        """The measurements as plain JSON-able numbers."""
        return {
            "ops": self.ops,
            "bytes": self.nbytes,
            "wall_s": self._wall,
            "cpu_s": self._cpu,
            "sleeps": self._sleeps,
            "rss_base": self._rss_base,
            "rss_peak": max(self._rss_peak, self._rss_base),
            "peak_is_section_only": self._reset,
            "steal_s": self._steal,
            **({"server_cpu_s": self._server_cpu, "settle_s": self._settle} if self.server_pid else {}),
            **self.extra,
        }
