"""Command-line options of ``python -m benchmarks`` and the frozen settings they give.

Example:
    >>> settings = parse_args(["--quick", "--only", "s3,fs"])
    >>> settings.small_count
    64
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .clients import TARGET_CLIENTS
from .job import DEFAULT_TARGETS, TARGETS, MiB

__all__ = ["Settings", "parse_args"]

REPO = Path(__file__).resolve().parent.parent
GiB = 1024 * MiB

_FULL = {"small_count": 2000, "concurrency": 64, "large_mib": 512, "list_count": 10_000,
         "fs_large_mib": 1024, "fs_small_count": 2000, "worker_timeout": 900.0,
         "pace_count": 500, "counted_count": 300}  # fmt: skip
# quick: just over one 1000-key listing page, so pagination is exercised
_QUICK = {"small_count": 64, "concurrency": 32, "large_mib": 16, "list_count": 1200,
          "fs_large_mib": 64, "fs_small_count": 64, "worker_timeout": 120.0,
          "pace_count": 100, "counted_count": 50}  # fmt: skip
#: paced small ops: requests started per second, slow enough for Azurite (the slowest emulator)
_PACE_OPS = 100.0
#: the targets whose CPU per op is compared with aiostore's on S3, which the paced phase is for
_PACED_FOR = frozenset({"gcs", "azure", "moto"})
#: the targets the counted small ops run on (aiostore under callgrind, see `benchmarks.counted`)
COUNTED_TARGETS = ("s3", "gcs", "azure", "moto")
_LIST_PAGE = 1000  # S3's default page: a full run's small listing is at least one full page


@dataclass(frozen=True)
class Settings:
    """Everything one benchmark run needs to know."""

    quick: bool
    targets: tuple[str, ...]
    clients: tuple[str, ...] | None
    repeat: int
    small_count: int
    object_size: int
    concurrency: int
    large_size: int
    part_size: int
    part_concurrency: int
    list_count: int
    list_small_count: int
    fs_large_size: int
    fs_small_count: int
    work_dir: Path
    out_dir: Path
    install_status: Path | None
    aiostore_options: dict[str, str]
    worker_timeout: float
    group_workloads: bool
    keep: bool
    own_work_dir: bool
    pace_ops: float = 0.0
    pace_count: int = 0
    counted_reps: int = 0
    counted_count: int = 0

    @property
    def paced(self) -> bool:
        """Whether aiostore's paced small ops run: only when GCS or Azure is compared with S3."""
        return self.pace_ops > 0 and self.pace_count > 0 and bool(_PACED_FOR & set(self.targets))

    def counts(self, rep: int) -> bool:
        """Whether repetition ``rep`` (from 0) runs aiostore's counted small ops."""
        return rep < self.counted_reps and self.counted_count > 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark aiostore against its peers on local servers (127.0.0.1 only).",
    )
    add = parser.add_argument
    add("--quick", action="store_true", help="small counts and sizes: a smoke run of a few minutes")
    add("--only", default=",".join(DEFAULT_TARGETS),
        help=f"comma-separated targets among {', '.join(TARGETS)} (default: all but moto)")  # fmt: skip
    add("--clients", default=None, help="comma-separated client names to run (default: all available)")
    add("--repeat", type=int, default=3, help="repetitions of every (workload, client); default 3")
    add("--small-count", type=int, help="objects in the small-ops workload (2000; quick 64)")
    add("--object-size", type=int, default=4096, help="bytes per small object (4096)")
    add("--concurrency", type=int, help="small ops in flight (64; quick 32)")
    add("--large-mib", type=int, help="MiB of the S3/GCS/Azure large transfer (512; quick 16)")
    add("--part-mib", type=int, default=8, help="multipart part size in MiB for every client (8)")
    add("--part-concurrency", type=int, default=8, help="parts in flight for every client (8)")
    add(
        "--list-count",
        type=int,
        help="keys listed (10000; quick 1200); a prefix with a tenth as many (full runs: at least "
        "one 1000-key page) is listed too",
    )
    add(
        "--group-workloads",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="one worker per (client, repetition) running every workload (default in --quick), "
        "instead of one worker per (workload, client, repetition)",
    )
    add("--fs-large-mib", type=int, help="MiB of the fs large file (1024; quick 64)")
    add("--fs-small-count", type=int, help="files in the fs small-file workload (2000; quick 64)")
    add("--work-dir", type=Path, default=None, help="scratch directory for servers and fs (a new temp dir)")
    add(
        "--out-dir", type=Path, default=REPO / "docs" / "benchmarks", help="where results.md and chart.png go"
    )
    add("--install-status", type=Path, default=None, help="TSV of package install results (benchmarks/run)")
    add("--aiostore-option", action="append", default=[], metavar="KEY=VALUE",
        help="extra option for aiostore.connect, e.g. checksum=none (repeatable)")  # fmt: skip
    add("--pace-ops", type=float, default=_PACE_OPS,
        help=f"paced small ops (aiostore, when gcs or azure runs): requests started per second "
        f"on every target ({_PACE_OPS:g}; 0 skips the paced phase)")  # fmt: skip
    add("--pace-count", type=int, help="objects per op kind in the paced phase (500; quick 100)")
    add("--count-instructions", type=int, default=0, metavar="N",
        help="also count aiostore's small-op instructions under callgrind (valgrind) on "
        f"{', '.join(COUNTED_TARGETS)}, in the first N repetitions (0: off, the default)")  # fmt: skip
    add("--counted-count", type=int, help="objects per op kind in the counted phase (300; quick 50)")
    add("--worker-timeout", type=float, help="seconds one worker may take (900; quick 120)")
    add("--keep", action="store_true", help="keep the scratch directory")
    return parser


