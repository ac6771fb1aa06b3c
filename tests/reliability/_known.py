"""Gaps the reliability proof found and reported, each with an id used in docs/reliability.md.

The fault matrix notes a problem covered here instead of failing, so the suite
stays green while a fix is pending; ``test_rel_known.py`` keeps one small test
per fixable gap (xfail until the fix lands, then it passes and the entry goes).
Limitations of a service (not bugs) stay here for good, and are documented.
"""

from __future__ import annotations

import dataclasses

__all__ = ["KNOWN", "Known", "known"]


@dataclasses.dataclass(frozen=True)
class Known:
    """Problems of ``scenarios`` under faults whose label starts with one of ``specs``
    on ``backends`` (all when empty) whose text contains ``text``."""

    id: str
    backends: tuple[str, ...]
    scenarios: tuple[str, ...]
    specs: tuple[str, ...]
    text: str
    reason: str

    def covers(self, backend: str, scenario: str, spec: str, problem: str) -> bool:
        return (
            (not self.backends or backend in self.backends)
            and scenario in self.scenarios
            and spec.startswith(self.specs)
            and self.text in problem
        )


KNOWN: tuple[Known, ...] = (
    Known(
        "L1-ranges-have-no-checksum", ("s3-seaweedfs", "s3-moto", "gcs"), ("read_range",), ("flip",),
        "wrong result: ranged",
        "limitation: S3 and GCS return no checksum for a byte range (Azure returns a per-range MD5); "
        "TLS protects ranges in transit",
    ),
)  # fmt: skip


def known(backend: str, scenario: str, spec: str, problem: str) -> Known | None:
    """The entry covering this problem, if any."""
    return next((k for k in KNOWN if k.covers(backend, scenario, spec, problem)), None)
