"""The small async interface every benchmarked client implements.

A client that cannot do an operation raises `Unsupported`; the worker then
reports that phase as skipped with the reason, instead of inventing a number.

Example:
    >>> client = make_client(job)
    >>> await client.setup()
    >>> await client.put("a", b"x" * 4096)
    >>> await client.teardown()
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from ..job import Job, Source

__all__ = ["Client", "Listed", "Sink", "Unsupported"]


class Unsupported(Exception):
    """This client has no way to do the operation (the message says why)."""


@dataclass(frozen=True)
class Listed:
    """What a listing returned: how many keys, and seconds until the first page was usable."""

    count: int
    first_page_s: float


class Sink:
    """A discard sink for downloads: counts bytes, keeps none."""

    def __init__(self) -> None:
        self.received = 0

    def write(self, data: bytes) -> int:
        self.received += len(data)
        return len(data)


class Client(abc.ABC):
    """One library driving one target, set up once per worker process."""

    #: How each large transfer is done, shown in the report under the tables.
    upload_method = ""
    download_method = ""

    def __init__(self, job: Job) -> None:
        self.job = job

    async def setup(self) -> None:
        """Open sessions and pools (not timed)."""

    async def teardown(self) -> None:
        """Close everything setup opened (not timed)."""

    async def prepare(self, keys: list[str]) -> None:
        """Per-key preparation outside the timed section (presigning, for instance)."""

    async def prepare_upload(self, source: Source) -> None:
        """Preparation of a large upload outside the timed section."""

    @abc.abstractmethod
    async def put(self, key: str, data: bytes) -> None: ...

    @abc.abstractmethod
    async def get(self, key: str) -> int:
        """Read the whole object; return its length."""

    @abc.abstractmethod
    async def head(self, key: str) -> int:
        """Return the object's size from its metadata."""

    @abc.abstractmethod
    async def delete(self, key: str) -> None: ...

    async def upload_large(self, key: str, source: Source) -> None:
        raise Unsupported("no streaming upload")

    async def download_large(self, key: str) -> int:
        """Stream the object into a discard sink; return the bytes received."""
        raise Unsupported("no streaming download")

    async def list(self, prefix: str) -> Listed:
        """List every key under ``prefix`` (recursively), page by page."""
        raise Unsupported("no listing")