def _pick(value: int | float | None, key: str, quick: bool) -> float:
    return value if value is not None else (_QUICK if quick else _FULL)[key]


def _split(text: str | None, allowed: Sequence[str], what: str) -> tuple[str, ...] | None:
    if text is None:
        return None
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (known: {', '.join(allowed)})")
    return names


def _options(pairs: list[str]) -> dict[str, str]:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--aiostore-option needs KEY=VALUE, got {pair!r}")
        options[key.strip()] = value.strip()
    return options


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    args = _parser().parse_args(argv)
    quick: bool = args.quick
    if args.repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    all_clients = sorted({c for clients in TARGET_CLIENTS.values() for c in clients})
    list_count = int(_pick(args.list_count, "list_count", quick))
    if args.count_instructions < 0:
        raise SystemExit("--count-instructions must be 0 (off) or more")
    if args.count_instructions > 0 and shutil.which("valgrind") is None:
        raise SystemExit("--count-instructions needs valgrind (Debian: apt-get install valgrind)")
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="aiostore-bench-"))
    return Settings(
        quick=quick,
        targets=_split(args.only, TARGETS, "target") or (),
        clients=_split(args.clients, all_clients, "client"),
        repeat=args.repeat,
        small_count=int(_pick(args.small_count, "small_count", quick)),
        object_size=args.object_size,
        concurrency=int(_pick(args.concurrency, "concurrency", quick)),
        large_size=int(_pick(args.large_mib, "large_mib", quick)) * MiB,
        part_size=args.part_mib * MiB,
        part_concurrency=args.part_concurrency,
        list_count=list_count,
        list_small_count=max(1, list_count // 10)
        if quick
        else min(list_count, max(_LIST_PAGE, list_count // 10)),
        fs_large_size=int(_pick(args.fs_large_mib, "fs_large_mib", quick)) * MiB,
        fs_small_count=int(_pick(args.fs_small_count, "fs_small_count", quick)),
        work_dir=work_dir.resolve(),
        out_dir=args.out_dir.resolve(),
        install_status=args.install_status,
        aiostore_options=_options(args.aiostore_option),
        worker_timeout=_pick(args.worker_timeout, "worker_timeout", quick),
        group_workloads=quick if args.group_workloads is None else args.group_workloads,
        keep=args.keep,
        own_work_dir=args.work_dir is None,
        pace_ops=args.pace_ops,
        pace_count=int(_pick(args.pace_count, "pace_count", quick)),
        counted_reps=min(args.count_instructions, args.repeat),
        counted_count=int(_pick(args.counted_count, "counted_count", quick)),
    )
