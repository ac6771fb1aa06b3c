"""Run every (target, workload, client, repetition) in a worker process and collect the answers.

Targets run one after another, each with only its own server alive (two cores
are shared by the server and the client). Within a repetition each workload
runs every client in turn, and the order of clients rotates from one
repetition to the next, so no client always goes first or last. A client that
fails a workload once is not run on it again; the error is reported.

Example:
    >>> results = run(parse_args(["--quick", "--only", "fs"]))
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .clients import TARGET_CLIENTS, missing_modules
from .counted import OUT_ENV, valgrind_command
from .job import Job
from .measure import idle_wake_cpu_us
from .settings import REPO, Settings
from .stats import METRICS, Record, Results
from .targets import TargetEnv, mount_of, open_target, warm_server

__all__ = ["WORKLOADS_BY_TARGET", "install_failures", "run"]

#: Downloads first: when one worker runs every workload (--group-workloads), memory the
#: allocator kept from an earlier phase would hide part of a later phase's RSS growth,
#: and a streamed download leaves the least behind.
WORKLOADS_BY_TARGET = {
    "s3": ("download", "upload", "small", "paced", "list", "counted"),
    "gcs": ("download", "upload", "small", "paced", "list", "counted"),
    "azure": ("download", "upload", "small", "paced", "list", "counted"),
    "fs": ("download", "upload", "small"),
    "memory": ("small",),
    "moto": ("small", "paced", "counted"),
}
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
#: pip distribution names behind each import name, to find install failures
_DISTRIBUTIONS = {
    "aiostore_s3": "aiostore-s3",
    "aiostore_gcs": "aiostore-gcs",
    "aiostore_azblob": "aiostore-azblob",
}


def install_failures(settings: Settings) -> dict[str, str]:
    """Distribution -> pip's reason, from the TSV ``benchmarks/run`` writes."""
    failures: dict[str, str] = {}
    path = settings.install_status
    if path is None or not path.is_file():
        return failures
    for line in path.read_text(encoding="utf-8").splitlines():
        name, _, rest = line.partition("\t")
        status, _, detail = rest.partition("\t")
        if status != "ok":
            failures[name] = detail or status
    return failures


def _available(target: str, settings: Settings, results: Results) -> list[str]:
    failures = install_failures(settings)
    chosen = []
    for client in TARGET_CLIENTS[target]:
        if settings.clients is not None and client not in settings.clients:
            continue
        missing = missing_modules(client, target)
        if missing:
            dists = [_DISTRIBUTIONS.get(m, m.split(".")[0]) for m in missing]
            reasons = [f"{d}: {failures[d]}" for d in dists if d in failures]
            results.unavailable[target, client] = "not installed: " + (
                "; ".join(reasons) or ", ".join(missing)
            )
            continue
        chosen.append(client)
    return chosen


