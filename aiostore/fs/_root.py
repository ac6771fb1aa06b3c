"""The root directory: mapping keys to real paths inside it, and nothing outside.

A key (``"a/b.txt"``, ``"a/"``, ``""``) is joined onto the root one segment at a
time; a segment that is a symlink is resolved and must still lie under the root,
otherwise `PermissionDeniedError`. Segments that do not exist yet are taken as
they are (nothing to follow). Hidden names the adapter uses for itself (temporary
files and the segment staging directory) are reserved.

Every method here blocks; the adapter calls them inside one thread hop.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import re
import stat
from collections.abc import Callable
from typing import TypeVar

from .._errors import InvalidPathError, PermissionDeniedError
from ._hop import ADAPTER

__all__ = ["STAGING", "Root", "is_listable", "is_reserved"]

T = TypeVar("T")
STAGING = ".aiostore-segments"
_TEMP = re.compile(r"\..*\.aiostore-[0-9a-f]{16}\.tmp", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_RETRIES = 8  # attempts to create a file whose parent a concurrent delete just pruned
_TEMP_STEM = 48  # characters of the final name kept in a temporary name (stays under NAME_MAX)
_TOKEN_MASK = (1 << 64) - 1
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_S_IFMT, _S_IFLNK = 0o170000, 0o120000  # stat.S_IFMT(mode) == stat.S_IFLNK, without the calls
_token_base = int.from_bytes(os.urandom(8), "big")
_token_counter = itertools.count()


def _new_token_base() -> None:
    global _token_base
    _token_base = int.from_bytes(os.urandom(8), "big")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_token_base)


def is_reserved(name: str, *, top: bool) -> bool:
    """Whether a directory entry is the adapter's own (never listed, never addressable)."""
    return (top and name == STAGING) or _TEMP.fullmatch(name) is not None


def is_listable(name: str) -> bool:
    """Whether a name on disk can be an aiostore path segment (valid UTF-8, no controls)."""
    if _CONTROL.search(name):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Root:
    """The adapter's root directory; ``real`` is resolved (symlinks followed) once."""

    def __init__(self, path: str) -> None:
        self.lexical = os.path.abspath(path)
        self._real: str | None = None
        self._base: str | None = None  # ``real`` without a trailing separator, once known

    @property
    def real(self) -> str:
        if self._real is None:
            real = os.path.realpath(self.lexical)
            self._base = real.rstrip(os.sep)
            self._real = real
        return self._real

    def contains(self, real: str) -> bool:
        root = self.real
        return real == root or real.startswith(root if root.endswith(os.sep) else root + os.sep)

    def resolve(self, key: str, *, op: str) -> str:
        """The real path of ``key``; `PermissionDeniedError` if a symlink leads outside.

        One ``lstat`` per segment and little else: this runs on every operation.
        """
        parts = key.split("/")
        if parts[-1] == "":
            parts.pop()
        if "\x00" in key or "/." in "/" + key or "//" in key or key.startswith("/"):
            _check_parts(parts, key, op)  # only segments with these can be refused
        current = self._base if self._base is not None else self.real.rstrip(os.sep)
        lstat = os.lstat
        for index, part in enumerate(parts):
            candidate = current + os.sep + part
            try:
                mode = lstat(candidate).st_mode
            except OSError:  # missing (or unreadable): nothing to follow from here on
                return os.sep.join([candidate, *parts[index + 1 :]])
            if mode & _S_IFMT == _S_IFLNK:
                candidate = self._follow(candidate, key, op)
            current = candidate
        return current or os.sep

    def _follow(self, link: str, key: str, op: str) -> str:
        real = os.path.realpath(link)
        if not self.contains(real):
            raise PermissionDeniedError(
                "a symlink in this path leads outside the root", op=op, path=key, adapter=ADAPTER
            )
        return real.rstrip(os.sep)

    def staging(self, *, op: str) -> str:
        """The real path of the segment staging directory (never a symlink)."""
        path = os.path.join(self.real, STAGING)
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISLNK(os.lstat(path).st_mode):
                raise PermissionDeniedError(f"{STAGING} must not be a symlink", op=op, adapter=ADAPTER)
        return path

    # -- creating and removing -------------------------------------------------
    def create_exclusive(self, path: str, mode: int = 0o666) -> int:
        """``open(O_CREAT | O_EXCL)``, creating the parents (mkdir -p, root too) if missing."""
        try:
            return os.open(path, _CREATE, mode)  # the usual case, without a closure
        except FileNotFoundError:
            directory = os.path.dirname(path)
        self.make_dirs(directory)
        return self.retry_in_dir(directory, lambda: os.open(path, _CREATE, mode))

    @staticmethod
    def make_dirs(directory: str) -> None:
        """mkdir -p; a file in the way is ENOTDIR (not EEXIST, which means "object exists")."""
        try:
            os.makedirs(directory, exist_ok=True)
        except FileExistsError as exc:
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)) from exc

    def retry_in_dir(self, directory: str, action: Callable[[], T]) -> T:
        """``action``, which needs ``directory``; when that is missing (never made, or
        pruned by a concurrent delete), mkdir -p it and try again.

        Trying first spares the usual case, a directory that exists, three system calls.
        """
        for attempt in range(_RETRIES):
            try:
                return action()
            except FileNotFoundError:
                # after our own mkdir, an existing directory means the error is another one
                if attempt == _RETRIES - 1 or (attempt and os.path.isdir(directory)):
                    raise
            self.make_dirs(directory)
        raise AssertionError("unreachable")

    def prune(self, directory: str) -> None:
        """Remove ``directory`` and its parents while they are empty, never the root."""
        while directory != self.real and self.contains(directory):
            try:
                os.rmdir(directory)
            except OSError:
                return
            directory = os.path.dirname(directory)

    @staticmethod
    def temp_for(final: str) -> str:
        """A hidden, unique temporary name in the same directory as ``final``.

        The token is a per-process random base plus a counter (new base after a
        fork): unique without a system call; O_EXCL refuses a clash anyway.
        """
        cut = final.rfind(os.sep) + 1
        token = (_token_base + next(_token_counter)) & _TOKEN_MASK
        return f"{final[:cut]}.{final[cut:][:_TEMP_STEM]}.aiostore-{token:016x}.tmp"

    @staticmethod
    def fsync_dir(directory: str) -> None:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _check_parts(parts: list[str], key: str, op: str) -> None:
    """Defence in depth: the core validated ``key``; refuse anything odd anyway."""
    for index, part in enumerate(parts):
        if part in ("", ".", "..") or "\x00" in part or os.sep in part:
            raise InvalidPathError(f"invalid path segment {part!r}", op=op, path=key, adapter=ADAPTER)
        if is_reserved(part, top=index == 0):
            raise InvalidPathError(
                f"{part!r} is a name the fs adapter reserves for itself", op=op, path=key, adapter=ADAPTER
            )
