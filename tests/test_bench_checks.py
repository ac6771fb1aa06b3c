"""The benchmark harness's target verdicts for GCS/Azure and its callgrind reading (no server, no valgrind).

A wrong verdict here would print "met" for a target that is not, so the rules are
pinned down: the status comes from the paced ratio and the instruction ratio where
each ran, both within 1.5x; a missing ratio makes the row n/a, never met.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from benchmarks.checks import Check, evaluate
from benchmarks.counted import Counter, NotCounting, counted_phase
from benchmarks.counted_report import counted_ratio, counted_table
from benchmarks.paced import paced_phase
from benchmarks.settings import Settings, parse_args
from benchmarks.stats import Record, Results

OPS = ("put", "get", "head", "delete")


def _settings(tmp_path: Path, *, counted: int, paced: bool) -> Settings:
    settings = parse_args(["--only", "s3,gcs", "--clients", "aiostore", "--work-dir", str(tmp_path)])
    return dataclasses.replace(settings, counted_reps=counted, pace_ops=100.0 if paced else 0.0)


def _record(target: str, *, cpu_ms: float, paced_ms: float, kinstr: float | None) -> Record:
    phases: dict[str, dict[str, float]] = {}
    for op in OPS:
        phases[op] = {"ops": 1000, "cpu_s": cpu_ms}
        phases[paced_phase(op)] = {"ops": 500, "cpu_s": paced_ms / 2, "wall_s": 5.0}
        if kinstr is not None:
            phases[counted_phase(op)] = {"ops": 300, "instructions": kinstr * 300_000}
    return Record(target, "aiostore", 0, ["small", "paced", "counted"], phases=phases)


def _cloud_rows(results: Results, settings: Settings) -> dict[str, Check]:
    return {check.name: check for check in evaluate(results, settings) if check.name.startswith("GCS")}


def test_met_needs_both_the_paced_and_the_instruction_ratio(tmp_path: Path) -> None:
    settings = _settings(tmp_path, counted=1, paced=True)
    results = Results()
    results.add(_record("s3", cpu_ms=0.4, paced_ms=1.5, kinstr=600))
    results.add(_record("gcs", cpu_ms=1.0, paced_ms=1.5, kinstr=1000))  # paced 1.0x, instructions 1.67x
    row = _cloud_rows(results, settings)["GCS PUT CPU/op"]
    assert row.status == "NOT met"
    assert "instructions 1.67x" in row.measured
    assert "paced 1.50 vs 1.50 = 1.00x" in row.measured
    assert "status on paced and instructions" in row.limit


def test_both_within_the_limit_is_met_whatever_the_unpaced_ratio(tmp_path: Path) -> None:
    settings = _settings(tmp_path, counted=1, paced=True)
    results = Results()
    results.add(_record("s3", cpu_ms=0.4, paced_ms=1.5, kinstr=600))
    results.add(_record("gcs", cpu_ms=1.2, paced_ms=1.6, kinstr=660))  # unpaced 3x, paced 1.07x, 1.1x
    rows = _cloud_rows(results, settings)
    assert {row.status for row in rows.values()} == {"met"}
    assert "unpaced 1.20 vs 0.400 = 3.00x" in rows["GCS GET CPU/op"].measured


def test_a_missing_instruction_count_is_not_a_pass(tmp_path: Path) -> None:
    settings = _settings(tmp_path, counted=1, paced=True)
    results = Results()
    results.add(_record("s3", cpu_ms=0.4, paced_ms=1.5, kinstr=600))
    results.add(_record("gcs", cpu_ms=0.4, paced_ms=1.5, kinstr=None))
    row = _cloud_rows(results, settings)["GCS HEAD CPU/op"]
    assert row.status == "n/a"
    assert "instructions: no data" in row.measured


def test_without_paced_or_counted_phases_the_unpaced_ratio_decides(tmp_path: Path) -> None:
    settings = _settings(tmp_path, counted=0, paced=False)
    results = Results()
    results.add(_record("s3", cpu_ms=0.4, paced_ms=1.5, kinstr=None))
    results.add(_record("gcs", cpu_ms=0.7, paced_ms=1.5, kinstr=None))  # 1.75x
    row = _cloud_rows(results, settings)["GCS DELETE CPU/op"]
    assert row.status == "NOT met"
    assert row.limit == "<= 1.5x aiostore on s3"


def test_the_counted_table_gives_each_ratio_to_s3(tmp_path: Path) -> None:
    settings = _settings(tmp_path, counted=2, paced=False)
    results = Results()
    results.add(_record("s3", cpu_ms=0.4, paced_ms=1.5, kinstr=500))
    results.add(_record("gcs", cpu_ms=0.4, paced_ms=1.5, kinstr=600))
    assert counted_ratio(results, "gcs", "put") == pytest.approx(1.2)
    lines = counted_table(results, settings)
    assert "| gcs | PUT | 600 | 1 | 1.20x |" in lines
    assert "| s3 | DELETE | 500 | 1 | 1.00x |" in lines


def test_the_counter_reads_each_dump_in_turn(tmp_path: Path) -> None:
    out = tmp_path / "callgrind.out"
    (tmp_path / "callgrind.out.1").write_text("version: 1\nevents: Ir\nsummary: 1234\n")
    (tmp_path / "callgrind.out.2").write_text("events: Ir\nfn=(1) main\n0 7\ntotals: 98765\n")
    counter = Counter(str(out))
    assert counter.mark() == 1234
    assert counter.mark() == 98765
    with pytest.raises(NotCounting, match=r"callgrind\.out\.3"):
        counter.mark()  # not under valgrind: no third dump appears


def test_a_worker_outside_callgrind_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIOSTORE_BENCH_CALLGRIND_OUT", raising=False)
    with pytest.raises(NotCounting, match="not under callgrind"):
        Counter.from_env()
