"""Client instructions per op, counted by callgrind: the client's work without the machine's wake-ups.

CPU seconds per op also measure how often the client slept: on this kind of VM a
wake-up after a sleep costs CPU of its own, and a client facing a slow emulator
sleeps about once per op (see `benchmarks.paced`). Valgrind's callgrind counts the
instructions the worker process executes in user space instead, which does not
depend on the duty cycle; under it the client runs some 50x slower, so every
server is ahead of it and the client is busy throughout on every target.

The orchestrator starts the worker under `valgrind_command`; the worker brackets
each counted section with calls to ``os.getppid()``. Callgrind's
``--dump-before=getppid`` writes the instructions since the previous dump to
``<out>.<n>`` on every call, so each section's count is one dump. Kernel work
(system calls) is not counted.

Example:
    >>> counter = Counter.from_env()
    >>> async with Counted(counter, ops=300) as counted:
    ...     await run_ops()
    >>> counted.result()["instructions"]
"""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = [
    "COUNTED_PHASES",
    "OUT_ENV",
    "Counted",
    "Counter",
    "NotCounting",
    "counted_phase",
    "valgrind_command",
]

#: where the worker finds callgrind's output file name (set by the orchestrator)
OUT_ENV = "AIOSTORE_BENCH_CALLGRIND_OUT"
#: the C function whose every call makes callgrind dump; nothing else in a worker calls it
_TRIGGER = "getppid"
#: the small-op phases, counted; each is ``counted_<op>``
COUNTED_PHASES = ("counted_put", "counted_get", "counted_head", "counted_delete")


class NotCounting(RuntimeError):
    """The worker does not run under callgrind (or valgrind is not installed)."""


def counted_phase(op: str) -> str:
    """The counted phase of small op ``op`` (``put`` -> ``counted_put``)."""
    return f"counted_{op}"


def valgrind_command(out_file: Path) -> list[str]:
    """The command prefix that runs a worker under callgrind, dumping to ``out_file.<n>``."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise NotCounting("valgrind is not installed (Debian: apt-get install valgrind)")
    return [valgrind, "--tool=callgrind", f"--dump-before={_TRIGGER}", f"--callgrind-out-file={out_file}"]


def _total(path: str) -> int:
    """The instruction count (``Ir``) of one callgrind dump."""
    with open(path, encoding="utf-8", errors="replace") as dump:
        for line in dump:
            if line.startswith(("totals:", "summary:")):
                return int(line.split()[1])
    raise NotCounting(f"{path} has no totals line")


class Counter:
    """Reads the instructions since the last dump, one dump per `mark`."""

    def __init__(self, out_file: str) -> None:
        self._out = out_file
        self._dumps = 0

    @classmethod
    def from_env(cls) -> Counter:
        out = os.environ.get(OUT_ENV)
        if not out:
            raise NotCounting(f"not under callgrind ({OUT_ENV} is not set)")
        return cls(out)

    def mark(self) -> int:
        """Make callgrind dump; the instructions since the previous dump."""
        os.getppid()
        self._dumps += 1
        path = f"{self._out}.{self._dumps}"
        if not os.path.exists(path):
            raise NotCounting(f"callgrind wrote no {path}: is the worker running under valgrind_command?")
        return _total(path)


class Counted:
    """Async context manager counting one section's instructions; read `result` afterwards."""

    def __init__(self, counter: Counter, *, ops: int) -> None:
        self.counter = counter
        self.ops = ops
        self.instructions = 0

    async def __aenter__(self) -> Counted:
        gc.collect()
        self.counter.mark()  # ends the uncounted stretch before the section
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.instructions = self.counter.mark()

    def result(self) -> dict[str, Any]:
        return {"ops": self.ops, "instructions": self.instructions}
