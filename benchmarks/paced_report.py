"""The paced small-ops table of ``results.md`` and the paced ratios the GCS/Azure targets use.

Every target gets aiostore's CPU per op at the same request rate (see
`benchmarks.paced`), next to its unpaced CPU per op; both are divided by
aiostore's on S3. A target (or S3) whose achieved rate stayed below the asked
one in any repetition is not compared: the table says so instead.

Example:
    >>> lines = paced_table(results, settings)
    >>> paced_ratio(results, "azure", "put", 150.0).value
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .paced import KEEP_UP, keeps_up, paced_phase
from .settings import REPO, Settings
from .stats import Results, Summary
from .tables import fmt

__all__ = ["PacedRatio", "paced_ratio", "paced_table", "readme_link"]

_TARGETS = ("s3", "gcs", "azure", "moto")
_OPS = (("put", "PUT"), ("get", "GET"), ("head", "HEAD"), ("delete", "DELETE"))
_ANCHOR = "paced-small-ops"
_MOTO_NOTE = (
    "moto is a control: aiostore's own S3 adapter, the same code as on s3, against moto's server "
    "(Python). Its ratios show what a slower server that uses more CPU per op on the same machine "
    "does to the client's CPU per op."
)


@dataclass(frozen=True)
class PacedRatio:
    """A target's paced CPU per op over S3's; ``value`` is None when ``problem`` says why not."""

    value: float | None
    mine: float | None
    reference: float | None
    problem: str = ""


def readme_link(settings: Settings, text: str = "why", anchor: str = _ANCHOR) -> str:
    """A Markdown link from ``results.md`` (in ``--out-dir``) to the benchmarks README.

    Relative to where the run writes; a run written outside ``docs/benchmarks/``
    and copied there needs its links rewritten.
    """
    readme = REPO / "docs" / "benchmarks" / "README.md"
    target = os.path.relpath(readme, settings.out_dir) + (f"#{anchor}" if anchor else "")
    return f"[{text}]({target})"


def _summary(results: Results, target: str, op: str, metric: str) -> Summary | None:
    return results.summary(target, paced_phase(op), "aiostore", metric)


def _lag(results: Results, target: str, op: str, asked: float) -> str:
    """'' when ``target`` kept up with ``asked`` in every repetition, else what it achieved."""
    achieved = _summary(results, target, op, "ops_s")
    if achieved is None or keeps_up(achieved.low, asked):
        return ""
    return f"{target} achieved {fmt(achieved.low)} of {asked:g} ops/s"


def paced_ratio(results: Results, target: str, op: str, asked: float) -> PacedRatio:
    """``target``'s paced CPU per op over aiostore's on S3, if both kept up."""
    mine = _summary(results, target, op, "cpu_ms_op")
    reference = _summary(results, "s3", op, "cpu_ms_op")
    if mine is None or reference is None or not reference.median:
        return PacedRatio(None, None, None, "no paced data")
    lags = [lag for name in dict.fromkeys((target, "s3")) if (lag := _lag(results, name, op, asked))]
    if lags:
        return PacedRatio(None, mine.median, reference.median, "; ".join(lags) + ": not compared")
    return PacedRatio(mine.median / reference.median, mine.median, reference.median)


def _cell(summary: Summary | None) -> str:
    if summary is None:
        return "—"
    return f"{fmt(summary.median)} [{fmt(summary.low)}-{fmt(summary.high)}]"


def _count_cell(summary: Summary | None) -> str:
    if summary is None:
        return "—"
    return f"{summary.median:g} [{summary.low:g}-{summary.high:g}]"


def _unpaced_ratio(results: Results, target: str, op: str) -> str:
    mine = results.summary(target, op, "aiostore", "cpu_ms_op")
    reference = results.summary("s3", op, "aiostore", "cpu_ms_op")
    if mine is None or reference is None or not reference.median:
        return "—"
    return f"{mine.median / reference.median:.2f}x"


def _row(results: Results, settings: Settings, target: str, op: str, label: str) -> str:
    error = results.error(target, "paced", "aiostore")
    achieved = _summary(results, target, op, "ops_s")
    if achieved is None:
        why = f"failed: {error}" if error else "not run"
        return f"| {target} | {label} | {why.replace('|', '/')} |" + " — |" * 8
    lag = _lag(results, target, op, settings.pace_ops)
    ratio = paced_ratio(results, target, op, settings.pace_ops)
    paced = "not compared" if ratio.value is None else f"{ratio.value:.2f}x"
    cells = [
        _cell(achieved) + (" **cannot keep up**" if lag else ""),
        _count_cell(_summary(results, target, op, "peak_in_flight")),
        _cell(_summary(results, target, op, "cpu_ms_op")),
        _cell(_summary(results, target, op, "sleeps_op")),
        paced,
        _cell(results.summary(target, op, "aiostore", "cpu_ms_op")),
        _cell(results.summary(target, op, "aiostore", "sleeps_op")),
        _unpaced_ratio(results, target, op),
        _cell(results.summary(target, op, "aiostore", "server_cpu_ms_op")),
    ]
    return f"| {target} | {label} | " + " | ".join(cells) + " |"


def paced_table(results: Results, settings: Settings) -> list[str]:
    """The "Paced small ops" section, or [] when the paced phase did not run."""
    targets = [t for t in _TARGETS if t in settings.targets and "aiostore" in results.clients(t)]
    if not settings.paced or not targets:
        return []
    kib = settings.object_size // 1024
    lines = [
        "## Paced small ops",
        "",
        f"aiostore only: {settings.pace_count} x {kib} KiB per op, started at {settings.pace_ops:g} "
        f"ops/s on every target (at most {settings.concurrency} in flight), so the client has the same "
        "duty cycle everywhere; CPU ms/op as in the unpaced tables (whole phase / ops). A target "
        f"below {KEEP_UP:.0%} of the asked rate in any repetition is not compared. "
        f"{readme_link(settings)}",
        "",
        "| target | op | achieved ops/s | peak in flight | CPU ms/op paced | sleeps/op paced "
        "| CPU vs s3 paced | CPU ms/op unpaced | sleeps/op unpaced | CPU vs s3 unpaced "
        "| server CPU ms/op unpaced |",
        "|" + "---|" * 11,
    ]
    lines += [_row(results, settings, t, op, label) for t in targets for op, label in _OPS]
    if "moto" in targets:
        lines += ["", _MOTO_NOTE]
    return [*lines, ""]
