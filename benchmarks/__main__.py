"""``python -m benchmarks [--quick] [--only s3,fs,...] [--repeat N]``: run, then write the report.

Writes ``results.md``, ``chart.png`` and ``results.json`` into ``--out-dir``
(``docs/benchmarks/`` by default). See ``docs/benchmarks/README.md``.
"""

from __future__ import annotations

import json
import shutil
import signal
import sys
import time
from types import FrameType

from .orchestrator import run
from .report import write_report
from .settings import parse_args


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    settings = parse_args()
    signal.signal(signal.SIGTERM, _interrupt)  # stop servers and workers on SIGTERM as on Ctrl-C
    started = time.monotonic()
    try:
        results = run(settings)
    except KeyboardInterrupt:
        print("interrupted: servers and workers stopped", file=sys.stderr)
        return 130
    finally:
        if settings.own_work_dir and not settings.keep:
            shutil.rmtree(settings.work_dir, ignore_errors=True)
    elapsed = time.monotonic() - started
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    (settings.out_dir / "results.json").write_text(json.dumps(results.to_json(), indent=1) + "\n")
    markdown, chart = write_report(results, settings, elapsed)
    print(f"wrote {markdown}" + (f" and {chart}" if chart else " (no chart: matplotlib missing)"))
    print(f"total {elapsed:.0f} s")
    return 0 if results.records and not any(r.errors for r in results.records) else 1


if __name__ == "__main__":
    raise SystemExit(main())