def _worker_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _PROXY_VARIABLES and not k.startswith("AWS_")}
    env.update(
        NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost", AWS_EC2_METADATA_DISABLED="true"
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


#: a worker under callgrind runs some 50x slower; its imports alone take about a minute here
_COUNTED_TIMEOUT = 900.0


def _run_worker(job: Job, rep: int, timeout: float) -> Record:
    """Run one worker process and turn its answer (or its death) into a record.

    The ``counted`` workload runs alone in its worker, under callgrind (`benchmarks.counted`).
    """
    if job.workloads != ["counted"]:
        return _answer(job, rep, [], _worker_env(), timeout)
    with tempfile.TemporaryDirectory(prefix="aiostore-callgrind-") as dumps:
        out = Path(dumps) / "callgrind.out"
        env = {**_worker_env(), OUT_ENV: str(out)}
        return _answer(job, rep, valgrind_command(out), env, max(timeout, _COUNTED_TIMEOUT))


def _answer(job: Job, rep: int, prefix: list[str], env: dict[str, str], timeout: float) -> Record:
    record = Record(job.target, job.client, rep, job.workloads)
    try:
        done = subprocess.run(
            [*prefix, sys.executable, "-m", "benchmarks.worker"],
            input=job.to_json(), capture_output=True, text=True, timeout=timeout, cwd=REPO,
            env=env, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        record.errors = dict.fromkeys(job.workloads, f"worker timed out after {timeout:.0f} s")
        return record
    lines = done.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = " ".join(done.stderr.strip().splitlines()[-3:])
        error = f"worker exited {done.returncode} without an answer: {tail[:400]}"
        record.errors = dict.fromkeys(job.workloads, error)
        return record
    record.phases, record.errors = answer["phases"], answer["errors"]
    return record


def _job(env: TargetEnv, settings: Settings, workloads: list[str], client: str, rep: int) -> Job:
    return Job(
        target=env.name, client=client, workloads=workloads, bucket=env.bucket_for(workloads),
        prefix=f"runs/{client}/r{rep}/", server=env.server, count=env.small_count,
        object_size=settings.object_size, concurrency=settings.concurrency, large_size=env.large_size,
        large_key=env.large_key, part_size=settings.part_size, part_concurrency=settings.part_concurrency,
        list_prefixes=env.list_prefixes, pace_count=settings.pace_count, pace_ops=settings.pace_ops,
        counted_count=settings.counted_count,
        options=settings.aiostore_options if client == "aiostore" else {},
    )  # fmt: skip


def _describe(record: Record) -> str:
    parts = [f"{workload} FAILED: {error}" for workload, error in record.errors.items()]
    for name, data in record.phases.items():
        if "skipped" in data:
            parts.append(f"{name} skipped")
            continue
        if name.startswith("counted_"):
            parts.append(f"{name} {METRICS['kinstr_op'](data) or 0:.0f}k instructions/op")
        elif name.startswith("paced_"):
            parts.append(f"{name} {METRICS['cpu_ms_op'](data) or 0:.2f} ms CPU/op at "
                         f"{METRICS['ops_s'](data) or 0:.0f} ops/s")  # fmt: skip
        elif name in ("upload", "download"):
            parts.append(f"{name} {METRICS['mb_s'](data) or 0:.0f} MB/s")
        elif name.startswith("list"):
            parts.append(f"{name} {METRICS['first_page_ms'](data) or 0:.0f} ms to 1st page")
        else:
            parts.append(f"{name} {METRICS['cpu_ms_op'](data) or 0:.2f} ms CPU/op")
    return ", ".join(parts)


def _rotated(clients: list[str], rep: int) -> list[str]:
    shift = rep % len(clients)
    return clients[shift:] + clients[:shift]


def _batches(target: str, settings: Settings, rep: int) -> list[list[str]]:
    """Workloads per worker: all in one (grouped) or one each; ``paced`` and ``counted`` only
    when asked for, and ``counted`` always in a worker of its own (it runs under callgrind)."""
    wanted = {"paced": settings.paced, "counted": settings.counts(rep)}
    workloads = [w for w in WORKLOADS_BY_TARGET[target] if wanted.get(w, True)]
    if not settings.group_workloads:
        return [[workload] for workload in workloads]
    grouped = [w for w in workloads if w != "counted"]
    return [batch for batch in (grouped, ["counted"] if "counted" in workloads else []) if batch]


def _todo(results: Results, target: str, batch: list[str], client: str) -> list[str]:
    """The batch's workloads this client still runs (paced and counted: aiostore only)."""
    return [
        w for w in batch
        if (w not in ("paced", "counted") or client == "aiostore") and not results.error(target, w, client)
    ]  # fmt: skip


class OutOfRoom(RuntimeError):
    """The work dir (or, on tmpfs, memory) cannot take another large upload."""


def _available_memory() -> int:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return sys.maxsize


def check_room(settings: Settings) -> None:
    """Stop before an upload that would fill the work dir or, on tmpfs, the memory.

    A server may keep the space of deleted objects for the whole run (SeaweedFS
    does), so the room shrinks with every repetition. Raises `OutOfRoom`.
    """
    need = 3 * settings.large_size + 2 * 1024**3
    free = shutil.disk_usage(settings.work_dir).free
    in_memory = mount_of(settings.work_dir)[1] in ("tmpfs", "ramfs")
    memory = _available_memory() if in_memory else sys.maxsize
    if min(free, memory) < need:
        raise OutOfRoom(
            f"stopped before the next upload: {free / 1024**3:.1f} GiB free in {settings.work_dir}"
            + (f" and {memory / 1024**3:.1f} GiB of memory available" if in_memory else "")
            + f", under {need / 1024**3:.1f} GiB; "
            "the server keeps deleted objects' space, so use a work dir on disk or fewer repetitions"
        )


def _run_target(env: TargetEnv, clients: list[str], settings: Settings, results: Results) -> None:
    for rep in range(settings.repeat):
        for batch in _batches(env.name, settings, rep):
            for client in _rotated(clients, rep):
                todo = _todo(results, env.name, batch, client)
                if not todo:
                    continue
                if "upload" in todo:
                    check_room(settings)
                    warm_server(env, settings)
                os.sync()  # no client pays for the previous one's disk writeback
                started = time.monotonic()
                record = _run_worker(_job(env, settings, todo, client, rep), rep, settings.worker_timeout)
                results.add(record)
                took = time.monotonic() - started
                print(f"[{env.name} {'+'.join(todo)} {rep + 1}/{settings.repeat}] {client}: "
                      f"{_describe(record)} ({took:.1f} s)", flush=True)  # fmt: skip


@contextlib.contextmanager
def _target(name: str, settings: Settings) -> Iterator[TargetEnv]:
    with contextlib.ExitStack() as stack:
        yield open_target(name, settings, stack)


def run(settings: Settings) -> Results:
    """Run every selected target; servers are stopped even on errors and Ctrl-C."""
    results = Results(wake_us=idle_wake_cpu_us())
    for name in settings.targets:
        clients = _available(name, settings, results)
        if not clients:
            print(f"[{name}] skipped: no client available")
            continue
        print(f"[{name}] starting and seeding ({', '.join(clients)})", flush=True)
        try:
            with _target(name, settings) as env:
                results.labels[name] = env.server_label
                _run_target(env, clients, settings, results)
        except Exception as exc:  # a target that cannot start is reported, the others still run
            message = " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
            results.target_errors[name] = message
            print(f"[{name}] FAILED: {message}")
    return results
