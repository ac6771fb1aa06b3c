"""`FsService`: storagers are the sub-directories of a root directory."""

from __future__ import annotations

import builtins
import errno
import os
from collections.abc import AsyncIterator
from typing import ClassVar

from .. import _paths
from .._adapter import ServiceAdapter
from .._errors import InvalidArgumentError, PermissionDeniedError, StorageError, StoragerNotFoundError
from .._types import StoragerInfo
from . import _pool
from ._adapter import FsAdapter
from ._hop import ADAPTER, run_io
from ._options import FsOptions, MiB
from ._root import Root, is_listable

__all__ = ["FsService"]

_NAME_MAX = 255


class FsService(ServiceAdapter):
    """Lists, creates and deletes directories under ``work_dir``; each is a storager.

    Example:
        >>> async with aiostore.service("fs", work_dir="/srv") as svc:
        ...     store = await svc.create("photos")    # the directory /srv/photos
    """

    name: ClassVar[str] = "fs"

    def __init__(
        self,
        work_dir: str | os.PathLike[str] = ".",
        *,
        fsync: bool = False,
        chunk_size: int = MiB,
        xattrs: bool | None = None,
    ) -> None:
        self.options = FsOptions.parse(
            {"work_dir": work_dir, "fsync": fsync, "chunk_size": chunk_size, "xattrs": xattrs}
        )
        self._root = Root(self.options.work_dir)
        self._pooled = False

    def __repr__(self) -> str:
        return f"<FsService root={self._root.lexical!r}>"

    async def open(self) -> None:
        """Start using the loop's thread pool (shared with the stores of that loop)."""
        if not self._pooled:
            _pool.acquire()
            self._pooled = True

    async def aclose(self) -> None:
        """Stop using the thread pool; safe to call twice."""
        if self._pooled:
            self._pooled = False
            _pool.release()

    async def list(self) -> AsyncIterator[StoragerInfo]:
        for info in await run_io("list_storagers", None, self._list):
            yield info

    async def exists(self, name: str) -> bool:
        return await run_io("get_storager", name, self._exists, name)

    async def create(self, name: str) -> None:
        await run_io("create_storager", name, self._create, name)

    async def delete(self, name: str) -> None:
        await run_io("delete_storager", name, self._delete, name)

    def storager(self, name: str, work_dir: str) -> FsAdapter:
        _check_name(name)
        work_dir = _paths.dir_path(work_dir, "storager") if work_dir else ""
        return FsAdapter(
            os.path.join(self._root.lexical, name, *work_dir.split("/")),
            fsync=self.options.fsync,
            chunk_size=self.options.chunk_size,
            xattrs=self.options.xattrs,
            storager=(name, work_dir),
        )

    # -- blocking helpers, one thread hop each ----------------------------------
    def _list(self) -> builtins.list[StoragerInfo]:
        try:
            with os.scandir(self._root.real) as scanner:
                names = [entry.name for entry in scanner if self._is_storager(entry)]
        except FileNotFoundError:
            return []
        return [StoragerInfo(name=name) for name in sorted(names)]

    def _is_storager(self, entry: os.DirEntry[str]) -> bool:
        if entry.name.startswith(".") or not is_listable(entry.name):
            return False
        if entry.is_symlink() and not self._root.contains(os.path.realpath(entry.path)):
            return False
        return entry.is_dir()

    def _path(self, name: str, op: str) -> str:
        _check_name(name)
        path = os.path.join(self._root.real, name)
        if os.path.islink(path) and not self._root.contains(os.path.realpath(path)):
            raise PermissionDeniedError(
                "this storager is a symlink leading outside the root", op=op, path=name, adapter=ADAPTER
            )
        return path

    def _exists(self, name: str) -> bool:
        return os.path.isdir(self._path(name, "get_storager"))

    def _create(self, name: str) -> None:
        path = self._path(name, "create_storager")
        Root.make_dirs(self._root.real)
        os.mkdir(path)

    def _delete(self, name: str) -> None:
        path = self._path(name, "delete_storager")
        try:
            os.rmdir(path)
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise StoragerNotFoundError(f"no storager named {name!r}", path=name, adapter=ADAPTER) from exc
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            raise StorageError(
                f"storager {name!r} is not empty: delete its objects (and abort its uploads) first",
                path=name,
                adapter=ADAPTER,
            ) from exc


def _check_name(name: str) -> None:
    """A storager name is one plain directory name: no '/', not hidden, not '.' or '..'."""
    if (
        not isinstance(name, str)
        or not name
        or name.startswith(".")
        or "/" in name
        or os.sep in name
        or not is_listable(name)
        or len(name.encode("utf-8")) > _NAME_MAX
    ):
        raise InvalidArgumentError(f"invalid storager name {name!r}", path=str(name), adapter=ADAPTER)
