"""The issue's performance targets, computed from the results: reported, never asserted.

Example:
    >>> for check in evaluate(results, settings):
    ...     print(check.name, check.status)
"""

from __future__ import annotations

from dataclasses import dataclass

from .counted_report import counted_ratio
from .job import MiB
from .paced_report import paced_ratio
from .settings import Settings
from .stats import Results
from .tables import fmt

__all__ = ["Check", "evaluate"]

_SMALL_OPS = ("put", "get", "head", "delete")
_PAGE = 1000  # S3's default page size
_CLOUD_LIMIT = 1.5  # GCS and Azure small-op CPU per op, times aiostore's on S3


@dataclass(frozen=True)
class Check:
    name: str
    measured: str
    limit: str
    status: str  # "met", "NOT met" or "n/a"


def _median(results: Results, target: str, phase: str, client: str, metric: str) -> float | None:
    summary = results.summary(target, phase, client, metric)
    return None if summary is None else summary.median


def _ratio_check(
    results: Results, name: str, mine: tuple[str, str, str, str], ref: tuple[str, str, str, str],
    limit: float, higher_is_better: bool = False,
) -> Check:  # fmt: skip
    a, b = _median(results, *mine), _median(results, *ref)
    where = "" if ref[0] == mine[0] else f" on {ref[0]}"
    bound = f"{'>=' if higher_is_better else '<='} {limit:g}x {ref[2]}{where}"
    if a is None or b is None or not b:
        return Check(name, "no data", bound, "n/a")
    ratio = a / b
    met = ratio >= limit if higher_is_better else ratio <= limit
    return Check(name, f"{fmt(a)} vs {fmt(b)} = {ratio:.2f}x", bound, "met" if met else "NOT met")


def _s3_checks(results: Results) -> list[Check]:
    checks = [
        _ratio_check(results, f"S3 {op.upper()} CPU/op", ("s3", op, "aiostore", "cpu_ms_op"),
                     ("s3", op, "obstore", "cpu_ms_op"), 1.0)
        for op in _SMALL_OPS
    ]  # fmt: skip
    checks.append(_ratio_check(results, "S3 listing CPU/key", ("s3", "list", "aiostore", "cpu_us_key"),
                               ("s3", "list", "obstore", "cpu_us_key"), 1.5))  # fmt: skip
    for phase in ("upload", "download"):
        mine = ("s3", phase, "aiostore")
        ref = ("s3", phase, "obstore")
        checks.append(_ratio_check(results, f"S3 {phase} MB/s", (*mine, "mb_s"), (*ref, "mb_s"), 1.0, True))
        checks.append(
            _ratio_check(results, f"S3 {phase} CPU/GB", (*mine, "cpu_s_gb"), (*ref, "cpu_s_gb"), 1.5)
        )
    return checks


def _first_page_check(results: Results, settings: Settings) -> Check:
    big = _median(results, "s3", "list", "aiostore", "first_page_ms")
    small = _median(results, "s3", f"list_{settings.list_small_count}", "aiostore", "first_page_ms")
    limit = f"<= 1.5x the {settings.list_small_count}-key prefix's"
    name = f"S3 time to first page, {settings.list_count} vs {settings.list_small_count} keys"
    if settings.list_small_count < _PAGE:
        return Check(name, "not comparable: the smaller prefix is less than one 1000-key page", limit, "n/a")
    if big is None or small is None or not small:
        return Check(name, "no data", limit, "n/a")
    ratio = big / small
    return Check(name, f"{fmt(big)} ms vs {fmt(small)} ms = {ratio:.2f}x", limit,
                 "met" if ratio <= 1.5 else "NOT met")  # fmt: skip


def _rss_checks(results: Results, settings: Settings) -> list[Check]:
    bound_mib = settings.part_size * (settings.part_concurrency + 1) / MiB + 64
    checks = []
    for target, phase in (("s3", "upload"), ("s3", "download"), ("fs", "upload"), ("fs", "download")):
        growth = _median(results, target, phase, "aiostore", "rss_mib")
        name = f"{target} {phase} peak RSS growth"
        limit = f"<= part_size x (concurrency + 1) + 64 MiB = {bound_mib:.0f} MiB"
        if growth is None:
            checks.append(Check(name, "no data", limit, "n/a"))
        else:
            checks.append(
                Check(name, f"{fmt(growth)} MiB", limit, "met" if growth <= bound_mib else "NOT met")
            )
    return checks


def _fs_checks(results: Results) -> list[Check]:
    checks = [
        _ratio_check(results, f"fs large {label} MB/s", ("fs", phase, "aiostore", "mb_s"),
                     ("fs", phase, "os", "mb_s"), 0.9, True)
        for phase, label in (("upload", "write"), ("download", "read"))
    ]  # fmt: skip
    checks += [
        _ratio_check(results, f"fs small-file {label} ops/s", ("fs", phase, "aiostore", "ops_s"),
                     ("fs", phase, "obstore", "ops_s"), 1.0, True)
        for phase, label in (("put", "write"), ("get", "read"))
    ]  # fmt: skip
    return checks


def _cloud_check(results: Results, settings: Settings, target: str, op: str) -> Check:
    """Aiostore's CPU per op on ``target`` over its CPU per op on S3, unpaced and paced, and
    its instructions per op over S3's when counted. The status comes from the paced ratio and
    the instruction ratio, each where measured, both within the limit; from the unpaced ratio
    when neither ran (see `benchmarks.paced`, `benchmarks.counted`)."""
    name = f"{target.upper()} {op.upper()} CPU/op"
    unpaced = _ratio_check(results, name, (target, op, "aiostore", "cpu_ms_op"),
                           ("s3", op, "aiostore", "cpu_ms_op"), _CLOUD_LIMIT)  # fmt: skip
    parts, verdicts, basis = [f"unpaced {unpaced.measured}"], [], []
    if settings.paced:
        basis.append("paced")
        paced = paced_ratio(results, target, op, settings.pace_ops)
        if paced.value is None or paced.mine is None or paced.reference is None:
            parts.append(f"paced: {paced.problem}")
        else:
            parts.append(f"paced {fmt(paced.mine)} vs {fmt(paced.reference)} = {paced.value:.2f}x")
            verdicts.append(paced.value <= _CLOUD_LIMIT)
    if settings.counted_reps:
        basis.append("instructions")
        ratio = counted_ratio(results, target, op)
        parts.append("instructions: no data" if ratio is None else f"instructions {ratio:.2f}x")
        if ratio is not None:
            verdicts.append(ratio <= _CLOUD_LIMIT)
    if not basis:
        return unpaced
    status = "n/a" if len(verdicts) < len(basis) else "met" if all(verdicts) else "NOT met"
    return Check(name, "; ".join(parts), f"{unpaced.limit}; status on {' and '.join(basis)}", status)


def _cloud_checks(results: Results, settings: Settings) -> list[Check]:
    return [_cloud_check(results, settings, target, op) for target in ("gcs", "azure") for op in _SMALL_OPS]


def evaluate(results: Results, settings: Settings) -> list[Check]:
    """Every target of the issue, in the issue's order; checks without data say n/a."""
    return [
        *_s3_checks(results),
        _first_page_check(results, settings),
        *_rss_checks(results, settings),
        *_fs_checks(results),
        *_cloud_checks(results, settings),
    ]
