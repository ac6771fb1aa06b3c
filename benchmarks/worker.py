"""One benchmark run in its own process: ``python -m benchmarks.worker < job.json``.

The job comes as JSON on stdin (so no credential shows in a process listing);
the answer is one JSON line on stdout: ``{"phases": {...}, "errors": {workload: message}}``.
A workload that fails is reported and the next one still runs.
Only this process's CPU and memory are measured, so neither the server nor the
orchestrator is counted.
"""

from __future__ import annotations

import asyncio
import json
import sys
import traceback
from typing import Any

from .clients import make_client
from .job import Job
from .workloads import run_workload, warm_up

__all__ = ["main", "run_job"]


async def run_job(job: Job) -> dict[str, Any]:
    """Set up the client, warm it up, run each workload, tear down."""
    phases: dict[str, Any] = {}
    errors: dict[str, str] = {}
    client = make_client(job)
    await client.setup()
    try:
        await warm_up(client, job)
        for workload in job.workloads:
            try:
                phases.update(await run_workload(client, job, workload))
            except Exception as exc:  # recorded for this workload; the next one still runs
                traceback.print_exc(file=sys.stderr)
                errors[workload] = describe(exc)
    finally:
        await client.teardown()
    return {"phases": phases, "errors": errors}


def describe(exc: BaseException) -> str:
    """One line: the innermost useful exception and where it was raised."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    message = " ".join(f"{type(exc).__name__}: {exc}".split())
    return message[:400] + where


def main() -> int:
    job = Job.from_json(sys.stdin.read())
    try:
        answer = asyncio.run(run_job(job))
    except Exception as exc:  # setup or teardown failed: every workload is reported failed
        traceback.print_exc(file=sys.stderr)
        answer = {"phases": {}, "errors": dict.fromkeys(job.workloads, describe(exc))}
    sys.stdout.write(json.dumps(answer) + "\n")
    return 1 if answer["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
