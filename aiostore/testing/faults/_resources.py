"""What a process holds open: tasks, file descriptors and TCP connections.

Tests take a `Resources` snapshot before and after some work to prove nothing
leaked (cancelled uploads, broken downloads...). Connections are counted with
``psutil`` (the dev extra); without it they count as zero.

Example:
    >>> before = Resources.now(port=8333)
    >>> ...  # work, then close the store
    >>> await settle(before, port=8333)     # the leak, or None once back to baseline
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

__all__ = ["Resources", "connections_to", "settle"]


def connections_to(port: int) -> int:
    """Established TCP connections from this process to ``port`` (on any address)."""
    try:
        import psutil  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # pragma: no cover - psutil is in the dev extra
        return 0
    established = psutil.CONN_ESTABLISHED
    conns: list[Any] = psutil.Process().net_connections(kind="tcp")
    return sum(1 for c in conns if c.raddr and c.raddr.port == port and c.status == established)


def _open_fds() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except FileNotFoundError:  # pragma: no cover - not Linux
        return 0


@dataclass(frozen=True, slots=True)
class Resources:
    """Counts of what is open right now."""

    tasks: int
    fds: int
    connections: int

    @classmethod
    def now(cls, port: int | None = None) -> Resources:
        """Count the running loop's tasks (minus the caller's), fds, and connections to ``port``."""
        tasks = len(asyncio.all_tasks()) if _in_loop() else 0
        return cls(tasks=tasks, fds=_open_fds(), connections=connections_to(port) if port else 0)

    def exceeds(self, baseline: Resources) -> list[str]:
        """What grew since ``baseline``, as readable lines (empty when nothing did)."""
        grown = []
        for name in ("tasks", "fds", "connections"):
            now, before = getattr(self, name), getattr(baseline, name)
            if now > before:
                grown.append(f"{name}: {before} -> {now}")
        return grown


def _in_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def settle(baseline: Resources, *, port: int | None = None, within: float = 2.0) -> list[str]:
    """Wait up to ``within`` seconds for the counts to come back to ``baseline``;
    returns what is still above it (empty: back to baseline)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while True:
        grown = Resources.now(port).exceeds(baseline)
        if not grown or loop.time() >= end:
            return grown
        await asyncio.sleep(0.02)
