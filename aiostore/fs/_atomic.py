"""Atomic replacement: write a hidden temporary file, then rename it into place.

`Staged` is one such temporary file. `publish` stores the content type and
metadata on it, optionally fsyncs, and installs it under the final name: with
`os.replace`, or for ``if_not_exists`` with `os.link` (which fails if the name
exists, so of many concurrent creators exactly one wins). `discard` removes it
and prunes the directories that became empty. Every method blocks.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Mapping

from .._errors import AlreadyExistsError, StorageError
from .._types import Object
from ._hop import ADAPTER, Flag
from ._meta import describe, write_meta
from ._root import Root

__all__ = ["Staged", "copy_fd", "pwritev_all", "write_all"]

_COPY_CHUNK = 8 * 1024 * 1024
_IOV_MAX = 1024  # POSIX guarantees 16; Linux takes 1024 buffers per writev
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS})
_NO_FAST_COPY = frozenset({errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP})


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """``os.write`` until every byte is written (one call, unless the kernel writes less)."""
    written = os.write(fd, data)
    if written < (data.nbytes if isinstance(data, memoryview) else len(data)):
        view = memoryview(data).cast("B")[written:]
        while view:
            view = view[os.write(fd, view) :]


def pwritev_all(fd: int, buffers: list[memoryview], offset: int) -> None:
    """``os.pwritev`` at ``offset`` until every byte of every (non-empty) buffer is written."""
    first = 0
    while first < len(buffers):
        written = os.pwritev(fd, buffers[first : first + _IOV_MAX], offset)
        offset += written
        while written:
            size = buffers[first].nbytes
            if written < size:
                buffers[first] = buffers[first][written:]
                break
            written -= size
            first += 1


def copy_fd(src: int, dst: int) -> None:
    """Copy the rest of ``src`` to ``dst``: in the kernel where it can, else by chunks."""
    if hasattr(os, "copy_file_range"):
        try:
            while os.copy_file_range(src, dst, _COPY_CHUNK):
                pass
            return
        except OSError as exc:
            if exc.errno not in _NO_FAST_COPY:
                raise
    while chunk := os.read(src, _COPY_CHUNK):
        write_all(dst, chunk)


def _refuse_cancelled() -> None:
    raise StorageError("cancelled before the object became visible", adapter=ADAPTER)


class Staged:
    """A hidden temporary file in the same directory as ``final`` (created with O_EXCL)."""

    __slots__ = ("_fsync", "_xattrs", "fd", "final", "root", "tmp")

    def __init__(self, root: Root, final: str, *, xattrs: bool, fsync: bool) -> None:
        self.root = root
        self.final = final
        self.tmp = root.temp_for(final)
        self._xattrs = xattrs
        self._fsync = fsync
        self.fd = root.create_exclusive(self.tmp)

    def publish(
        self,
        key: str,
        content_type: str | None,
        metadata: Mapping[str, str],
        *,
        if_not_exists: bool,
        cancel: Flag | None = None,
    ) -> Object:
        """Make the file visible as ``final`` and describe it; on any failure, discard."""
        fd = self.fd
        try:
            given = bool(content_type or metadata)
            stored = given and self._xattrs and write_meta(fd, content_type, metadata)
            if self._fsync:
                os.fsync(fd)
            st = os.fstat(fd)
            self.fd = -1
            os.close(fd)
            if cancel is not None and cancel.is_set():
                _refuse_cancelled()
            if if_not_exists:
                self._install_new(key)
            else:
                os.replace(self.tmp, self.final)
        except BaseException:
            self.discard()
            raise
        if self._fsync:
            Root.fsync_dir(os.path.dirname(self.final))
        return describe(key, st, (content_type, dict(metadata)) if stored else (None, {}))

    def discard(self) -> None:
        """Close and remove the temporary file; safe to call twice."""
        with contextlib.suppress(OSError):
            self._close()
        with contextlib.suppress(OSError):
            os.unlink(self.tmp)
        self.root.prune(os.path.dirname(self.tmp))

    def _close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)

    def _install_new(self, key: str) -> None:
        """Link the file in under ``final`` unless that name exists already."""
        try:
            os.link(self.tmp, self.final)
        except FileExistsError:
            raise self._exists(key) from None
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            self._install_exclusive(key)
            return
        with contextlib.suppress(OSError):
            os.unlink(self.tmp)

    def _install_exclusive(self, key: str) -> None:
        """Without hard links: claim the name with O_EXCL, then rename over the claim."""
        try:
            os.close(os.open(self.final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            raise self._exists(key) from None
        try:
            os.replace(self.tmp, self.final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(self.final)
            raise

    def _exists(self, key: str) -> Exception:
        if os.path.isdir(self.final):
            return IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        return self.already_exists(key)

    @staticmethod
    def already_exists(key: str) -> AlreadyExistsError:
        return AlreadyExistsError(f"{key!r} already exists", path=key, adapter=ADAPTER)
