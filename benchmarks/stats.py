"""Worker records and their aggregation into medians with min and max.

Example:
    >>> results = Results()
    >>> results.add(Record("s3", "obstore", 0, ["small"], phases={"put": {...}}))
    >>> results.summary("s3", "put", "obstore", "cpu_ms_op")
    Summary(median=0.24, low=0.22, high=0.27, runs=3)
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["METRICS", "Record", "Results", "Summary"]

MB = 1_000_000
GB = 1_000_000_000
MiB = 1024 * 1024


def _ratio(numerator: str, denominator: str, scale: float) -> Callable[[dict[str, Any]], float | None]:
    def compute(phase: dict[str, Any]) -> float | None:
        bottom = phase.get(denominator) or 0
        return phase[numerator] / bottom * scale if bottom else None

    return compute


def _rss_growth(phase: dict[str, Any]) -> float:
    return max(0, int(phase["rss_peak"]) - int(phase["rss_base"])) / MiB


def _server_cpu(scale: float, per: str) -> Callable[[dict[str, Any]], float | None]:
    """The server's CPU over the section per op or per byte (None when not measured)."""

    def compute(phase: dict[str, Any]) -> float | None:
        server, bottom = phase.get("server_cpu_s"), phase.get(per) or 0
        return None if server is None or not bottom else server / bottom * scale

    return compute


def _steal_percent(phase: dict[str, Any]) -> float | None:
    """Stolen CPU time as a share of the section's wall time on every CPU."""
    wall, steal = phase.get("wall_s") or 0, phase.get("steal_s")
    return None if steal is None or not wall else steal / (wall * (os.cpu_count() or 1)) * 100


def _sleeps_per_op(phase: dict[str, Any]) -> float | None:
    """The client's voluntary context switches per op (absent in older records)."""
    count, ops = phase.get("sleeps"), phase.get("ops") or 0
    return None if count is None or not ops else count / ops


def _first_page(phase: dict[str, Any]) -> float | None:
    value = phase.get("first_page_s")
    return None if value is None else value * 1000


#: metric name -> how to compute it from one phase of one worker
METRICS: dict[str, Callable[[dict[str, Any]], float | None]] = {
    "ops_s": _ratio("ops", "wall_s", 1.0),
    "cpu_ms_op": _ratio("cpu_s", "ops", 1000.0),
    "mb_s": lambda p: p["bytes"] / p["wall_s"] / MB if p["wall_s"] else None,
    "cpu_s_gb": lambda p: p["cpu_s"] / (p["bytes"] / GB) if p["bytes"] else None,
    "rss_mib": _rss_growth,
    "wall_s": lambda p: p["wall_s"],
    "cpu_us_key": _ratio("cpu_s", "ops", 1e6),
    "first_page_ms": _first_page,
    "peak_in_flight": lambda p: p.get("peak_in_flight"),
    "server_cpu_ms_op": _server_cpu(1000.0, "ops"),
    "server_cpu_s_gb": _server_cpu(GB, "bytes"),
    "steal_pct": _steal_percent,
    "sleeps_op": _sleeps_per_op,
    "kinstr_op": _ratio("instructions", "ops", 1e-3),
}


@dataclass(frozen=True)
class Summary:
    """Median, minimum and maximum of one metric over the repetitions."""

    median: float
    low: float
    high: float
    runs: int


@dataclass
class Record:
    """One worker's answer: the phases it measured and the workloads that failed."""

    target: str
    client: str
    rep: int
    workloads: list[str]
    phases: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class Results:
    """Every record of a run, plus what could not be run and why."""

    records: list[Record] = field(default_factory=list)
    unavailable: dict[tuple[str, str], str] = field(default_factory=dict)  # (target, client) -> why
    target_errors: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # target -> server description
    load: str = field(default_factory=lambda: ", ".join(f"{v:.1f}" for v in os.getloadavg()))
    wake_us: float | None = None  # CPU per idle wake-up on this machine (`idle_wake_cpu_us`)

    def add(self, record: Record) -> None:
        self.records.append(record)

    def error(self, target: str, workload: str, client: str) -> str | None:
        """The first error of this (target, workload, client), if any."""
        for record in self.records:
            if (record.target, record.client) == (target, client) and workload in record.errors:
                return record.errors[workload]
        return None

    def skipped(self, target: str, phase: str, client: str) -> str | None:
        for record in self._matching(target, phase, client):
            reason = record.phases[phase].get("skipped")
            if reason:
                return str(reason)
        return None

    def _matching(self, target: str, phase: str, client: str) -> list[Record]:
        return [
            r for r in self.records
            if r.target == target and r.client == client and phase in r.phases
        ]  # fmt: skip

    def summary(self, target: str, phase: str, client: str, metric: str) -> Summary | None:
        values = []
        for record in self._matching(target, phase, client):
            data = record.phases[phase]
            if "skipped" in data:
                continue
            value = METRICS[metric](data)
            if value is not None:
                values.append(value)
        if not values:
            return None
        return Summary(statistics.median(values), min(values), max(values), len(values))

    def clients(self, target: str) -> list[str]:
        """Clients with at least one record on ``target``, in first-seen order."""
        seen: dict[str, None] = {}
        for record in self.records:
            if record.target == target:
                seen.setdefault(record.client, None)
        return list(seen)

    def to_json(self) -> dict[str, Any]:
        return {
            "records": [record.__dict__ for record in self.records],
            "unavailable": [{"target": t, "client": c, "why": w} for (t, c), w in self.unavailable.items()],
            "target_errors": self.target_errors,
        }
