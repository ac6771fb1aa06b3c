"""The blocking side of the fs adapter: each public method is one whole operation,
run by the adapter in a single thread hop (resolve, open, read or write, rename,
describe), so a small operation costs one hop, not one per system call."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from .._errors import ConditionNotMetError, InvalidOffsetError, NotFoundError
from .._types import Object, WriteOptions
from ._atomic import Staged, copy_fd, write_all
from ._hop import ADAPTER, Flag, os_errors
from ._meta import Meta, describe, probe, read_meta
from ._root import Root

__all__ = ["FileOps", "Settings"]

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)


class Settings:
    """What the blocking helpers share; ``xattrs`` is None until probed."""

    def __init__(self, root: Root, *, fsync: bool, chunk_size: int, xattrs: bool | None) -> None:
        self.root = root
        self.fsync = fsync
        self.chunk_size = chunk_size
        self.xattrs = xattrs

    def use_xattrs(self) -> bool:
        if self.xattrs is None:
            self.xattrs = probe(self.root.real)
        return self.xattrs

    def staged(self, final: str) -> Staged:
        return Staged(self.root, final, xattrs=self.use_xattrs(), fsync=self.fsync)

    def meta(self, target: int | str) -> Meta:
        return read_meta(target) if self.use_xattrs() else (None, {})


class FileOps:
    """Whole operations on files under the root; every method blocks."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.root

    # -- reading ----------------------------------------------------------------
    def stat(self, key: str) -> Object:
        real = self.root.resolve(key, op="stat")
        st = os.stat(real)
        _require_file(st, key)
        return describe(key, st, self.settings.meta(real))

    def read(self, key: str, offset: int, size: int | None) -> bytes:
        fd, st = self._open_file(key, "read")
        try:
            return _pread_all(fd, _span(key, st.st_size, offset, size), offset)
        finally:
            os.close(fd)

    def open_read(
        self, key: str, offset: int, size: int | None, if_match: str | None
    ) -> tuple[BinaryIO, Object, int]:
        """An open file positioned at ``offset``, its description, and the bytes to read."""
        fd, st = self._open_file(key, "read")
        try:
            obj = describe(key, st, self.settings.meta(fd))
            _check_etag(obj, if_match)
            length = _span(key, st.st_size, offset, size)
            file = open(fd, "rb", closefd=True)  # noqa: SIM115 - the read stream closes it
        except BaseException:
            os.close(fd)
            raise
        with _closing_on_error(file):
            file.seek(offset)
        return file, obj, length

    def _open_file(self, key: str, op: str) -> tuple[int, os.stat_result]:
        real = self.root.resolve(key, op=op)
        try:
            fd = os.open(real, _READ_FLAGS)
        except (NotADirectoryError, IsADirectoryError) as exc:
            raise NotFoundError(f"{key!r} is not an object", path=key, adapter=ADAPTER) from exc
        try:
            st = os.fstat(fd)
            _require_file(st, key)
        except BaseException:
            os.close(fd)
            raise
        return fd, st

    # -- writing ----------------------------------------------------------------
    def write(self, key: str, data: bytes | memoryview, options: WriteOptions, cancel: Flag) -> Object:
        staged = self.open_write(key, options)
        try:
            write_all(staged.fd, data)
        except BaseException:
            staged.discard()
            raise
        return staged.publish(
            key, options.content_type, options.metadata, if_not_exists=options.if_not_exists, cancel=cancel
        )

    def open_write(self, key: str, options: WriteOptions) -> Staged:
        """A temporary file for ``key``, open for writing."""
        final = self.root.resolve(key, op="write")
        if options.if_not_exists and os.path.isfile(final):
            raise Staged.already_exists(key)
        return self.settings.staged(final)

    # -- changing ---------------------------------------------------------------
    def delete(self, key: str) -> None:
        real = self.root.resolve(key, op="delete")
        try:
            os.unlink(real)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return
        except PermissionError:
            if os.path.isdir(real):  # some systems say EPERM for a directory
                return
            raise
        self.root.prune(os.path.dirname(real))

    def delete_many(self, keys: Sequence[str]) -> None:
        for key in keys:
            with os_errors("delete", key):
                self.delete(key)

    def copy(self, src: str, dst: str, cancel: Flag) -> None:
        real_dst = self.root.resolve(dst, op="copy")
        fd, _ = self._open_file(src, "copy")
        try:
            content_type, metadata = self.settings.meta(fd)
            with os_errors("copy", dst):
                staged = self.settings.staged(real_dst)
                with _discarding_on_error(staged):
                    copy_fd(fd, staged.fd)
                staged.publish(dst, content_type, metadata, if_not_exists=False, cancel=cancel)
        finally:
            os.close(fd)

    def move(self, src: str, dst: str) -> None:
        real_src = self.root.resolve(src, op="move")
        real_dst = self.root.resolve(dst, op="move")
        _require_file(self._stat_source(real_src, src), src)
        if real_src == real_dst:
            return
        target_dir = os.path.dirname(real_dst)
        try:
            with os_errors("move", dst):
                self.root.retry_in_dir(target_dir, lambda: self._rename(real_src, real_dst, src, dst))
        except BaseException:
            self.root.prune(target_dir)  # the parents made for nothing
            raise
        self.root.prune(os.path.dirname(real_src))
        if self.settings.fsync:
            Root.fsync_dir(target_dir)

    @staticmethod
    def _stat_source(real: str, key: str) -> os.stat_result:
        try:
            return os.stat(real)
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise NotFoundError(f"{key!r} does not exist", path=key, adapter=ADAPTER) from exc

    def _rename(self, real_src: str, real_dst: str, src: str, dst: str) -> None:
        try:
            os.replace(real_src, real_dst)
        except FileNotFoundError:
            if not os.path.lexists(real_src):
                raise NotFoundError(f"{src!r} does not exist", path=src, adapter=ADAPTER) from None
            raise
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            self.copy(src, dst, Flag())
            os.unlink(real_src)


def _check_etag(obj: Object, if_match: str | None) -> None:
    if if_match is not None and obj.etag != if_match:
        message = f"{obj.path!r} changed since it was first read"
        raise ConditionNotMetError(message, path=obj.path, adapter=ADAPTER)


def _require_file(st: os.stat_result, key: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise NotFoundError(f"{key!r} is not an object (not a regular file)", path=key, adapter=ADAPTER)


def _span(key: str, total: int, offset: int, size: int | None) -> int:
    """How many bytes a read of ``size`` at ``offset`` covers."""
    if offset > total:
        raise InvalidOffsetError(
            f"offset {offset} is past the end of the object ({total} bytes)", path=key, adapter=ADAPTER
        )
    left = total - offset
    return left if size is None else min(size, left)


def _pread_all(fd: int, length: int, offset: int) -> bytes:
    data = os.pread(fd, length, offset)
    if len(data) == length or not data:
        return data
    parts = [data]
    done = len(data)
    while done < length and (chunk := os.pread(fd, length - done, offset + done)):
        parts.append(chunk)
        done += len(chunk)
    return b"".join(parts)


@contextlib.contextmanager
def _closing_on_error(file: BinaryIO) -> Iterator[None]:
    try:
        yield
    except BaseException:
        file.close()
        raise


@contextlib.contextmanager
def _discarding_on_error(staged: Staged) -> Iterator[None]:
    try:
        yield
    except BaseException:
        staged.discard()
        raise
