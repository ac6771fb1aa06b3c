"""The "Client instructions per op" table of ``results.md`` and the ratios the GCS/Azure targets use.

Each target's instructions per op (aiostore under callgrind, `benchmarks.counted`)
are divided by aiostore's on S3. A count does not depend on how often the client
slept, so this is the adapters' work per op compared directly.

Example:
    >>> lines = counted_table(results, settings)
    >>> counted_ratio(results, "azure", "put")
    1.08
"""

from __future__ import annotations

from .counted import counted_phase
from .paced_report import readme_link
from .settings import COUNTED_TARGETS, Settings
from .stats import Results, Summary
from .tables import cell

__all__ = ["counted_ratio", "counted_table"]

_OPS = (("put", "PUT"), ("get", "GET"), ("head", "HEAD"), ("delete", "DELETE"))
_ANCHOR = "instructions-per-op"


def _summary(results: Results, target: str, op: str) -> Summary | None:
    return results.summary(target, counted_phase(op), "aiostore", "kinstr_op")


def counted_ratio(results: Results, target: str, op: str) -> float | None:
    """``target``'s median instructions per op over aiostore's on S3 (None without both)."""
    mine, reference = _summary(results, target, op), _summary(results, "s3", op)
    if mine is None or reference is None or not reference.median:
        return None
    return mine.median / reference.median


def _row(results: Results, target: str, op: str, label: str) -> str:
    summary = _summary(results, target, op)
    if summary is None:
        error = results.error(target, "counted", "aiostore")
        why = f"failed: {error}" if error else "not run"
        return f"| {target} | {label} | {why.replace('|', '/')} | — | — |"
    ratio = counted_ratio(results, target, op)
    cells = [cell(summary), str(summary.runs), "—" if ratio is None else f"{ratio:.2f}x"]
    return f"| {target} | {label} | " + " | ".join(cells) + " |"


def counted_table(results: Results, settings: Settings) -> list[str]:
    """The "Client instructions per op" section, or [] when the counted phase did not run."""
    targets = [t for t in COUNTED_TARGETS if t in settings.targets and "aiostore" in results.clients(t)]
    if not settings.counted_reps or not targets:
        return []
    kib = settings.object_size // 1024
    lines = [
        "## Client instructions per op",
        "",
        f"aiostore only, under callgrind: {settings.counted_count} x {kib} KiB per op, "
        f"{settings.concurrency} in flight, after one uncounted PUT of every key; thousands of "
        "user-space instructions the client process executed per op (system calls not counted), "
        f"whatever the server's speed. {readme_link(settings, anchor=_ANCHOR)}",
        "",
        "| target | op | k instructions/op | runs | vs s3 |",
        "|---|---|---|---|---|",
    ]
    lines += [_row(results, t, op, label) for t in targets for op, label in _OPS]
    return [*lines, ""]
