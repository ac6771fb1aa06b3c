"""``chart.png``: grouped bars of the medians, whiskers from min to max (matplotlib, Agg).

Each client keeps one colour in every panel; aiostore is always the first bar
of a group. A missing bar means the client was not run, failed, or cannot do it
(the tables in results.md say which).

Example:
    >>> draw_chart(results, settings, Path("docs/benchmarks/chart.png"))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .clients import TARGET_CLIENTS
from .settings import Settings
from .stats import Results, Summary

__all__ = ["draw_chart"]

_COLOURS = {"aiostore": "#d62728", "obstore": "#1f77b4", "opendal": "#9467bd", "s3fs": "#8c564b",
            "aioboto3": "#e377c2", "aiobotocore": "#7f7f7f", "aiohttp": "#bcbd22", "os": "#2ca02c",
            "s3": "#d62728", "gcs": "#ff7f0e", "azure": "#17becf", "fs": "#2ca02c",
            "memory": "#7f7f7f", "moto": "#e377c2"}  # fmt: skip
_OPS = ("put", "get", "head", "delete")

Getter = Callable[[str, str], Summary | None]


def _bars(ax: Any, title: str, unit: str, groups: Sequence[str], series: Sequence[str], get: Getter,
          labels: Sequence[str] | None = None) -> None:  # fmt: skip
    """One panel: ``groups`` along x, one bar per ``series`` in each group."""
    present = [s for s in series if any(get(g, s) for g in groups)]
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(unit, fontsize=8)
    ax.tick_params(labelsize=7)
    if not present:
        ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes, color="grey")
        ax.set_xticks([])
        return
    width = 0.8 / len(present)
    for index, name in enumerate(present):
        xs, heights, lows, highs = [], [], [], []
        for position, group in enumerate(groups):
            summary = get(group, name)
            if summary is None:
                continue
            xs.append(position + (index - (len(present) - 1) / 2) * width)
            heights.append(summary.median)
            lows.append(summary.median - summary.low)
            highs.append(summary.high - summary.median)
        ax.bar(xs, heights, width, yerr=[lows, highs], capsize=2, label=name,
               color=_COLOURS.get(name), error_kw={"elinewidth": 0.8})  # fmt: skip
    ax.set_xticks(range(len(groups)), list(labels or groups))
    ax.legend(fontsize=6, ncol=2)
    ax.grid(axis="y", alpha=0.3)


def _panels(results: Results, settings: Settings) -> list[tuple[Any, ...]]:
    s3 = TARGET_CLIENTS["s3"]
    fs = TARGET_CLIENTS["fs"]
    big, small = settings.list_count, settings.list_small_count
    ops = [op.upper() for op in _OPS]

    def on(target: str, metric: str) -> Getter:
        return lambda phase, client: results.summary(target, phase, client, metric)

    def first_page(client: str, which: str) -> Summary | None:
        phase = "list" if which == f"{big} keys" else f"list_{small}"
        return results.summary("s3", phase, client, "first_page_ms")

    return [
        ("S3 small ops: client CPU per op (lower is better)", "CPU ms/op", _OPS, s3,
         on("s3", "cpu_ms_op"), ops),
        ("S3 small ops: throughput", "ops/s", _OPS, s3, on("s3", "ops_s"), ops),
        ("S3 large transfers: throughput", "MB/s", ("upload", "download"), s3, on("s3", "mb_s")),
        ("S3 large transfers: client CPU (lower is better)", "CPU s/GB", ("upload", "download"), s3,
         on("s3", "cpu_s_gb")),
        (f"S3 listing {big} keys: CPU per key", "CPU µs/key", ("list",), s3, on("s3", "cpu_us_key"), [""]),
        (f"S3 time to first page: {big} vs {small} keys", "ms", s3, (f"{big} keys", f"{small} keys"),
         first_page),
        ("fs large file write/read", "MB/s", ("upload", "download"), fs, on("fs", "mb_s"), ("write", "read")),
        ("fs small files", "ops/s", ("put", "get"), fs, on("fs", "ops_s"), ("write", "read")),
        ("aiostore small-op CPU by target", "CPU ms/op", _OPS, ("s3", "gcs", "azure", "moto", "fs", "memory"),
         lambda phase, target: results.summary(target, phase, "aiostore", "cpu_ms_op"), ops),
    ]  # fmt: skip


def draw_chart(results: Results, settings: Settings, path: Path) -> Path | None:
    """Draw the 3 x 3 panels into ``path``; None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    figure, axes = plt.subplots(3, 3, figsize=(16, 13))
    for ax, panel in zip(axes.flat, _panels(results, settings), strict=True):
        _bars(ax, *panel)
    mode = "quick smoke run" if settings.quick else "full run"
    figure.suptitle(f"aiostore vs peers, local servers on 127.0.0.1 ({mode}; medians, whiskers min-max)")
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path
