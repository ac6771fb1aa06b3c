"""Paced small ops: the same request rate on every target, so every client has the same duty cycle.

Unpaced, the small-ops workload runs as fast as the server answers, so a client
facing a fast server (SeaweedFS) almost never sleeps while one facing a slow
emulator sleeps once per op, and a wake-up after a sleep costs this machine's
CPU more (see docs/benchmarks/README.md, "Paced small ops"). Paced, op ``i``
starts at ``start + i / rate`` (one ``asyncio.sleep`` until its slot, no
busy-wait), with at most ``in_flight`` running; a server that cannot keep up
shows as an achieved rate below the asked one.

Example:
    >>> total, peak = await run_paced(keys, client.head, rate=100.0, in_flight=64)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

__all__ = ["KEEP_UP", "PACED_PHASES", "keeps_up", "paced_phase", "run_paced"]

#: the small-op phases, paced; each is ``paced_<op>``
PACED_PHASES = ("paced_put", "paced_get", "paced_head", "paced_delete")
#: a target keeps up when every repetition achieves at least this share of the asked rate
KEEP_UP = 0.95


def paced_phase(op: str) -> str:
    """The paced phase of small op ``op`` (``put`` -> ``paced_put``)."""
    return f"paced_{op}"


def keeps_up(achieved_low: float, asked: float) -> bool:
    """Whether the slowest repetition's achieved rate is close enough to the asked one."""
    return achieved_low >= KEEP_UP * asked


async def run_paced(
    keys: list[str], op: Callable[[str], Awaitable[int | None]], rate: float, in_flight: int
) -> tuple[int, int]:
    """Start ``op(key)`` for key ``i`` at ``i / rate`` seconds, at most ``in_flight`` at once.

    Returns the sum of what ``op`` returned and the most ops that were in flight at once.
    """
    loop = asyncio.get_running_loop()
    slots = asyncio.Semaphore(in_flight)
    totals: list[int] = []
    running = peak = 0

    async def one(key: str) -> None:
        nonlocal running
        try:
            totals.append(await op(key) or 0)
        finally:
            running -= 1
            slots.release()

    start = loop.time()
    async with asyncio.TaskGroup() as group:
        for index, key in enumerate(keys):
            delay = start + index / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await slots.acquire()
            running += 1
            peak = max(peak, running)
            group.create_task(one(key))
    return sum(totals), peak
