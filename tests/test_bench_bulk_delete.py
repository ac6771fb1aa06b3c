"""`python -m benchmarks.bulk_delete` end to end on a tiny run: it starts SeaweedFS,
deletes with every way it knows, checks nothing is left, and prints one row per way."""

from __future__ import annotations

import re

import pytest

from benchmarks.bulk_delete import main

_MEASURED = re.compile(r"^\| (?P<way>[^|]+) \| \d+ \[\d+-\d+\] \| [\d.]+ \| [\d.]+x \|$")


def test_a_tiny_run_prints_a_row_for_every_way(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--count", "5", "--repeat", "1"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| way (5 keys) |")
    rows = lines[2:]
    measured = [match["way"] for line in rows if (match := _MEASURED.match(line))]
    assert measured[:3] == [
        "aiostore: store.delete per key, 64 in flight",
        "aiostore: store.delete_many(keys)",
        "aiostore: store.delete(prefix, recursive=True)",
    ]
    assert any(way.startswith("aiobotocore:") for way in measured)
    for name in ("obstore", "s3fs"):  # measured, or named as missing: never dropped
        assert any(line.startswith(f"| {name}") for line in rows), name
    assert len(rows) == 6


def test_counts_below_one_are_refused() -> None:
    with pytest.raises(SystemExit):
        main(["--count", "0"])
