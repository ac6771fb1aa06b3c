"""`FsAdapter`: the adapter contract on local files, one thread hop per operation."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Sequence
from typing import BinaryIO, ClassVar

from .._adapter import Adapter, ReadStream, WriteStream
from .._types import Capabilities, Limits, Object, Page, Part, Segment, Statistics, WriteOptions
from . import _pool
from ._atomic import Staged
from ._hop import Flag, run_io
from ._io import FileOps, Settings
from ._listing import list_page, statistics
from ._options import FsOptions, MiB
from ._root import Root
from ._segments import SegmentOps
from ._streams import FsReadStream, FsWriteStream

__all__ = ["CAPABILITIES", "FsAdapter"]

CAPABILITIES = Capabilities(
    segments=True,
    list_segments=True,
    if_not_exists=True,
    if_match_read=True,
    statistical=True,
    service=True,
    reach=False,
)
_WITHOUT_XATTRS = dataclasses.replace(CAPABILITIES, content_type=False, user_metadata=False)


class FsAdapter(Adapter):
    """Objects are files under a root directory; nothing outside it is ever touched.

    Writes go to a hidden temporary file renamed into place, so a reader sees the
    old or the new content, never a mix; content types and user metadata live in
    extended attributes where the file system has them.

    Example:
        >>> async with aiostore.connect("fs:///srv/data") as store:
        ...     await store.write("a/b.txt", b"hi")
        >>> aiostore.connect("fs", work_dir="data", fsync=True)   # relative to the cwd
    """

    name: ClassVar[str] = "fs"
    capabilities = CAPABILITIES
    limits = Limits(
        min_segment_size=1,
        max_segment_size=64 * 1024**3,
        max_segments=10_000,
        max_single_write=5 * 1024**3,
        max_page_size=10_000,
    )

    def __init__(
        self,
        work_dir: str | os.PathLike[str] = ".",
        *,
        fsync: bool = False,
        chunk_size: int = MiB,
        xattrs: bool | None = None,
        storager: tuple[str, str] | None = None,
    ) -> None:
        """``storager`` is (name, work dir) when a `FsService` hands the adapter out."""
        options = FsOptions.parse(
            {"work_dir": work_dir, "fsync": fsync, "chunk_size": chunk_size, "xattrs": xattrs}
        )
        self.options = options
        root = Root(options.work_dir)
        self._settings = Settings(root, fsync=options.fsync, chunk_size=options.chunk_size, xattrs=xattrs)
        self._files = FileOps(self._settings)
        self._segments = SegmentOps(self._settings)
        default = (os.path.basename(root.lexical) or root.lexical, root.lexical)
        self._name, self._work_dir = storager or default
        if xattrs is False:
            self.capabilities = _WITHOUT_XATTRS
        self._pooled = False

    def __repr__(self) -> str:
        return f"<FsAdapter root={self._settings.root.lexical!r}>"

    @property
    def storager_name(self) -> str:
        return self._name

    @property
    def work_dir(self) -> str:
        return self._work_dir

    @property
    def root(self) -> str:
        """The absolute root directory."""
        return self._settings.root.lexical

    async def open(self) -> None:
        """Start using the loop's thread pool; resolve the root and probe once whether
        its file system keeps xattrs."""
        if not self._pooled:
            _pool.acquire()
            self._pooled = True
        xattrs = await run_io("open", None, self._probe)
        self.capabilities = CAPABILITIES if xattrs else _WITHOUT_XATTRS

    async def aclose(self) -> None:
        """Stop using the thread pool (the last store of a loop retires it)."""
        if self._pooled:
            self._pooled = False
            _pool.release()

    def _probe(self) -> bool:
        return bool(self._settings.root.real) and self._settings.use_xattrs()

    # -- reading ----------------------------------------------------------------
    async def stat(self, path: str) -> Object:
        return await run_io("stat", path, self._files.stat, path)

    async def open_read(
        self, path: str, *, offset: int, size: int | None, if_match: str | None = None
    ) -> ReadStream:
        file, obj, length = await run_io(
            "read", path, self._files.open_read, path, offset, size, if_match, undo=_close_file
        )
        return FsReadStream(file, obj, length, self._settings.chunk_size)

    async def read_bytes(self, path: str, *, offset: int, size: int | None) -> bytes:
        return await run_io("read", path, self._files.read, path, offset, size)

    async def list_page(self, directory: str, *, recursive: bool, page_size: int, token: str | None) -> Page:
        return await run_io("list", directory, self._list, directory, recursive, page_size, token)

    def _list(self, directory: str, recursive: bool, page_size: int, token: str | None) -> Page:
        root = self._settings.root
        return list_page(root, directory, recursive=recursive, page_size=page_size, token=token)

    async def statistical(self) -> Statistics:
        return await run_io("statistical", None, statistics, self._settings.root)

    # -- writing ----------------------------------------------------------------
    async def write_once(self, path: str, data: bytes | memoryview, options: WriteOptions) -> Object:
        cancel = Flag()
        return await run_io("write", path, self._files.write, path, data, options, cancel, cancel=cancel)

    async def open_write(
        self, path: str, options: WriteOptions, *, size_hint: int | None, part_size: int, concurrency: int
    ) -> WriteStream:
        staged = await run_io("write", path, self._files.open_write, path, options, undo=Staged.discard)
        return FsWriteStream(
            staged,
            path,
            content_type=options.content_type,
            metadata=options.metadata,
            if_not_exists=options.if_not_exists,
            chunk_size=self._settings.chunk_size,
        )

    async def delete(self, path: str) -> None:
        await run_io("delete", path, self._files.delete, path)

    async def delete_many(self, paths: Sequence[str]) -> None:
        await run_io("delete", None, self._files.delete_many, list(paths))

    async def copy(self, src: str, dst: str) -> None:
        cancel = Flag()
        await run_io("copy", src, self._files.copy, src, dst, cancel, cancel=cancel)

    async def move(self, src: str, dst: str) -> None:
        await run_io("move", src, self._files.move, src, dst)

    # -- segments ---------------------------------------------------------------
    async def init_segment(self, path: str, options: WriteOptions) -> Segment:
        return await run_io("init_segment", path, self._segments.init, path, options)

    async def write_segment(self, segment: Segment, index: int, data: bytes | memoryview) -> Part:
        return await run_io("write_segment", segment.path, self._segments.write, segment, index, data)

    async def complete_segment(
        self, segment: Segment, parts: Sequence[Part] | None, options: WriteOptions
    ) -> Object:
        cancel = Flag()
        return await run_io(
            "complete_segment",
            segment.path,
            self._segments.complete,
            segment,
            parts,
            options,
            cancel,
            cancel=cancel,
        )

    async def abort_segment(self, segment: Segment) -> None:
        await run_io("abort_segment", segment.path, self._segments.abort, segment)

    async def list_segments(self, directory: str) -> AsyncIterator[Segment]:
        for segment in await run_io("list_segments", directory, self._segments.list, directory):
            yield segment


def _close_file(opened: tuple[BinaryIO, Object, int]) -> None:
    opened[0].close()
