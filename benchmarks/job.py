"""What the orchestrator hands a worker (as JSON on its stdin), and the data sources.

Example:
    >>> job = Job(target="s3", client="obstore", workloads=["small"], bucket="bench", prefix="p/")
    >>> Job.from_json(job.to_json()) == job
    True
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CHUNK", "DEFAULT_TARGETS", "TARGETS", "MiB", "Job", "Source", "SourceFile"]

MiB = 1024 * 1024
CHUNK = MiB  # bytes per chunk handed to or taken from every client in large transfers

TARGETS = ("s3", "fs", "memory", "gcs", "azure", "moto")
#: what runs without ``--only``: ``moto`` is a control for the paced comparison (opt-in)
DEFAULT_TARGETS = ("s3", "fs", "memory", "gcs", "azure")
WORKLOADS = ("small", "paced", "counted", "upload", "download", "list")


@dataclass(frozen=True)
class Job:
    """One (target, client, workload, repetition) run.

    Attributes:
        target: ``s3``, ``gcs``, ``azure`` (a server), ``fs`` (a local directory), ``memory``,
            or ``moto`` (S3 on moto's server: a control, see `benchmarks.paced`).
        client: a name from `benchmarks.clients.CLIENTS`.
        workloads: among ``small``, ``paced``, ``counted``, ``upload``, ``download`` and ``list``,
            run in this order.
        server: what a client needs (endpoint, access_key, secret_key, region,
            connection_string); empty for fs and memory.
        bucket: the bucket or container; for fs the root directory.
        prefix: a key prefix unique to this run; the worker leaves nothing under it.
        count, object_size, concurrency: small ops: objects, bytes each, requests in flight.
        large_size, large_key: large transfers: bytes, and the seeded object downloads read.
        part_size, part_concurrency: multipart settings given to every client that has them.
        list_prefixes: prefix -> number of keys seeded there, listed in this order.
        pace_count, pace_ops: paced small ops: objects per op kind, requests started per second.
        counted_count: small ops counted under callgrind: objects per op kind.
        options: extra keyword options for ``aiostore.connect`` (strings).
    """

    target: str
    client: str
    workloads: list[str]
    bucket: str
    prefix: str
    server: dict[str, str] = field(default_factory=dict)
    count: int = 0
    object_size: int = 4096
    concurrency: int = 64
    large_size: int = 0
    large_key: str = ""
    part_size: int = 8 * MiB
    part_concurrency: int = 8
    list_prefixes: dict[str, int] = field(default_factory=dict)
    pace_count: int = 0
    pace_ops: float = 0.0
    counted_count: int = 0
    options: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Job:
        data: dict[str, Any] = json.loads(text)
        return cls(**data)

    def key(self, index: int) -> str:
        """The key of small object ``index`` under this run's prefix."""
        return f"{self.prefix}small/{index:07d}"


class Source:
    """``size`` bytes produced on the fly in ``CHUNK``-sized fresh ``bytes`` objects.

    Every chunk is a new copy of one random block, so a client that keeps chunks
    alive shows it in its RSS; the copies cost about 0.05 CPU s/GB for everyone.
    """

    def __init__(self, size: int, chunk: int = CHUNK) -> None:
        self.size = size
        self.chunk = chunk
        self._block = os.urandom(chunk)

    def sync_chunks(self) -> Iterator[bytes]:
        sent = 0
        while sent < self.size:
            n = min(self.chunk, self.size - sent)
            yield bytes(memoryview(self._block)[:n])  # a fresh copy every time
            sent += n

    async def chunks(self) -> AsyncIterator[bytes]:
        for chunk in self.sync_chunks():
            yield chunk

    def materialize(self) -> bytes:
        """The whole object as one buffer (for clients without a streaming writer)."""
        return b"".join(self.sync_chunks())


class SourceFile:
    """A read-only binary file object over a `Source` (for managed uploaders)."""

    def __init__(self, source: Source) -> None:
        self._chunks = source.sync_chunks()
        self._pending = b""

    def read(self, n: int = -1) -> bytes:
        parts = [self._pending]
        have = len(self._pending)
        while n < 0 or have < n:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            parts.append(chunk)
            have += len(chunk)
        data = b"".join(parts)
        if n < 0:
            self._pending = b""
            return data
        self._pending = data[n:]
        return data[:n]
