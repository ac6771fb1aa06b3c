"""The adapter contract: the small set of async primitives an adapter implements.

The core (`aiostore.Store`) validates paths and arguments before calling in, so
an adapter receives checked, work-dir-relative paths (``"a/b.txt"``; directory
paths end with ``/``, ``""`` is the work dir) and owns the mapping to its keys.
The core builds everything else on top: streaming writers over segments,
recursive delete, move by copy+delete, statistics by listing, retries.

An adapter maps its SDK's exceptions to `aiostore.StorageError` subclasses at one
boundary and raises nothing else.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence
from typing import ClassVar

from ._errors import UnsupportedError
from ._gather import Gathered
from ._pieces import Pieces
from ._retry import TimeoutOptions
from ._types import (
    Capabilities,
    Limits,
    Object,
    Page,
    Part,
    Segment,
    Statistics,
    StoragerInfo,
    WriteOptions,
)

__all__ = ["Adapter", "ReadStream", "ServiceAdapter", "WriteStream", "read_to_end"]


class ReadStream(abc.ABC):
    """An open download. ``object`` describes what is being read: ``size`` is the
    whole object's size, ``etag``/``version`` pin it for resumed reads."""

    object: Object

    @abc.abstractmethod
    async def next_chunk(self) -> bytes:
        """The next chunk of data; ``b""`` at the end."""

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Release the connection or file; safe to call twice."""


async def read_to_end(stream: ReadStream) -> bytes:
    """Everything left in ``stream``, copied once into one ``bytes`` (`Gathered`); closes it."""
    gathered = Gathered()
    try:
        while chunk := await stream.next_chunk():
            gathered.add(chunk)
    finally:
        await stream.aclose()
    return gathered.value()


class WriteStream(abc.ABC):
    """An open streaming upload. Nothing is visible until `commit`; `abort` (or
    any failure) leaves nothing behind."""

    @abc.abstractmethod
    async def write(self, data: bytes | memoryview) -> None:
        """Append data. The caller may reuse its buffer once this returns."""

    @abc.abstractmethod
    async def commit(self) -> Object:
        """Make the object visible, atomically, and describe it."""

    @abc.abstractmethod
    async def abort(self) -> None:
        """Discard everything written; safe to call twice and after a failure."""


class Adapter(abc.ABC):
    """One storager: a bucket, container or directory plus a work dir.

    Subclasses set ``name`` (the registry name), ``capabilities`` and ``limits``.
    Resources (sessions, pools) are created lazily in `open`, inside the running
    loop, and released in `aclose`.
    """

    name: ClassVar[str] = "adapter"
    capabilities: Capabilities = Capabilities()
    limits: Limits = Limits()
    #: Set by the store before `open`; HTTP adapters apply ``timeouts.connect``.
    timeouts: TimeoutOptions = TimeoutOptions()
    #: Whether a large ``Store.read`` fetches ranges in parallel unless
    #: ``TransferOptions.parallel_reads`` says otherwise; needs ``if_match_read``.
    #: An adapter may settle it in `open` (read after it).
    parallel_reads: bool = False
    #: Adapters that keep an object's MD5 (to check whole reads against) set this: the
    #: core's uploader then hashes the parts in order and completes with
    #: `complete_segment_with_md5`.
    stores_content_md5: bool = False
    #: Adapters that send a part from several buffers set this and implement
    #: `write_segment_pieces`; the core then never joins a part for them.
    writes_pieces: ClassVar[bool] = False

    @property
    @abc.abstractmethod
    def storager_name(self) -> str:
        """The bucket, container or root directory name."""

    @property
    @abc.abstractmethod
    def work_dir(self) -> str:
        """The work dir as the user gave it, for `StorageMeta`."""

    async def open(self) -> None:
        """Create pooled resources; called by the core before the first operation."""

    async def aclose(self) -> None:
        """Release what `open` created; safe to call twice."""

    def _unsupported(self, op: str) -> UnsupportedError:
        return UnsupportedError(f"{self.name} does not support {op}", op=op, adapter=self.name)

    # -- required primitives -------------------------------------------------
    @abc.abstractmethod
    async def stat(self, path: str) -> Object:
        """Describe an object; `NotFoundError` when missing."""

    @abc.abstractmethod
    async def open_read(
        self, path: str, *, offset: int, size: int | None, if_match: str | None = None
    ) -> ReadStream:
        """Start reading ``size`` bytes (all when None) from ``offset``.

        ``offset == object size`` reads nothing; past the end is `InvalidOffsetError`.
        ``if_match`` pins the etag: a changed object gives `ConditionNotMetError`.
        """

    async def open_covered_read(
        self, path: str, *, offset: int, size: int | None, if_match: str
    ) -> ReadStream:
        """`open_read` of a range pinned to ``if_match`` whose bytes the caller checks
        against the whole object's checksum, taken over from an earlier stream of the
        same version (a parallel read's ranges, a resumed read).

        An adapter may skip a per-request check that would only repeat that one, such
        as Azure's transactional MD5, which also caps a GET at 4 MiB. By default this
        is `open_read`.
        """
        return await self.open_read(path, offset=offset, size=size, if_match=if_match)

    @abc.abstractmethod
    async def write_once(self, path: str, data: bytes | memoryview, options: WriteOptions) -> Object:
        """Replace the object with ``data`` in one request, atomically."""

    @abc.abstractmethod
    async def delete(self, path: str) -> None:
        """Delete one object; deleting a missing object succeeds."""

    @abc.abstractmethod
    async def list_page(self, directory: str, *, recursive: bool, page_size: int, token: str | None) -> Page:
        """One page of the objects under ``directory`` (a dir path).

        One level (``recursive=False``) yields sub-directories as `ObjectType.DIR`
        entries whose path ends with ``/``. ``next_token`` is None on the last page.
        """

    # -- optional primitives: the core falls back or raises UnsupportedError --
    async def read_bytes(self, path: str, *, offset: int, size: int | None) -> bytes:
        """Read a range into memory; override when the adapter can do it cheaper."""
        return await read_to_end(await self.open_read(path, offset=offset, size=size))

    async def open_write(
        self, path: str, options: WriteOptions, *, size_hint: int | None, part_size: int, concurrency: int
    ) -> WriteStream | None:
        """A native streaming writer, or None to let the core drive segments."""
        return None

    async def delete_many(self, paths: Sequence[str]) -> None:
        """Delete several objects (missing ones succeed); the core batches by ``limits``."""
        for path in paths:
            await self.delete(path)

    async def copy(self, src: str, dst: str) -> None:
        """Server-side copy replacing ``dst``; `NotFoundError` if ``src`` is missing."""
        raise self._unsupported("copy")

    async def move(self, src: str, dst: str) -> None:
        """Native move; the default lets the core copy then delete."""
        raise self._unsupported("move")

    async def reach(self, path: str, *, expires: float, method: str) -> str:
        """A URL anyone can use with ``method`` until ``expires`` seconds pass."""
        raise self._unsupported("reach")

    async def statistical(self) -> Statistics | None:
        """Count and size under the work dir, or None to let the core list."""
        return None

    async def init_segment(self, path: str, options: WriteOptions) -> Segment:
        raise self._unsupported("init_segment")

    async def write_segment(self, segment: Segment, index: int, data: bytes | memoryview) -> Part:
        """Upload part ``index`` (0-based); writing an index again replaces it."""
        raise self._unsupported("write_segment")

    async def write_segment_pieces(self, segment: Segment, index: int, pieces: Pieces) -> Part:
        """`write_segment` of bytes held in several buffers, sent without joining them
        (only called when ``writes_pieces`` is set)."""
        raise self._unsupported("write_segment_pieces")

    async def complete_segment(
        self, segment: Segment, parts: Sequence[Part] | None, options: WriteOptions
    ) -> Object:
        """Join the parts in index order (all uploaded parts when ``parts`` is None)."""
        raise self._unsupported("complete_segment")

    async def complete_segment_with_md5(
        self, segment: Segment, parts: Sequence[Part], options: WriteOptions, content_md5: bytes
    ) -> Object:
        """`complete_segment`, storing ``content_md5`` (the raw MD5 of the whole object,
        parts joined) as the object's MD5; called only when `stores_content_md5` is set."""
        return await self.complete_segment(segment, parts, options)

    async def abort_segment(self, segment: Segment) -> None:
        """Discard the upload and every part; aborting twice succeeds."""
        raise self._unsupported("abort_segment")

    def list_segments(self, directory: str) -> AsyncIterator[Segment]:
        """Uploads in progress under ``directory``."""
        raise self._unsupported("list_segments")


class ServiceAdapter(abc.ABC):
    """Manages storagers (buckets, containers); storagers it hands out share its
    session and are closed by the service, not by themselves."""

    name: ClassVar[str] = "adapter"
    #: Set by the service before `open`; HTTP adapters apply ``timeouts.connect``.
    timeouts: TimeoutOptions = TimeoutOptions()

    async def open(self) -> None:
        """Create the shared session lazily."""

    async def aclose(self) -> None:
        """Close the shared session; safe to call twice."""

    @abc.abstractmethod
    def list(self) -> AsyncIterator[StoragerInfo]:
        """Every storager visible to the credentials, fetched page by page."""

    @abc.abstractmethod
    async def exists(self, name: str) -> bool:
        """Whether the storager exists."""

    @abc.abstractmethod
    async def create(self, name: str) -> None:
        """Create it; `AlreadyExistsError` if it exists."""

    @abc.abstractmethod
    async def delete(self, name: str) -> None:
        """Delete an empty storager; `StoragerNotFoundError` if missing."""

    @abc.abstractmethod
    def storager(self, name: str, work_dir: str) -> Adapter:
        """An adapter for one storager sharing this service's session (no I/O)."""
