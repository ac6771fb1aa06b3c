"""Markdown tables: one row per client, ``median [min-max]`` cells, ratio columns.

A ratio is the client's median divided by the reference's median (obstore,
plain ``os``, or aiostore itself, possibly on another target), so ``1.30x`` in a
CPU column means 30 % more CPU than the reference and in a MB/s column 30 % faster.

Example:
    >>> lines = phase_table(results, TableSpec("s3", "put", "PUT 4 KiB", [("ops_s", "ops/s")], []))
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .clients import TARGET_CLIENTS
from .stats import Results, Summary

__all__ = ["Ratio", "TableSpec", "cell", "fmt", "phase_table"]


@dataclass(frozen=True)
class Ratio:
    """A ratio column: ``metric`` of the row's client over ``metric`` of (target, client)."""

    metric: str
    target: str
    client: str
    title: str


@dataclass(frozen=True)
class TableSpec:
    target: str
    phase: str
    title: str
    metrics: list[tuple[str, str]]  # (metric, column title)
    ratios: list[Ratio] = field(default_factory=list)
    note: str = ""


def fmt(value: float) -> str:
    """Three significant digits, no exponent for the ranges seen here."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}" if magnitude >= 0.01 else f"{value:.2g}"


def cell(summary: Summary | None) -> str:
    """``median [min-max]`` (just the median for one run), or a dash without data."""
    if summary is None:
        return "—"
    if summary.runs == 1:
        return fmt(summary.median)
    return f"{fmt(summary.median)} [{fmt(summary.low)}-{fmt(summary.high)}]"


def ratio_value(results: Results, spec_target: str, phase: str, client: str, ratio: Ratio) -> float | None:
    mine = results.summary(spec_target, phase, client, ratio.metric)
    reference = results.summary(ratio.target, phase, ratio.client, ratio.metric)
    if mine is None or reference is None or not reference.median:
        return None
    return mine.median / reference.median


def _why_not(results: Results, spec: TableSpec, client: str) -> str | None:
    """Why this row has no numbers: unavailable, failed or skipped."""
    if (spec.target, client) in results.unavailable:
        return results.unavailable[spec.target, client]
    for workload in ("small", "upload", "download", "list"):
        error = results.error(spec.target, workload, client)
        if error and spec.phase.partition("_")[0] in _phases_of(workload):
            return f"failed: {error}"
    skipped = results.skipped(spec.target, spec.phase, client)
    return f"n/a: {skipped}" if skipped else None


def _phases_of(workload: str) -> tuple[str, ...]:
    return {"small": ("put", "get", "head", "delete"), "upload": ("upload",), "download": ("download",),
            "list": ("list",)}.get(workload, ())  # fmt: skip


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def phase_table(results: Results, spec: TableSpec) -> list[str]:
    """The Markdown lines of one table (title, header, rows), or [] when nothing ran."""
    clients = [c for c in TARGET_CLIENTS[spec.target] if c in results.clients(spec.target)
               or (spec.target, c) in results.unavailable]  # fmt: skip
    if not clients:
        return []
    titles = ["client"] + [title for _, title in spec.metrics] + [r.title for r in spec.ratios]
    lines = [f"#### {spec.title}", "", "| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
    for client in clients:
        why = _why_not(results, spec, client)
        if why is not None and results.summary(spec.target, spec.phase, client, spec.metrics[0][0]) is None:
            cells = [_escape(why)] + ["—"] * (len(titles) - 2)
        else:
            cells = [cell(results.summary(spec.target, spec.phase, client, m)) for m, _ in spec.metrics]
            for ratio in spec.ratios:
                value = ratio_value(results, spec.target, spec.phase, client, ratio)
                cells.append("—" if value is None else f"{value:.2f}x")
        lines.append(f"| {client} | " + " | ".join(cells) + " |")
    if spec.note:
        lines += ["", spec.note]
    return [*lines, ""]
